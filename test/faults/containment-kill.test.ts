import { WorkflowUpdateStage } from '@temporalio/client';
import { applySchedule } from '../../src/schedule';
import { approveUpdate, planQuery, type PlanView } from '../../src/response/messages';
import { responseWorkflowId } from '../../src/response/plan';
import { ACTIONS, burst } from '../../sim/audit-events';
import { datadogUserIdFor } from '../../sim/datadog/org-directory';
import { triggerAndWait, type Stack } from '../support/stack';
import { startStackWithWorkerProcess, type WorkerProcess } from '../support/worker-process';

const MIN = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const YAML = [
  'schedule:', '  ingestionDelay: 5s', '  lookback: 15m',
  'datadog:', '  requestTimeout: 3s',
  'pagerduty:', '  mode: rest', '  serviceId: PSEC001', '  escalationPolicyId: PSECEP1', '  fromEmail: audit-spike@example.com',
  'response:', '  enabled: true', '  ttl: 1h',
].join('\n');

/**
 * Contain on approval (#17) under a crash: the product's worker (a child process) is SIGKILLed after the first step of an
 * approved plan acted in Datadog and before the second did; a new worker finishes the plan. Each step acts exactly once
 * in Datadog, and each is one activity in the response workflow's history.
 */
describe('a worker killed between two steps of an approved plan', () => {
  let stack: Stack;
  let worker: WorkerProcess;

  beforeAll(async () => {
    ({ stack, worker } = await startStackWithWorkerProcess());
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    worker?.close();
    await stack?.stop();
  }, 60_000);

  test('each step happens exactly once', async () => {
    const mallory = { id: 'u-mal', email: 'mallory@example.com', name: 'Mallory' };
    const keys = burst(mallory, ACTIONS.apiKeyCreate, 3, Date.now() - 8 * MIN, 3 * MIN);
    stack.datadog.addEvents(keys);
    const keyIds = keys.map((e) => (e.attributes.attributes.asset as { id: string }).id);
    const config = stack.config(YAML, 'contain-kill');
    await applySchedule(stack.client, config);
    const run = await triggerAndWait(stack.client, config.schedule.scheduleId);
    const { dedupKey } = run.incidents[0];
    const handle = stack.client.workflow.getHandle(responseWorkflowId(dedupKey));
    const planOf = async (until: (plan: PlanView) => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const plan = await handle.query(planQuery).catch(() => undefined);
        if (plan && until(plan)) return plan;
        if (Date.now() > deadline) throw new Error(`plan not there in time: ${JSON.stringify(plan)}`);
        await sleep(200);
      }
    };
    await planOf((p) => p.state === 'awaiting approval', 30_000);

    // Every Datadog answer takes a second, so the kill lands after the user's PATCH and before any key's DELETE.
    stack.datadog.faults.containmentLatencyMs = 1_000;
    stack.datadog.resetRequests();
    const update = await handle.startUpdate(approveUpdate, {
      args: [{ all: true, by: { name: 'oncall@example.com' }, via: 'cli', at: new Date().toISOString() }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    const ok = (method: string, prefix: string) => stack.datadog.requests.filter((r) => r.method === method && r.path.startsWith(prefix) && r.status >= 200 && r.status < 300);
    const deadline = Date.now() + 30_000;
    while (ok('PATCH', '/api/v2/users/').length === 0) {
      if (Date.now() > deadline) throw new Error('the first step never reached Datadog');
      await sleep(10);
    }
    await worker.kill();
    // Killed between the two steps: the user is disabled, no key is revoked yet.
    expect(ok('PATCH', '/api/v2/users/')).toHaveLength(1);
    expect(ok('DELETE', '/api/v2/api_keys/')).toHaveLength(0);
    expect(stack.datadog.users.find((u) => u.id === datadogUserIdFor('mallory@example.com'))?.disabled).toBe(true);

    stack.datadog.faults.containmentLatencyMs = 0;
    await worker.start();
    const report = await update.result();
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([['disable-user', 'done'], ...keyIds.map((id) => [`api-key:${id}`, 'done'])]);
    const plan = await planOf((p) => p.steps.every((s) => s.status === 'done'), 60_000);
    expect(plan.steps.map((s) => s.approvedBy)).toEqual(plan.steps.map(() => 'oncall@example.com'));

    // Exactly once in Datadog: one PATCH of the user, one successful DELETE per key; every key is gone.
    expect(ok('PATCH', '/api/v2/users/')).toHaveLength(1);
    expect(ok('DELETE', '/api/v2/api_keys/').map((r) => r.path).sort()).toEqual(keyIds.map((id) => `/api/v2/api_keys/${id}`).sort());
    expect(stack.datadog.apiKeys.map((k) => k.id).filter((id) => keyIds.includes(id))).toEqual([]);
    // Exactly once in the workflow: one activity per step, each completed once.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'containmentStep');
    expect(scheduled).toHaveLength(4);
    expect(events.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(4 + events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notePagerDuty').length);
    expect(worker.starts).toBe(2);
  }, 180_000);
});
