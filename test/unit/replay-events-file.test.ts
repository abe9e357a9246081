import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEventLike } from '../../src/detection/types';
import { Detector } from '../../src/detection/detector';
import { lateAfterMs, planRun } from '../../src/detection/plan';
import { Scan } from '../../src/detection/scan';
import { emptyState, type CarriedState } from '../../src/detection/state';
import { dryRunEvents, dryRunFile, type DryRunOutput } from '../../src/replay/dry-run';
import { applyActions, replay, timeOrder, type TimedEvent } from '../../src/replay/engine';
import { EventsFileError, openEventsFile } from '../../src/replay/events-file';
import type { ReplayIncident } from '../../src/replay/incidents';
import { ACTIONS, NOISE, auditEvent, burst } from '../../sim/audit-events';
import { sampleDay } from '../../sim/sample-day';
import { argsFrom } from '../support/settings';

const dir = mkdtempSync(join(tmpdir(), 'audit-spike-events-file-'));
const args = argsFrom('');
const WIDE = { earliestMs: Date.parse('2000-01-01T00:00:00Z'), latestMs: Date.parse('2100-01-01T00:00:00Z') };
const DAY = 86_400_000;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** What a dry run decides, without the fields that describe the input's shape. */
const verdict = (output: DryRunOutput) => ({ incidents: output.incidents, suppressed: output.suppressed, sensitive: output.sensitiveEvents, runs: output.runs });

/** The replay before #22: every scheduled run simulated, one by one (the reference the skipping replay must equal). */
function everyRun(ordered: TimedEvent[]): { runs: number; incidents: ReplayIncident[] } {
  const { cadence } = args;
  const detector = new Detector(args.detection, cadence.latenessMs);
  const incidents = new Map<string, ReplayIncident>();
  let cursor = Math.floor(ordered[0].ts / cadence.intervalMs) * cadence.intervalMs;
  let state: CarriedState = emptyState(cursor);
  const until = ordered[ordered.length - 1].ts + detector.quietMs + cadence.latenessMs + cadence.intervalMs;
  let runs = 0;
  for (let scheduledAt = cursor + cadence.ingestionDelayMs + cadence.intervalMs; cursor <= until; scheduledAt += cadence.intervalMs) {
    const plan = planRun(cursor, scheduledAt, cadence);
    for (const window of plan.chunks) {
      const scan = Scan.start(detector, { orgId: args.orgId, window, runAt: scheduledAt, lateAfterMs: lateAfterMs(cadence) }, state);
      for (const { ts, event } of ordered) if (ts >= window.readFrom && ts < window.to) scan.add(event);
      const result = scan.finish();
      applyActions(incidents, result.actions);
      state = result.state;
    }
    cursor = plan.to;
    runs++;
  }
  return { runs, incidents: [...incidents.values()] };
}

/** Bursts days apart with noise between: long empty stretches, and bursts that straddle run edges. */
function gappy(): AuditEventLike[] {
  const t0 = Date.parse('2026-11-02T09:58:30Z');
  const noise = (at: number, i: number) => auditEvent(at, { email: `n${i}@example.com` }, NOISE[i % NOISE.length], `noise-${i}`);
  return [
    ...burst({ email: 'mallory@example.com' }, ACTIONS.roleGrant, 11, t0, 8 * 60_000),
    ...burst({ email: 'mallory@example.com' }, ACTIONS.apiKeyCreate, 3, t0 + 60_000, 60_000),
    noise(t0 + 3 * 3_600_000, 1),
    ...burst({ email: 'ops@example.com' }, ACTIONS.monitorDelete, 6, t0 + 2 * DAY + 1, 9 * 60_000),
    // The same actor again after a long quiet: a second incident.
    ...burst({ email: 'mallory@example.com' }, ACTIONS.roleGrant, 3, t0 + 3 * DAY + 299_000, 2_000),
    noise(t0 + 9 * DAY, 2),
    ...burst({ apiKeyId: 'k1' }, ACTIONS.pipelineDelete, 1, t0 + 9 * DAY + 1, 0),
  ];
}

