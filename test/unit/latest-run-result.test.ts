import type { Client } from '@temporalio/client';
import { createFindLatestRunResult } from '../../src/activities/latest-run-result';
import { isRunResult, type RunResult } from '../../src/workflows/run-result';

function resultAt(cursor: number): RunResult {
  return {
    v: 1, orgId: 'acme', cursor, window: { from: '', to: '' }, scheduledAt: '', startedFrom: 'previous-run', chunks: 1, remainingMs: 0,
    counts: { read: 0, matched: 0, skipped: 0, duplicates: 0, unknownActor: 0, outOfRange: 0, pages: 0 }, incidents: [], suppressed: [], report: '',
    state: { v: 3, watermark: cursor, actors: {} },
  };
}

/** A client whose schedule's newest completed run (wf-2) left off at 2000; wf-3 is the asking run. */
function fakeClient(): Client {
  const runs: Record<string, RunResult> = { 'wf-1': resultAt(1000), 'wf-2': resultAt(2000) };
  const actions = ['wf-1', 'wf-2', 'wf-3'].map((workflowId, i) => ({ takenAt: new Date(1000 * (i + 1)), action: { workflow: { workflowId, firstExecutionRunId: `run-${workflowId}` } } }));
  return {
    schedule: { getHandle: () => ({ describe: async () => ({ info: { recentActions: actions } }) }) },
    workflow: {
      getHandle: (workflowId: string) => ({
        describe: async () => ({ status: { name: workflowId === 'wf-3' ? 'RUNNING' : 'COMPLETED' } }),
        result: async () => runs[workflowId],
      }),
    },
  } as unknown as Client;
}

describe('findLatestRunResult: which run is newest, and its state only when the asker lacks it', () => {
  const find = createFindLatestRunResult({ temporalClient: fakeClient() });
  const ask = { scheduleId: 's', orgId: 'acme', currentWorkflowId: 'wf-3' };

  test('without a result of its own, the asker gets what the newest result carries over: cursor and state, not its report', async () => {
    const latest = await find(ask);
    const { v, orgId, cursor, stateRef, state } = resultAt(2000);
    expect(latest).toEqual({ workflowId: 'wf-2', runId: 'run-wf-2', cursor: 2000, result: JSON.parse(JSON.stringify({ v, orgId, cursor, stateRef, state })) });
    expect(isRunResult(latest?.result, 'acme')).toBe(true);
    expect(JSON.stringify(latest)).not.toContain('report');
  });

  test('when the asker already has that run\'s result (same cursor), no second copy of the state', async () => {
    const latest = await find({ ...ask, knownCursor: 2000 });
    expect(latest).toEqual({ workflowId: 'wf-2', runId: 'run-wf-2', cursor: 2000 });
    expect(JSON.stringify(latest)).not.toContain('state');
  });

  test('a newer run than the asker\'s result comes (its carried part)', async () => {
    expect((await find({ ...ask, knownCursor: 1500 }))?.result?.cursor).toBe(2000);
  });

  test('a run started in the same second as the asker (the same workflow id, another run id) is a previous run; the asker is not', async () => {
    const same = { workflowId: 'wf-same', firstExecutionRunId: 'run-a' };
    const asker = { workflowId: 'wf-same', firstExecutionRunId: 'run-b' };
    const client = {
      schedule: { getHandle: () => ({ describe: async () => ({ info: { recentActions: [{ takenAt: new Date(1000), action: { workflow: same } }, { takenAt: new Date(1500), action: { workflow: asker } }] } }) }) },
      workflow: {
        getHandle: (_workflowId: string, runId: string) => ({
          describe: async () => ({ status: { name: runId === 'run-b' ? 'RUNNING' : 'COMPLETED' } }),
          result: async () => resultAt(runId === 'run-a' ? 3000 : 9999),
        }),
      },
    } as unknown as Client;
    const latest = await createFindLatestRunResult({ temporalClient: client })({ scheduleId: 's', orgId: 'acme', currentWorkflowId: 'wf-same', currentRunId: 'run-b' });
    expect(latest).toMatchObject({ workflowId: 'wf-same', runId: 'run-a', cursor: 3000 });
  });
});
