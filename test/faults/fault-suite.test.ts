import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from '../support/stack';
import { startStackWithWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { playScenario, type ScenarioOutcome } from './driver';
import { phaseOffsetMs } from '../../src/config/phase-offset';
import { INTERVAL, makeScenario } from './scenarios';

/**
 * The fault suite: seeded randomized scenarios against a real Temporal dev server, the product's worker in a child
 * process, and both simulators. Each scenario's incidents are compared with the bursts it planted: 0 missed, 0 duplicated.
 * About a quarter of the scenarios (drawn by the seed) are located (catalog v3): their events carry geoip and they also
 * plant careful attackers, a new-country sensitive change and/or an impossible-travel pair, each paged exactly once.
 * FAULT_SEED and FAULT_SCENARIOS choose the suite; the summary goes to test-results/faults-summary.json.
 */
const SEED = Number(process.env.FAULT_SEED ?? 20261125);
const SCENARIOS = Number(process.env.FAULT_SCENARIOS ?? 80);

describe(`fault suite (seed ${SEED}, ${SCENARIOS} scenarios)`, () => {
  let stack: Stack;
  let worker: WorkerProcess;
  const outcomes: ScenarioOutcome[] = [];
  // Scenarios live in disjoint stretches of the past, starting at a 5-minute boundary.
  const base = Math.floor((Date.now() - (SCENARIOS * 2 + 6) * 3_600_000) / INTERVAL) * INTERVAL;

  beforeAll(async () => {
    ({ stack, worker } = await startStackWithWorkerProcess());
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    worker?.close();
    const total = outcomes.reduce(
      (sum, o) => ({
        faults: sum.faults + o.faultsInjected, expected: sum.expected + o.expected, paged: sum.paged + o.paged, missed: sum.missed + o.missed, duplicated: sum.duplicated + o.duplicated,
        locatedScenarios: sum.locatedScenarios + (o.locatedExpected ? 1 : 0), locatedExpected: sum.locatedExpected + o.locatedExpected, locatedPaged: sum.locatedPaged + o.locatedPaged,
      }),
      { faults: 0, expected: 0, paged: 0, missed: 0, duplicated: 0, locatedScenarios: 0, locatedExpected: 0, locatedPaged: 0 },
    );
    // `expected` counts every incident planted: the bursts and, in located scenarios, the careful attackers (new country,
    // impossible travel), which the line also states on their own.
    const line = `faults: ${outcomes.length} scenarios, ${total.faults} faults injected, ${total.expected - total.locatedExpected} bursts expected` +
      `${total.locatedScenarios ? ` + ${total.locatedExpected} located attackers expected (${total.locatedScenarios} located scenarios; ${total.locatedPaged} of their incidents paged)` : ''}` +
      `, ${total.paged} paged, ${total.missed} missed, ${total.duplicated} duplicated`;
    mkdirSync('test-results', { recursive: true });
    writeFileSync(join('test-results', 'faults-summary.json'), JSON.stringify({ seed: SEED, line, ...total, scenarios: outcomes.map(({ runs, ...o }) => ({ ...o, runs: runs.length })) }, null, 2));
    await stack?.stop();
  }, 120_000);

  const only = process.env.FAULT_ONLY?.split(',').map(Number);
  for (let index = 0; index < SCENARIOS; index++) {
    if (only && !only.includes(index)) continue;
    const scenario = makeScenario(SEED, index, 0);
    test(scenario.label, async () => {
      // Each org's Schedule ticks at its own phase (#24, src/config/phase-offset.ts): the whole scenario moves with it, so
      // the suite's backfills land on real ticks and every timing relative to the runs stays as planted.
      const outcome = await playScenario(stack, worker, makeScenario(SEED, index, base + phaseOffsetMs(`f${index}`, INTERVAL)));
      outcomes.push(outcome);
      expect(outcome.problems).toEqual([]);
      expect(outcome.missed).toBe(0);
      expect(outcome.duplicated).toBe(0);
      // Every run reads on from its predecessor's cursor: the runs tile time with no gap, except what a run reports it
      // abandoned (past the retention), which starts at that cursor and ends where the run reads from.
      for (let i = 1; i < outcome.runs.length; i++) {
        const { abandoned, window } = outcome.runs[i];
        if (abandoned) {
          expect(Date.parse(abandoned.from)).toBe(outcome.runs[i - 1].cursor);
          expect(window.from).toBe(abandoned.to);
        } else {
          expect(Date.parse(window.from)).toBe(outcome.runs[i - 1].cursor);
        }
      }
    }, 600_000);
  }
});
