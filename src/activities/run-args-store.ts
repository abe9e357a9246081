import { isGrpcServiceError, type Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { AuditSpikeArgsSchema, describeIssues, type AuditSpikeArgs } from '../config/args-schema';
import { expandScheduleArgs } from '../config/schedule-args';
import { runArgsHash, type ArgsRef } from '../workflows/run-args-ref';
import { needsAttention } from './failures';

/** A run's arguments, validated, and what putting back its default rules had to say (see expandScheduleArgs). */
export interface LoadedRunArgs {
  args: AuditSpikeArgs;
  warnings: string[];
}

/** gRPC NOT_FOUND: the run is unknown, or its history is gone. */
const NOT_FOUND = 5;

/**
 * The arguments a run was started with, read from its first history event (one event: a page of size 1), decoded with
 * the client's data converter (so an encrypted start input is read as the worker wrote it) and parsed as the workflow
 * parses them. The config then lives once in the run's history, in its start event, instead of again in every scan's
 * input. A reference to another config than the run saw (hash mismatch) or to a run that is gone fails the attempt.
 */
export async function loadRunArgs(client: Client, ref: ArgsRef): Promise<LoadedRunArgs> {
  let response;
  try {
    response = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: ref.from.workflowId, runId: ref.from.runId },
      maximumPageSize: 1,
    });
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === NOT_FOUND) {
      throw needsAttention('RunArgsGone', `the run ${ref.from.workflowId} (${ref.from.runId}) whose arguments this scan reads is not in Temporal`);
    }
    throw error;
  }
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payloads = started?.input?.payloads;
  if (!payloads?.length) throw needsAttention('RunArgsGone', `the run ${ref.from.workflowId} (${ref.from.runId}) has no start input to read the config from`);
  const raw = await decodeFromPayloadsAtIndex<unknown>(client.options.loadedDataConverter, 0, payloads);
  const hash = runArgsHash(raw);
  if (hash !== ref.hash) {
    throw needsAttention('RunArgsMismatch', `the start input of run ${ref.from.workflowId} (${ref.from.runId}) hashes to ${hash}, not ${ref.hash} as the workflow saw it`);
  }
  const expanded = expandScheduleArgs(raw);
  const parsed = AuditSpikeArgsSchema.safeParse(expanded.args);
  if (!parsed.success) throw needsAttention('BadScanInput', `the run's arguments are invalid:\n${describeIssues(parsed.error).join('\n')}`);
  return { args: parsed.data, warnings: expanded.warnings };
}
