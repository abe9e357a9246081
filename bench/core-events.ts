import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditEventLike } from '../src/detection/types';

/**
 * The bench's JSONL events as the activity receives them: since #22 the scan reads a page's bytes and parses each
 * event on its own (src/activities/audit-page.ts), so each line is `JSON.parse`d: plain objects, the outer timestamp
 * an ISO string (before, the client's `ObjectSerializer.deserialize` made class instances and a Date).
 */
export async function loadCoreEvents(path: string): Promise<AuditEventLike[]> {
  const events: AuditEventLike[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    events.push(JSON.parse(line) as AuditEventLike);
  }
  return events;
}
