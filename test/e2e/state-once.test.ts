import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { loadCarriedState } from '../../src/activities/carried-state-store';
import { unpackState } from '../../src/detection/packed-state';
import { isPackedState, type PackedState } from '../../src/detection/state';
import { applySchedule } from '../../src/schedule';
import type { RunResult } from '../../src/workflows/run-result';
import { ACTIONS, burst } from '../../sim/audit-events';
import { withStackAndWorker, type Stack } from '../support/stack';

const MIN = 60_000;

/** Triggers the schedule once and waits: the run's ids and result. */
async function trigger(client: Client, scheduleId: string): Promise<{ workflowId: string; runId: string; result: RunResult }> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger();
  for (let i = 0; i < 300; i++) {
    const fresh = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.firstExecutionRunId));
    if (fresh) {
      const { workflowId, firstExecutionRunId: runId } = fresh.action.workflow;
      return { workflowId, runId, result: (await client.workflow.getHandle(workflowId, runId).result()) as RunResult };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`schedule ${scheduleId} did not start a run`);
}

/** Every payload of a run's history that holds a packed carried state, by the event type that holds it. */
async function statePayloads(client: Client, workflowId: string, runId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const found: string[] = [];
  for (const event of history.events ?? []) {
    const type = temporal.api.enums.v1.EventType[event.eventType ?? 0];
    const json = JSON.stringify(temporal.api.history.v1.HistoryEvent.toObject(event as temporal.api.history.v1.HistoryEvent, { bytes: String }));
    // Payload data is base64 in this JSON; the packed state's own field names show once decoded.
    const payloads = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8'));
    for (const text of payloads) if (text.includes('"rereadFrom"')) found.push(type);
  }
  return found;
}

describe('the carried state is stored once per run, in the scan that produced it', () => {
  let stack: Stack;
  withStackAndWorker((started) => (stack = started));
  // One Datadog for the whole file: each test reads only its own events.
  beforeEach(() => stack.datadog.clear());

  test('the run\'s result refers to its scan; the next run\'s scan reads the state from there and goes on counting', async () => {
    const now = Date.now();
    const mallory = { id: 'u-once', email: 'once@example.com' };
    // Two role grants (threshold 3): a near miss the next run must remember.
    stack.datadog.addEvents(burst(mallory, ACTIONS.roleGrant, 2, now - 4 * MIN, MIN));
    const config = stack.config('schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n', 'once');
    await applySchedule(stack.client, config);

    const first = await trigger(stack.client, config.schedule.scheduleId);
    expect(first.result.state).toBeUndefined();
    expect(first.result.stateRef).toEqual({ workflowId: first.workflowId, runId: first.runId });
    expect(first.result.incidents).toEqual([]);
    expect(await statePayloads(stack.client, first.workflowId, first.runId)).toEqual(['EVENT_TYPE_ACTIVITY_TASK_COMPLETED']);

    stack.datadog.addEvents(burst(mallory, ACTIONS.roleGrant, 1, Date.now() - 2_000, 0));
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const second = await trigger(stack.client, config.schedule.scheduleId);
    expect(second.result.startedFrom).toBe('previous-run');
    // The third grant pages: the first two came from the first run's scan, through its history.
    expect(second.result.incidents.map((i) => [i.kind, i.actor, i.counts])).toEqual([['trigger', 'once@example.com', { role_grant: 3 }]]);
    // Re-read in the lateness overlap, the first two count once.
    expect(second.result.counts.duplicates).toBe(2);
    expect(second.result.stateRef).toEqual({ workflowId: second.workflowId, runId: second.runId });
    expect(await statePayloads(stack.client, second.workflowId, second.runId)).toEqual(['EVENT_TYPE_ACTIVITY_TASK_COMPLETED']);
  });

  test('catching up in chunks: each chunk\'s scan reads the state the previous chunk returned, one copy per chunk', async () => {
    const now = Date.now();
    const eve = { id: 'u-chunks', email: 'chunks@example.com' };
    // Three role grants within 10 minutes, across the first two 10-minute chunks.
    const start = now - 22 * MIN;
    stack.datadog.addEvents([...burst(eve, ACTIONS.roleGrant, 2, start, MIN), ...burst(eve, ACTIONS.roleGrant, 1, start + 7 * MIN, 0)]);
    const config = stack.config('schedule:\n  ingestionDelay: 5s\n  lookback: 30m\n  maxChunk: 10m\n', 'chunks');
    await applySchedule(stack.client, config);
    const run = await trigger(stack.client, config.schedule.scheduleId);
    expect(run.result.chunks).toBe(3);
    expect(run.result.incidents.map((i) => [i.kind, i.actor, i.counts])).toEqual([['trigger', 'chunks@example.com', { role_grant: 3 }]]);
    expect(await statePayloads(stack.client, run.workflowId, run.runId)).toEqual(Array(3).fill('EVENT_TYPE_ACTIVITY_TASK_COMPLETED'));
  });

  test('the state is read back from the real history (decoded by the client), and a history Temporal no longer has reads as gone', async () => {
    const now = Date.now();
    const trent = { id: 'u-gone', email: 'gone@example.com' };
    stack.datadog.addEvents(burst(trent, ACTIONS.roleGrant, 2, now - 8 * MIN, MIN));
    const config = stack.config('schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n', 'gone');
    await applySchedule(stack.client, config);
    const first = await trigger(stack.client, config.schedule.scheduleId);
    const ref = { workflowId: first.workflowId, runId: first.runId };
    const loaded = await loadCarriedState(stack.client, ref);
    expect('state' in loaded && isPackedState(loaded.state)).toBe(true);
    const state = unpackState((loaded as { state: PackedState }).state);
    expect(Object.keys(state.actors)).toEqual(['gone@example.com']);
    // A history past the namespace's retention answers as a run Temporal does not know: NOT_FOUND.
    const gone = await loadCarriedState(stack.client, { workflowId: first.workflowId, runId: '0b5e6f2c-0000-4000-8000-000000000000' });
    expect(gone).toEqual({ gone: expect.stringContaining('is no longer in Temporal') });
  });
});
