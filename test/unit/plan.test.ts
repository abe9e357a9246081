import { planRun, type CadenceSettings } from '../../src/detection/plan';

const MIN = 60_000;
const cadence: CadenceSettings = {
  intervalMs: 5 * MIN, ingestionDelayMs: MIN, latenessMs: 5 * MIN, lookbackMs: 15 * MIN, maxChunkMs: 30 * MIN, maxChunksPerRun: 4, maxCatchUpMs: 24 * 60 * MIN,
};
const at = Date.parse('2026-11-24T10:05:00Z');

test('first run reads the look-back up to the scheduled time minus the ingestion delay, without overlap', () => {
  const plan = planRun(undefined, at, cadence);
  expect(plan.chunks).toEqual([{ readFrom: at - 16 * MIN, from: at - 16 * MIN, to: at - MIN }]);
  expect(plan.to).toBe(at - MIN);
});

test('a later run reads from the cursor, re-reading the lateness overlap', () => {
  const cursor = at - 6 * MIN;
  const plan = planRun(cursor, at, cadence);
  expect(plan.chunks).toEqual([{ readFrom: cursor - 5 * MIN, from: cursor, to: at - MIN }]);
});

test('an hour of downtime is read in bounded chunks, only the first re-reading the overlap', () => {
  const cursor = at - 61 * MIN;
  const plan = planRun(cursor, at, cadence);
  expect(plan.chunks.map((c) => (c.to - c.from) / MIN)).toEqual([30, 30]);
  expect(plan.chunks[1].readFrom).toBe(plan.chunks[1].from);
  expect(plan.remainingMs).toBe(0);
});

test('a gap longer than maxChunksPerRun chunks is finished by the next runs', () => {
  const cursor = at - 4 * 60 * MIN - MIN;
  const plan = planRun(cursor, at, cadence);
  expect(plan.chunks).toHaveLength(4);
  expect(plan.to).toBe(cursor + 120 * MIN);
  expect(plan.remainingMs).toBe(120 * MIN);
});

test('a gap beyond maxCatchUp is abandoned and reported', () => {
  const cursor = at - 48 * 60 * MIN;
  const plan = planRun(cursor, at, { ...cadence, maxChunksPerRun: 500 });
  expect(plan.abandoned).toEqual({ from: cursor, to: at - MIN - 24 * 60 * MIN });
  expect(plan.chunks[0].from).toBe(at - MIN - 24 * 60 * MIN);
});

test('a run due before the cursor (manual trigger right after a run) reads nothing and keeps the cursor', () => {
  const cursor = at;
  const plan = planRun(cursor, at + 10_000, cadence);
  expect(plan.chunks).toHaveLength(0);
  expect(plan.to).toBe(cursor);
});
