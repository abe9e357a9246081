import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { listRuns } from './paged-runs';

/**
 * A run that failed or timed out: whatever it would have paged was not (a new burst's page that PagerDuty refuses for
 * an hour fails its run; the next run reads the same window again and pages it then).
 */
export interface FailedRun {
  workflowId: string;
  runId: string;
  startTime: string;
  /** The org from the run's start input; undefined when that cannot be read (encrypted without the key, or no orgId). */
  org?: string;
  /** The failure's first line, as `schedule describe` shows it. */
  failure: string;
}

/** The visibility query for audit-spike runs that failed or timed out since `since` (standard attributes only). */
export function failedRunsQuery(since: Date): string {
  return `WorkflowType = "auditSpikeWorkflow" AND (ExecutionStatus = "Failed" OR ExecutionStatus = "TimedOut") AND StartTime >= "${since.toISOString()}"`;
}

/** The org a run was started for: its start input's orgId (one history event, decoded with the client's data converter). */
async function orgOf(client: Client, namespace: string, workflowId: string, runId: string): Promise<string | undefined> {
  try {
    const response = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 1 });
    const payloads = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    if (!payloads?.length) return undefined;
    const args = await decodeFromPayloadsAtIndex<{ orgId?: unknown }>(client.options.loadedDataConverter, 0, payloads);
    return typeof args?.orgId === 'string' ? args.orgId : undefined;
  } catch {
    return undefined;
  }
}

async function failureOf(client: Client, workflowId: string, runId: string): Promise<string> {
  try {
    await client.workflow.getHandle(workflowId, runId, { followRuns: false }).result();
    return 'failed';
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause;
    return String(cause?.message ?? (error as Error).message).split('\n')[0];
  }
}

/**
 * The audit-spike runs that failed or timed out since `since`; with `org`, those started for it (a failed run never
 * upserted AuditSpikeOrg, so its start input tells; a run whose input cannot be read is kept, its org unknown).
 */
export async function readFailedRuns(
  client: Client,
  namespace: string,
  options: { since: Date; org?: string; maxRuns?: number },
): Promise<{ runs: FailedRun[]; truncated: boolean; query: string }> {
  const query = failedRunsQuery(options.since);
  const { found, truncated } = await listRuns(client, namespace, query, options.maxRuns ?? 100);
  const runs: FailedRun[] = [];
  for (const listed of found) {
    const org = await orgOf(client, namespace, listed.workflowId, listed.runId);
    if (options.org && org !== undefined && org !== options.org) continue;
    runs.push({
      workflowId: listed.workflowId, runId: listed.runId, startTime: listed.startTime.toISOString(),
      ...(org !== undefined ? { org } : {}), failure: await failureOf(client, listed.workflowId, listed.runId),
    });
  }
  runs.sort((a, b) => a.startTime.localeCompare(b.startTime) || a.workflowId.localeCompare(b.workflowId));
  return { runs, truncated, query };
}
