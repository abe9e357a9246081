import { applySchedule } from '../../src/schedule';
import { triggerRespectingOverlap } from '../../sim/dev-stack';
import { startStack, type Stack } from '../support/stack';

/**
 * `npm start` triggers a first run while, after a restart, the Schedule may be starting a catch-up run (#26). The two
 * must not both read from the same cursor: the dev stack's trigger goes through the Schedule's overlap policy (SKIP).
 */
describe('the dev stack never doubles a run', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test('a trigger during a catch-up run starts no second run on the same cursor', async () => {
    const config = stack.config('', 'overlap');
    await applySchedule(stack.client, config);
    const handle = stack.client.schedule.getHandle(config.schedule.scheduleId);
    // A catch-up run: the Schedule runs a missed tick. No worker polls yet, so it stays running.
    const now = Date.now();
    await handle.backfill({ start: new Date(now - 2 * config.schedule.intervalMs), end: new Date(now - config.schedule.intervalMs + 1_000) });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await handle.describe()).info.runningActions.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    const before = await handle.describe();
    expect(before.info.runningActions).toHaveLength(1);

    await triggerRespectingOverlap(stack.client, config.schedule.scheduleId);
    let after = await handle.describe();
    const until = Date.now() + 10_000;
    while (Date.now() < until && after.info.numActionsSkippedOverlap === before.info.numActionsSkippedOverlap && after.info.numActionsTaken === before.info.numActionsTaken) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await handle.describe();
    }
    expect(after.info.numActionsSkippedOverlap).toBe(before.info.numActionsSkippedOverlap + 1);
    expect(after.info.numActionsTaken).toBe(before.info.numActionsTaken);
    expect(after.info.runningActions.map((a) => a.workflow.workflowId)).toEqual(before.info.runningActions.map((a) => a.workflow.workflowId));

    const only = after.info.runningActions[0].workflow;
    await stack.client.workflow.getHandle(only.workflowId, only.firstExecutionRunId).terminate('test done');
    expect((await handle.describe()).info.recentActions.length).toBeLessThanOrEqual(1);
  }, 90_000);
});
