import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { v2 } from '@datadog/datadog-api-client';
import type { AuditEventLike } from '../src/detection/types';

/**
 * The bench's JSONL events as the activity receives them: each line through the Datadog client's own
 * `v2.ObjectSerializer.deserialize(json, "AuditLogsEvent")`, exactly as `searchAuditLogs` deserialises a page.
 */
export async function loadCoreEvents(path: string): Promise<AuditEventLike[]> {
  const events: AuditEventLike[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    events.push(v2.ObjectSerializer.deserialize(JSON.parse(line), 'AuditLogsEvent', '') as AuditEventLike);
  }
  return events;
}
