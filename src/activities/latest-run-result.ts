import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ScheduleNotFoundError } from '@temporalio/client';
import { isRunResult, type RunResult } from '../workflows/run-result';

export interface LatestRunInput {
  scheduleId: string;
  orgId: string;
  /** The asking run's own workflow id, never its own answer. */
  currentWorkflowId: string;
}

/**
 * The newest completed run's result among the Schedule's recent actions, triggered ones included. A Schedule passes
 * its last completion result only to the runs it starts on its own spec: a `trigger`ed run gets none, and its result
 * does not reach the next scheduled run either (checked on the dev server, Temporal 1.32), so each run asks here too.
 */
export function createFindLatestRunResult(deps: { temporalClient?: Client }) {
  return async function findLatestRunResult(input: LatestRunInput): Promise<RunResult | undefined> {
    const client = deps.temporalClient;
    if (!client) return undefined;
    let actions;
    try {
      actions = (await client.schedule.getHandle(input.scheduleId).describe()).info.recentActions;
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
    const newestFirst = [...actions].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
    for (const action of newestFirst) {
      const { workflowId, firstExecutionRunId } = action.action.workflow;
      if (workflowId === input.currentWorkflowId) continue;
      const handle = client.workflow.getHandle(workflowId, firstExecutionRunId);
      try {
        const description = await handle.describe();
        if (description.status.name !== 'COMPLETED') continue;
        const result: unknown = await handle.result();
        if (isRunResult(result, input.orgId)) return result;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) continue;
        throw error;
      }
    }
    return undefined;
  };
}
