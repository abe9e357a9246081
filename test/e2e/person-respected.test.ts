import { applySchedule } from '../../src/schedule';
import type { RunResult } from '../../src/workflows/run-result';
import { ACTIONS, burst } from '../../sim/audit-events';
import { triggerAndWait, withStackAndWorker, type Stack } from '../support/stack';

const MIN = 60_000;
/** A role granted that is not the Datadog Admin Role (that one is critical at once): error at 3, critical at 10. */
const ROLE_GRANT = { ...ACTIONS.roleGrant, assetName: 'Billing Admins' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BASE_YAML = 'schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n';
const REST_YAML = `${BASE_YAML}pagerduty:\n  mode: rest\n  serviceId: PSEC001\n  escalationPolicyId: PSECEP1\n  fromEmail: audit-spike@example.com\n`;

/**
 * A person acknowledges or resolves an incident in PagerDuty while its burst goes on. audit-spike must not fail, stop or
 * page that burst again (unless its severity rises), and must go on paging other actors' bursts.
 */
describe('a person in PagerDuty is respected, on a real Temporal dev server', () => {
  let stack: Stack;
  withStackAndWorker((started) => (stack = started));

  async function run(scheduleId: string): Promise<RunResult> {
    // Runs started by hand one after the other need distinct start times (the next run continues from the newest one).
    await sleep(1_100);
    return triggerAndWait(stack.client, scheduleId);
  }

  const outcomesOf = (result: RunResult) => result.incidents.map((i) => [i.kind, i.actor, i.outcome?.result]);

  test('Events mode: resolved mid-burst, the burst is not paged again; another actor still is; nothing pages twice', async () => {
    stack.datadog.clear();
    stack.pagerduty.clear();
    const mallory = { id: 'u-mal', email: 'mallory@example.com', name: 'Mallory' };
    const bob = { id: 'u-bob', email: 'bob@example.com', name: 'Bob' };
    const now = Date.now();
    stack.datadog.addEvents(burst(mallory, ROLE_GRANT, 4, now - 6 * MIN, 2 * MIN));
    const config = stack.config(BASE_YAML, 'person-events');
    await applySchedule(stack.client, config);
    const scheduleId = config.schedule.scheduleId;

    const first = await run(scheduleId);
    expect(outcomesOf(first)).toEqual([['trigger', 'mallory@example.com', 'opened']]);
    const malloryKey = first.incidents[0].dedupKey;
    stack.pagerduty.personResolves(malloryKey);

    // Mallory goes on at the same severity (6 grants: still error); Bob starts his own burst.
    stack.datadog.addEvents([...burst(mallory, ROLE_GRANT, 2, Date.now() - 40_000, 10_000), ...burst(bob, ACTIONS.apiKeyCreate, 3, Date.now() - 40_000, 20_000)]);
    await sleep(6_000);
    const second = await run(scheduleId);
    expect(outcomesOf(second).sort()).toEqual([['trigger', 'bob@example.com', 'opened'], ['update', 'mallory@example.com', 'skipped']]);
    const skipped = second.incidents.find((i) => i.actor === 'mallory@example.com')!;
    expect(skipped.outcome!.detail).toMatch(/^not re-sent: severity still error/);
    expect(skipped.counts).toEqual({ role_grant: 6 });
    expect(second.report).toMatch(/paged 1: bob@example.com \(error\)/);
    expect(second.report).toMatch(/update mallory@example.com skipped: not re-sent/);

    // A quiet run after that: still nothing new.
    const third = await run(scheduleId);
    expect(third.incidents).toEqual([]);
    const paged = stack.pagerduty.incidents.map((i) => [(i.alerts[0].payload as { custom_details: { actor: string } }).custom_details.actor, i.status]);
    expect(paged).toEqual([['mallory@example.com', 'resolved'], ['bob@example.com', 'triggered']]);
  }, 120_000);

  test('REST mode: nothing is PUT on a resolved incident; an acknowledged one keeps its person; a severity rise pages again', async () => {
    stack.datadog.clear();
    stack.pagerduty.clear();
    const carol = { id: 'u-carol', email: 'carol@example.com', name: 'Carol' };
    const dave = { id: 'u-dave', email: 'dave@example.com', name: 'Dave' };
    const erin = { id: 'u-erin', email: 'erin@example.com', name: 'Erin' };
    const now = Date.now();
    stack.datadog.addEvents([...burst(carol, ROLE_GRANT, 4, now - 6 * MIN, 2 * MIN), ...burst(erin, ACTIONS.apiKeyCreate, 3, now - 6 * MIN, 2 * MIN)]);
    const config = stack.config(REST_YAML, 'person-rest');
    await applySchedule(stack.client, config);
    const scheduleId = config.schedule.scheduleId;

    const first = await run(scheduleId);
    expect(outcomesOf(first).sort()).toEqual([['trigger', 'carol@example.com', 'opened'], ['trigger', 'erin@example.com', 'opened']]);
    const keyOf = (actor: string) => first.incidents.find((i) => i.actor === actor)!.dedupKey;
    const carolIncident = stack.pagerduty.personResolves(keyOf('carol@example.com'));
    stack.pagerduty.personAcknowledges(keyOf('erin@example.com'), 'bo@example.com');

    stack.datadog.addEvents([
      ...burst(carol, ROLE_GRANT, 2, Date.now() - 40_000, 10_000),
      ...burst(erin, ACTIONS.apiKeyCreate, 1, Date.now() - 40_000, 0),
      ...burst(dave, ACTIONS.apiKeyCreate, 3, Date.now() - 40_000, 20_000),
    ]);
    await sleep(6_000);
    const second = await run(scheduleId);
    expect(outcomesOf(second).sort()).toEqual([
      ['trigger', 'dave@example.com', 'opened'],
      ['update', 'carol@example.com', 'skipped'],
      ['update', 'erin@example.com', 'updated'],
    ]);
    expect(second.incidents.find((i) => i.actor === 'carol@example.com')!.outcome).toMatchObject({
      detail: 'resolved in PagerDuty by a person; not paged again (severity still error)', incidentId: carolIncident.id,
    });

    // Carol reaches the critical tier (10 grants): a rise above what was paged, so a new page.
    stack.datadog.addEvents(burst(carol, ROLE_GRANT, 4, Date.now() - 30_000, 10_000));
    await sleep(6_000);
    const third = await run(scheduleId);
    const rise = third.incidents.find((i) => i.actor === 'carol@example.com')!;
    expect([rise.kind, rise.severity, rise.outcome?.result]).toEqual(['update', 'critical', 'opened']);

    const requests = stack.pagerduty.requests;
    expect(requests.filter((r) => r.method === 'PUT' && r.path === `/incidents/${carolIncident.id}`)).toEqual([]);
    expect(requests.filter((r) => r.status >= 400)).toEqual([]);
    const incidents = stack.pagerduty.incidents;
    const byKey = (key: string) => incidents.filter((i) => i.dedupKey === key).map((i) => i.status);
    expect(byKey(keyOf('carol@example.com'))).toEqual(['resolved', 'triggered']);
    expect(byKey(keyOf('erin@example.com'))).toEqual(['acknowledged']);
    expect(incidents.find((i) => i.dedupKey === keyOf('erin@example.com'))!.notes).toHaveLength(1);
    expect(incidents.filter((i) => i.dedupKey === second.incidents.find((x) => x.actor === 'dave@example.com')!.dedupKey)).toHaveLength(1);
    // Exactly one assignee each, never the From user.
    expect(incidents.every((i) => i.assignees.length === 1 && i.assignees[0] !== 'PUSRBOT')).toBe(true);
  }, 150_000);

  test('a rejected update is reported and the run goes on: other actors are paged, later runs update again', async () => {
    stack.datadog.clear();
    stack.pagerduty.clear();
    const frank = { id: 'u-frank', email: 'frank@example.com', name: 'Frank' };
    const gina = { id: 'u-gina', email: 'gina@example.com', name: 'Gina' };
    stack.datadog.addEvents(burst(frank, ROLE_GRANT, 4, Date.now() - 6 * MIN, 2 * MIN));
    const config = stack.config(REST_YAML, 'person-rejected');
    await applySchedule(stack.client, config);
    const scheduleId = config.schedule.scheduleId;
    expect(outcomesOf(await run(scheduleId))).toEqual([['trigger', 'frank@example.com', 'opened']]);

    // PagerDuty refuses Frank's note (a 400 is not retried); Gina's new burst arrives in the same run.
    stack.pagerduty.failNext(400, 100, { route: '^POST /incidents/\\w+/notes$' });
    stack.datadog.addEvents([...burst(frank, ROLE_GRANT, 1, Date.now() - 40_000, 0), ...burst(gina, ACTIONS.apiKeyCreate, 3, Date.now() - 40_000, 20_000)]);
    await sleep(6_000);
    const second = await run(scheduleId);
    expect(outcomesOf(second).sort()).toEqual([['trigger', 'gina@example.com', 'opened'], ['update', 'frank@example.com', 'failed']]);
    expect(second.incidents.find((i) => i.actor === 'frank@example.com')!.outcome!.detail).toMatch(/^not delivered: PagerDuty rejected .* with 400/);
    expect(second.report).toMatch(/update frank@example.com failed: not delivered/);

    stack.pagerduty.resetFaults();
    stack.datadog.addEvents(burst(frank, ROLE_GRANT, 1, Date.now() - 30_000, 0));
    await sleep(6_000);
    expect(outcomesOf(await run(scheduleId))).toEqual([['update', 'frank@example.com', 'updated']]);
    const frankKey = second.incidents.find((i) => i.actor === 'frank@example.com')!.dedupKey;
    // One incident for Frank, with the note of the third run only (the second run's was refused).
    expect(stack.pagerduty.incidents.filter((i) => i.dedupKey === frankKey).map((i) => i.notes.length)).toEqual([1]);
  }, 120_000);
});