describe('the replay skips empty stretches (#22.5): its cost follows the events, not the calendar', () => {
  test('the same incidents and runs as simulating every run, for far fewer simulated runs', () => {
    const { ordered } = timeOrder(gappy());
    const reference = everyRun(ordered);
    const report = replay(ordered, args);
    expect(reference.incidents.length).toBe(4);
    expect(report.incidents).toEqual(reference.incidents);
    expect(report.runs).toBe(reference.runs);
    expect(report.runsSimulated).toBeLessThan(reference.runs / 20);
  });

  test('one event in the year 9999 or in 1970 costs a handful of runs, not millions', () => {
    const far = [auditEvent('9999-12-31T00:00:00Z', { email: 'a@example.com' }, ACTIONS.monitorDelete),
      ...burst({ email: 'a@example.com' }, ACTIONS.monitorDelete, 3, Date.parse('2026-11-24T10:00:00Z'), 60_000)];
    const started = Date.now();
    const output = dryRunEvents(far, 0, args);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(output.runs).toBeGreaterThan(800_000_000);
    expect(output.runsSimulated).toBeLessThan(20);
    expect(output.incidents.map((i) => i.firstSeen)).toEqual(['2026-11-24T10:00:00.000Z', '9999-12-31T00:00:00.000Z']);
    const old = dryRunEvents([auditEvent(0, { email: 'a@example.com' }, ACTIONS.monitorDelete), ...far.slice(1)], 0, args);
    expect(old.runs).toBeGreaterThan(5_000_000);
    expect(old.runsSimulated).toBeLessThan(20);
  });
});

