import { parseFleetText } from '../../src/config/fleet';
import type { ResolvedConfig } from '../../src/config/resolve';
import {
  MANAGED_BY, RateLimiter, formatRunOutcome, phaseOffsetMs, recentRunOutcomes, reconcileSchedules, scheduleOptions, type ReconcileChange,
} from '../../src/schedule';
import { ACTIONS, burst } from '../../sim/audit-events';
import { startStack, triggerAndWait, type Stack } from '../support/stack';

const FIVE_MIN = 300_000;
/** The fleet's runs go to a task queue no worker polls: this test is about Schedules, not runs. */
const FLEET_QUEUE = 'audit-spike-fleet-e2e';

function fleet(orgs: string[], extra = ''): ResolvedConfig[] {
  return parseFleetText(
    [`schedule: { taskQueue: ${FLEET_QUEUE} }`, 'pagerduty: { routingKeyEnv: PAGERDUTY_ROUTING_KEY }', extra, 'orgs:', ...orgs.map((org) => `  - org: ${org}`)].join('\n'),
    'fleet.yaml',
  );
}

/** A limiter that counts the requests it lets through, and can stop the apply after `failAfter` of them (an interruption). */
class CountingLimiter extends RateLimiter {
  requests = 0;
  failAfter = Infinity;
  override async take(count = 1): Promise<void> {
    if (this.requests + count > this.failAfter) throw new Error('interrupted (test)');
    this.requests += count;
    await super.take(count);
  }
}

const tally = (changes: ReconcileChange[]) => changes.reduce<Record<string, number>>((t, c) => ({ ...t, [c.outcome]: (t[c.outcome] ?? 0) + 1 }), {});

