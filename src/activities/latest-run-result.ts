import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ScheduleNotFoundError } from '@temporalio/client';
import { isRunResult, type RunResult } from '../workflows/run-result';

export interface LatestRunInput {
  scheduleId: string;
  orgId: string;
  /** The asking run's own workflow id, never its own answer. */
  currentWorkflowId: string;
  /**
   * The asking run's first execution run id. Two runs a Schedule starts in the same second share a workflow id (the
   * Schedule's id and the second), so the asker is told apart by this; a run recorded before it was sent is told apart
   * by its workflow id.
   */
  currentRunId?: string;
  /**
   * The cursor of the result the asking run already has (its last completion result): a run found at or before it
   * comes back without its result, so the same state is not stored a second time in the asking run's history.
   */
  knownCursor?: number;
}

/**
 * What a run takes over from the one before: where it left off and where its state is. The rest of a result (report,
 * counts, incidents) is for people, on the earlier run's page: a copy here would be stored again in the asker's history.
 */
export type CarriedResult = Pick<RunResult, 'v' | 'orgId' | 'cursor' | 'stateRef' | 'state'>;

/** The newest completed run: which one, where it left off, and what it carries over only when it is newer than the asker's. */
export interface LatestRun {
  workflowId: string;
  runId: string;
  cursor: number;
  result?: CarriedResult;
}

function carriedPart(result: RunResult): CarriedResult {
  return { v: result.v, orgId: result.orgId, cursor: result.cursor, ...(result.stateRef ? { stateRef: result.stateRef } : { state: result.state }) };
}

/**
 * The newest completed run among the Schedule's recent actions, triggered ones included. A Schedule passes
 * its last completion result only to the runs it starts on its own spec: a `trigger`ed run gets none, and its result
 * does not reach the next scheduled run either (checked on the dev server, Temporal 1.32), so each run asks here too.
 */
export function createFindLatestRunResult(deps: { temporalClient?: Client }) {
  return async function findLatestRunResult(input: LatestRunInput): Promise<LatestRun | undefined> {
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
      if (input.currentRunId !== undefined ? firstExecutionRunId === input.currentRunId : workflowId === input.currentWorkflowId) continue;
      const handle = client.workflow.getHandle(workflowId, firstExecutionRunId);
      try {
        const description = await handle.describe();
        if (description.status.name !== 'COMPLETED') continue;
        const result: unknown = await handle.result();
        if (!isRunResult(result, input.orgId)) continue;
        const newer = input.knownCursor === undefined || result.cursor > input.knownCursor;
        return { workflowId, runId: firstExecutionRunId, cursor: result.cursor, ...(newer ? { result: carriedPart(result) } : {}) };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) continue;
        throw error;
      }
    }
    return undefined;
  };
}