describe('the events file is read in the shapes a user has (#26), in chunks, in time order (#22.5)', () => {
  const events = sampleDay({ end: new Date('2026-11-24T18:00:00Z') });
  const jsonl = write('day.jsonl', `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const reference = dryRunFile(jsonl, WIDE, args);

  test('the reference day pages its five bursts', () => {
    expect(reference.incidents).toHaveLength(5);
    expect(reference).toMatchObject({ eventsRead: events.length, eventsSkipped: 0, format: 'json-lines', inputProblem: null });
  });

  const page = (slice: unknown[], cursor?: string) => ({ data: slice, meta: { page: { after: cursor ?? null }, status: 'done' }, links: { next: cursor ? `x?page[cursor]=${cursor}` : undefined } });
  const third = Math.ceil(events.length / 3);
  const pages = [page(events.slice(0, third), 'a'), page(events.slice(third, 2 * third), 'b'), page(events.slice(2 * third))];
  const shapes: Array<[string, string, string]> = [
    ['one saved API response on one line', JSON.stringify(page(events)), 'api-response'],
    ['one saved API response, pretty-printed', JSON.stringify(page(events), null, 2), 'api-response'],
    ['three pages, one per line', pages.map((p) => JSON.stringify(p)).join('\n'), 'api-response'],
    ['three pretty-printed pages one after the other', pages.map((p) => JSON.stringify(p, null, 2)).join('\n'), 'api-response'],
    ['three pages run together', pages.map((p) => JSON.stringify(p)).join(''), 'api-response'],
    ['a page with one compact event per line', `{"data": [\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n], "meta": {}}\n`, 'api-response'],
    ['a JSON array', JSON.stringify(events), 'json-array'],
    ['a pretty-printed JSON array', JSON.stringify(events, null, 4), 'json-array'],
    ['JSON Lines with CRLF and a byte order mark', `\ufeff${events.map((e) => JSON.stringify(e)).join('\r\n')}\r\n`, 'json-lines'],
  ];
  test.each(shapes)('%s gives the same verdict as JSON Lines', (name, text, format) => {
    const file = write(`${name.replace(/\W+/g, '-')}.json`, text);
    // Small chunks cross every edge; nothing kept parsed reads every event again by offset.
    for (const options of [{ chunkBytes: 701, keepParsedBytes: 0 }, {}]) {
      const output = dryRunFile(file, { ...WIDE, ...options }, args);
      expect({ format: output.format, read: output.eventsRead, skipped: output.eventsSkipped }).toEqual({ format, read: events.length, skipped: 0 });
      expect(verdict(output)).toEqual(verdict(reference));
    }
  });

  test('a file out of time order (newest first, or shuffled) gives the same verdict', () => {
    const newestFirst = write('newest-first.jsonl', [...events].reverse().map((e) => JSON.stringify(e)).join('\n'));
    expect(verdict(dryRunFile(newestFirst, { ...WIDE, keepParsedBytes: 0 }, args))).toEqual(verdict(reference));
    const shuffled = events.map((e, i) => ({ e, k: (i * 7919) % 1009 })).sort((a, b) => a.k - b.k).map(({ e }) => e);
    const file = write('shuffled.json', JSON.stringify({ data: shuffled }, null, 1));
    expect(verdict(dryRunFile(file, { ...WIDE, chunkBytes: 1000 }, args))).toEqual(verdict(reference));
  });

  test('strings with escaped quotes and backslashes across chunk edges; broken lines are counted, one each', () => {
    const tricky = events.slice(0, 40).map((e, i) => ({ ...e, attributes: { ...e.attributes, message: `say \\"hi\\" ${'\\'.repeat(i % 5)}" {[}]} "data": [` } }));
    const lines = tricky.map((e) => JSON.stringify(e));
    const text = [...lines.slice(0, 20), 'not json', '{"id":"cut","type":"audit","attributes":{"times', '', '42', '[1, {"x": 1}]', ...lines.slice(20)].join('\n');
    const file = write('tricky.jsonl', text);
    for (const chunkBytes of [7, 64, 333, 65_536]) {
      const read = openEventsFile(file, { ...WIDE, chunkBytes });
      try {
        expect({ size: read.size, read: read.read, skipped: read.skipped }).toEqual({
          size: 40, read: 45, skipped: { notJson: 3, notAnEvent: 2, noTimestamp: 0, implausibleTimestamp: 0 },
        });
        expect(Array.from({ length: read.size }, (_, i) => read.eventAt(i).attributes?.message)).toEqual(
          [...tricky].sort((a, b) => Date.parse(a.attributes.timestamp) - Date.parse(b.attributes.timestamp)).map((e) => e.attributes.message));
      } finally {
        read.close();
      }
    }
  });

  test('a file with more usable events than the limit stops with a clear error', () => {
    expect(() => openEventsFile(jsonl, { ...WIDE, maxEvents: 100 })).toThrow(EventsFileError);
    expect(() => openEventsFile(jsonl, { ...WIDE, maxEvents: 100 })).toThrow(/more than 100 usable events; the replay keeps 24 bytes per event.*Split the file by time/);
  });

  test('implausible timestamps are skipped, counted and warned about; most skipped is no verdict', () => {
    const far = [auditEvent('9999-12-31T00:00:00Z', { email: 'a@example.com' }, ACTIONS.monitorDelete), auditEvent(1_732_442_462, { email: 'a@example.com' }, ACTIONS.monitorDelete)];
    const some = write('some-implausible.jsonl', [...events, ...far].map((e) => JSON.stringify(e)).join('\n'));
    const output = dryRunFile(some, { earliestMs: Date.parse('2000-01-01T00:00:00Z'), latestMs: Date.parse('2027-01-01T00:00:00Z') }, args);
    expect(output).toMatchObject({ eventsRead: events.length + 2, eventsSkipped: 2, inputProblem: null, skipped: { implausibleTimestamp: 2 } });
    expect(verdict(output).incidents).toEqual(reference.incidents);
    expect(output.warnings).toEqual([expect.stringContaining('2 events skipped for an implausible timestamp (1970-01-21T01:14:02.462Z … 9999-12-31T00:00:00.000Z)')]);
    expect(output.warnings[0]).toContain('epoch seconds');
    const only = write('only-implausible.jsonl', far.map((e) => JSON.stringify(e)).join('\n'));
    expect(dryRunFile(only, { earliestMs: Date.parse('2000-01-01T00:00:00Z'), latestMs: Date.parse('2027-01-01T00:00:00Z') }, args).inputProblem)
      .toContain('none of the 2 events read has a usable timestamp (2 with an implausible timestamp)');
  });
});