describe('schedule apply for a fleet: spread over the interval, paced, idempotent and resumable', () => {
  let stack: Stack;
  const orgs = Array.from({ length: 200 }, (_, i) => `fleet-${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  async function waitListed(count: number): Promise<void> {
    // Listing Schedules goes through visibility, which lags a little behind creation.
    const deadline = Date.now() + 30_000;
    for (;;) {
      let listed = 0;
      for await (const s of stack.client.schedule.list()) if (s.memo?.managedBy === MANAGED_BY) listed++;
      if (listed === count || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  test('200 orgs created at 10 requests/s, each at its own offset; again: nothing to do and no request but the listing', async () => {
    const limiter = new CountingLimiter(10);
    const started = Date.now();
    const changes = await reconcileSchedules(stack.client, fleet(orgs), { limiter, concurrency: 8 });
    const seconds = (Date.now() - started) / 1000;
    expect(tally(changes)).toEqual({ created: 200 });
    // One listing plus one create per org (and a retry of any create a busy server failed for a moment, also paced):
    // 201 requests at 10/s take at least 20 s, and the server keeps up.
    expect(limiter.requests).toBeGreaterThanOrEqual(201);
    expect(limiter.requests).toBeLessThan(221);
    expect(seconds).toBeGreaterThanOrEqual(20);
    expect(seconds).toBeLessThan(40);
    process.stdout.write(`schedule apply: 200 orgs created in ${seconds.toFixed(1)}s at 10 requests/s (10,000 orgs: ${(seconds * 50 / 60).toFixed(1)} min at this pace)\n`);

    // What the server holds: the offset of each org, and next runs spread across the 5 minutes.
    const offsets = new Set<number>();
    for (const org of orgs.slice(0, 20)) {
      const description = await stack.client.schedule.getHandle(`audit-spike-${org}`).describe();
      expect(description.spec.intervals).toEqual([{ every: FIVE_MIN, offset: phaseOffsetMs(org, FIVE_MIN) }]);
      for (const next of description.info.nextActionTimes) expect(next.getTime() % FIVE_MIN).toBe(phaseOffsetMs(org, FIVE_MIN));
      offsets.add(phaseOffsetMs(org, FIVE_MIN));
    }
    expect(offsets.size).toBeGreaterThan(15);

    await waitListed(200);
    const again = new CountingLimiter(10);
    expect(tally(await reconcileSchedules(stack.client, fleet(orgs), { limiter: again }))).toEqual({ unchanged: 200 });
    expect(again.requests).toBe(1);
  }, 120_000);

  test('an interrupted apply is finished by running it again; a changed config updates in place; stale orgs are deleted', async () => {
    // A rule change for all 200 and 30 new orgs, interrupted after 61 requests.
    const changed = fleet([...orgs, ...Array.from({ length: 30 }, (_, i) => `fleet-new-${i}`)], 'detection:\n  rules:\n    - { id: role_grant, tiers: [{ count: 4, severity: error }] }');
    const interrupted = new CountingLimiter(100);
    interrupted.failAfter = 61;
    const partial: ReconcileChange[] = [];
    await expect(reconcileSchedules(stack.client, changed, { limiter: interrupted, onChange: (c) => partial.push(c) })).rejects.toThrow(/interrupted/);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(230);

    await new Promise((resolve) => setTimeout(resolve, 2000)); // visibility catches up with the updates
    const resumed = await reconcileSchedules(stack.client, changed, { limiter: new CountingLimiter(100) });
    const done = tally([...partial, ...resumed.filter((c) => c.outcome !== 'unchanged')]);
    expect(done).toEqual({ updated: 200, created: 30 });
    // Every Schedule now holds the changed config.
    const sample = await stack.client.schedule.getHandle('audit-spike-fleet-007').describe();
    const args = (sample.action as { args: Array<{ detection: { rules: Array<{ id: string; tiers: Array<{ count: number }> }> } }> }).args[0];
    expect(args.detection.rules.find((r) => r.id === 'role_grant')?.tiers[0].count).toBe(4);

    // The same config without 100 of the orgs: those are deleted, and an audit-spike Schedule on another queue is kept.
    await stack.client.schedule.create({ ...scheduleOptions(stack.config('', 'elsewhere')) });
    await waitListed(231);
    const pruned = await reconcileSchedules(stack.client, changed.slice(100), { limiter: new CountingLimiter(100) });
    expect(tally(pruned)).toEqual({ unchanged: 130, deleted: 100 });
    await expect(stack.client.schedule.getHandle('audit-spike-fleet-000').describe()).rejects.toThrow();
    await stack.client.schedule.getHandle('audit-spike-elsewhere').describe();
  }, 180_000);

  test('describe shows how each recent run ended: paged (and the severity), quiet or failed', async () => {
    await stack.startWorker();
    const config = stack.config('schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n', 'outcomes');
    await reconcileSchedules(stack.client, [config], { prune: false });
    const scheduleId = config.schedule.scheduleId;

    const now = Date.now();
    stack.datadog.addEvents(burst({ id: 'u-m', email: 'mallory@example.com', name: 'Mallory' }, ACTIONS.roleGrant, 11, now - 8 * 60_000, 4 * 60_000));
    const paging = await triggerAndWait(stack.client, scheduleId);
    expect(paging.incidents.map((i) => [i.kind, i.severity])).toEqual([['trigger', 'critical']]);
    const quiet = await triggerAndWait(stack.client, scheduleId);
    expect(quiet.incidents.filter((i) => i.kind === 'trigger')).toEqual([]);
    // A run that fails: the Schedule's arguments broken by hand (what `apply` would refuse to write).
    await stack.client.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      action: { ...(previous.action as object), args: [{ orgId: 'outcomes' }] } as typeof previous.action,
    }));
    await triggerAndWait(stack.client, scheduleId).catch(() => undefined);

    const description = await stack.client.schedule.getHandle(scheduleId).describe();
    const outcomes = await recentRunOutcomes(stack.client, description);
    expect(outcomes.map((o) => [o.outcome, o.severity, o.source])).toEqual([
      ['paged', 'critical', 'search attributes'],
      ['quiet', undefined, 'search attributes'],
      ['failed', undefined, 'status'],
    ]);
    expect(outcomes[0].eventsRead).toBe(11);
    expect(outcomes[2].failure).toMatch(/arguments are invalid/);
    const lines = outcomes.map(formatRunOutcome);
    expect(lines[0]).toMatch(/paged \(critical\), 11 events read {2}audit-spike-outcomes-/);
    expect(lines[1]).toMatch(/ quiet, \d+ events read /);
    expect(lines[2]).toMatch(/failed: .*arguments are invalid/);
  }, 180_000);
});
