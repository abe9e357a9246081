import { parseConfigText } from '../../src/config/load';
import { createDatadogAuditClient } from '../../src/activities/datadog-client';
import { DEFAULT_RETENTION_MS, planRun } from '../../src/detection/plan';
import { runBacktest } from '../../src/replay/backtest';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { ACTIONS, burst } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

/** Audit Trail retention: "seven days… between three and 90 days" (docs.datadoghq.com/account_management/audit_trail/). */

const MIN = 60_000;
const DAY = 86_400_000;
const cadence = argsFrom('').cadence;

test('datadog.retention defaults to 7d and accepts 3d..90d, saying what it is when out of range', () => {
  expect(argsFrom('').datadog.retentionMs).toBe(DEFAULT_RETENTION_MS);
  expect(argsFrom('datadog:\n  retention: 30d\n').datadog.retentionMs).toBe(30 * DAY);
  for (const bad of ['1d', '91d']) {
    expect(() => parseConfigText(`datadog:\n  retention: ${bad}\n`, 'test.yaml')).toThrow(/datadog\.retention \(line 2\): must be between 3d and 90d: the retention set for Audit Trail/);
  }
});

test('a catch-up reaching past the retention reads from the horizon and says so, with the date', () => {
  const at = Date.parse('2026-12-01T12:00:00Z');
  const plan = planRun(at - 10 * DAY, at, { ...cadence, maxCatchUpMs: 30 * DAY, maxChunksPerRun: 500 }, 3 * DAY);
  expect(plan.chunks[0].from).toBe(at - 3 * DAY);
  expect(plan.abandoned).toEqual({ from: at - 10 * DAY, to: at - 3 * DAY });
  expect(plan.abandonedReason).toBe('Datadog keeps audit events for 3d (datadog.retention): the events from 2026-11-21T12:00:00.000Z to 2026-11-28T12:00:00.000Z are gone and cannot be read; reading from 2026-11-28T12:00:00.000Z');
  // Within the retention, the plan is what it always was.
  expect(planRun(at - 2 * DAY, at, { ...cadence, maxChunksPerRun: 500 }, 3 * DAY).abandoned).toBeUndefined();
  expect(planRun(at - 10 * DAY, at, cadence, 30 * DAY).abandonedReason).toMatch(/longer than schedule\.maxCatchUp \(7d\)/);
});

describe('a backtest past the retention', () => {
  let sim: DatadogSimulator;
  beforeAll(async () => {
    sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
  });
  afterAll(async () => {
    await sim.stop();
  });

  test('says plainly what is gone and the date Datadog can be read from; within it, says nothing', async () => {
    const now = Date.now();
    const args = { ...argsFrom(''), datadog: { ...argsFrom('').datadog, baseUrl: sim.url } };
    const dd = createDatadogAuditClient(args.datadog, { DD_API_KEY: sim.apiKey, DD_APP_KEY: sim.appKey });
    // Mallory's burst 8 days ago is past the simulator's retention (7 days, as Datadog's default): gone.
    sim.addEvents(burst({ email: 'mallory@example.com' }, ACTIONS.roleGrant, 5, now - 8 * DAY, 2 * MIN));
    const old = await runBacktest({ args, fromMs: now - 8 * DAY - 10 * MIN, toMs: now - 8 * DAY + 20 * MIN, nowMs: now, datadog: dd, hooks: { sleep: async () => undefined } });
    expect(old.incidents).toEqual([]);
    expect(old.warnings).toEqual([expect.stringMatching(/^Datadog keeps audit events for 7d \(datadog\.retention\), so the events from \S+ to \S+ are gone: .* Datadog can be read from \S+Z: backtest from then on/)]);
    expect(old.warnings![0]).toContain(new Date(now - 7 * DAY).toISOString());
    const recent = await runBacktest({ args, fromMs: now - 60 * MIN, toMs: now, nowMs: now, datadog: dd, hooks: { sleep: async () => undefined } });
    expect(recent.warnings).toEqual([]);
  });
});
