/**
 * Records the histories test/histories/replay.test.ts replays, from real runs on a Temporal dev server. Not part of
 * `npm test`: run `npm run histories:record` after a deliberate change to the workflow's commands (see the README's
 * "Upgrading" section), review the diff, commit the new files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { applySchedule } from '../../src/schedule';
import { ACTIONS, NOISE, auditEvent, burst } from '../../sim/audit-events';
import { temporalCliPath } from '../../sim/temporal-server';
import { startStack, type Stack } from '../support/stack';
import { HISTORY_ENCRYPTION_ENV, HISTORY_FILES, historyDataConverter } from './recorded';

const MIN = 60_000;
const mallory = { id: 'u-bad', email: 'Mallory@Example.com', name: 'Mallory' };
const staff = Array.from({ length: 4 }, (_, i) => ({ id: `u${i}`, email: `user${i}@example.com` }));
const FAST = 'schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n';

function noise(fromMs: number, toMs: number, count: number) {
  return Array.from({ length: count }, (_, i) => auditEvent(fromMs + Math.floor(((toMs - fromMs) * i) / count), staff[i % staff.length], NOISE[i % NOISE.length]));
}

/**
 * The run's history as the Temporal CLI exports it (`temporal workflow show --output json`, the format other Temporal
 * tools read), payloads as stored: encrypted ones stay encrypted.
 */
function exportHistory(stack: Stack, workflowId: string, runId: string): string {
  return execFileSync(temporalCliPath(), ['workflow', 'show', '--address', stack.server.address, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json'], { encoding: 'utf8' });
}

/** Triggers one run of the schedule, waits for it, and writes its history. */
async function recordRun(stack: Stack, scheduleId: string, name: keyof typeof HISTORY_FILES): Promise<void> {
  const { client } = stack;
  const handle = client.schedule.getHandle(scheduleId);
  const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const fresh = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.firstExecutionRunId));
    if (fresh) {
      const run = client.workflow.getHandle(fresh.action.workflow.workflowId, fresh.action.workflow.firstExecutionRunId);
      await run.result();
      writeFileSync(join(__dirname, HISTORY_FILES[name]), exportHistory(stack, run.workflowId, fresh.action.workflow.firstExecutionRunId));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`schedule ${scheduleId} started no run within 120 s`);
}

async function withStack(options: Parameters<typeof startStack>[0], body: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack(options);
  try {
    await stack.startWorker();
    await body(stack);
  } finally {
    await stack.stop();
  }
}

jest.setTimeout(600_000);

test('record the committed histories', async () => {
  await withStack({}, async (stack) => {
    const now = Date.now();
    stack.datadog.addEvents(noise(now - 14 * MIN, now - MIN, 200));
    const quiet = stack.config(FAST, 'quiet');
    await applySchedule(stack.client, quiet);
    await recordRun(stack, quiet.schedule.scheduleId, 'quiet');

    stack.datadog.addEvents([...burst(mallory, ACTIONS.roleGrant, 11, now - 9 * MIN, 6 * MIN), ...burst(mallory, ACTIONS.apiKeyCreate, 3, now - 5 * MIN, 2 * MIN)]);
    const bursting = stack.config(FAST, 'burst');
    await applySchedule(stack.client, bursting);
    await recordRun(stack, bursting.schedule.scheduleId, 'burst');

    stack.datadog.addEvents([...burst(staff[1], ACTIONS.monitorDelete, 6, now - 100 * MIN, 4 * MIN), ...noise(now - 118 * MIN, now - 20 * MIN, 300)]);
    const catchUp = stack.config('schedule:\n  ingestionDelay: 5s\n  lookback: 2h\n  maxChunk: 30m\n', 'catchup');
    await applySchedule(stack.client, catchUp);
    await recordRun(stack, catchUp.schedule.scheduleId, 'catchUp');

    stack.datadog.addEvents(burst(staff[2], ACTIONS.apiKeyCreate, 4, Date.now() - 4 * MIN, 2 * MIN));
    stack.pagerduty.failNext(503, 2);
    const retried = stack.config(FAST, 'retried');
    await applySchedule(stack.client, retried);
    await recordRun(stack, retried.schedule.scheduleId, 'pagerdutyRetried');
  });

  await withStack({ dataConverter: historyDataConverter() }, async (stack) => {
    const now = Date.now();
    stack.datadog.addEvents([...burst(mallory, ACTIONS.roleGrant, 4, now - 6 * MIN, 3 * MIN), ...noise(now - 14 * MIN, now - MIN, 100)]);
    const encrypted = stack.config(FAST, 'encrypted');
    await applySchedule(stack.client, encrypted);
    await recordRun(stack, encrypted.schedule.scheduleId, 'encrypted');
    expect(Object.keys(HISTORY_ENCRYPTION_ENV)).toContain('AUDIT_SPIKE_ENCRYPTION_KEY');
  });
});
