import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { isCarriedState, type StoredState } from '../detection/state';
import type { StateRef } from '../workflows/run-result';

/** gRPC NOT_FOUND: the run is unknown, or its history is gone (the namespace's retention passed). */
const NOT_FOUND = 5;

export type LoadedState = { state: StoredState } | { gone: string };

/**
 * The carried state a run left: the result of the last `scanAuditEvents` activity that completed in its history (the
 * one copy Temporal stores; the run's own result only refers to it). Decoded with the client's data converter, so a
 * worker with payload encryption reads what it wrote. A run whose history is gone, or that holds no completed scan,
 * gives `gone` with the reason, and the caller goes on without it.
 */
export async function loadCarriedState(client: Client, ref: StateRef): Promise<LoadedState> {
  let history;
  try {
    history = await client.workflow.getHandle(ref.workflowId, ref.runId).fetchHistory();
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === NOT_FOUND) {
      return { gone: `the history of run ${ref.workflowId} (${ref.runId}) is no longer in Temporal (past the namespace's retention?)` };
    }
    throw error;
  }
  const scans = new Set<string>();
  let last: Payload[] | null | undefined;
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'scanAuditEvents') scans.add(String(event.eventId));
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && scans.has(String(completed.scheduledEventId))) last = completed.result?.payloads;
  }
  if (!last?.length) return { gone: `run ${ref.workflowId} (${ref.runId}) holds no completed scan` };
  const output = await decodeFromPayloadsAtIndex<{ state?: unknown }>(client.options.loadedDataConverter, 0, last);
  if (!isCarriedState(output?.state)) return { gone: `the last scan of run ${ref.workflowId} (${ref.runId}) returned no carried state` };
  return { state: output.state };
}
