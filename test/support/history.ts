import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** A run's whole history as the server stores it (protobuf), so payloads are raw bytes a plain search can look into. */
export async function historyBytes(handle: WorkflowHandle): Promise<Buffer> {
  const history = await handle.fetchHistory();
  return Buffer.from(temporal.api.history.v1.History.encode(history as temporal.api.history.v1.IHistory).finish());
}
