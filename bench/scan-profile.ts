import { v2 } from '@datadog/datadog-api-client';
import { parseConfigText } from '../src/config/load';
import { Detector } from '../src/detection/detector';
import { lateAfterMs } from '../src/detection/plan';
import { Scan } from '../src/detection/scan';
import { emptyState } from '../src/detection/state';
import type { AuditEventLike } from '../src/detection/types';
import { nowMs } from './stats';
import { busyRunEvents } from './synthetic';

/**
 * Diagnosis, not a target: where a busy scan's time and bytes go, without HTTP or Temporal. In a child process of
 * `npm run bench`. Feeds the busy run's events (the same generator, the same shape, deserialised by the Datadog
 * client's ObjectSerializer, not timed) page by page to a Scan exactly as src/activities/scan-audit-events.ts does,
 * including its per-page heartbeat payload: `JSON.stringify({ cursor, pages, progress: scan.progress() })` on every page,
 * parsed back when it is at most 1,000,000 characters (above that the activity heartbeats `{ pages }` only), as
 * scan-audit-events.ts does since 35c1a67 (the SDK then serialises the payload once more to send it, not counted here). Reports the time spent
 * folding events, the time spent building heartbeat payloads, the largest heartbeat (Temporal refuses payloads over
 * 2 MiB), and the size and make-up of the state the scan returns.
 *
 * Usage: node dist/bench/scan-profile.js EVENTS PAGE_LIMIT
 */
/** Mirrors MAX_RESUMABLE_HEARTBEAT_BYTES in src/activities/scan-audit-events.ts. */
const RESUMABLE_HEARTBEAT_BYTES = 1_000_000;

function main(): void {
  const total = Number(process.argv[2] ?? 200_000);
  const pageLimit = Number(process.argv[3] ?? 1000);
  const config = parseConfigText('org: bench', 'bench config');
  const { cadence, detection } = config.args;
  const detector = new Detector(detection, cadence.latenessMs);
  const now = Date.now();
  const window = { readFrom: now - 16 * 60_000, from: now - 16 * 60_000, to: now - 60_000 };
  const events = busyRunEvents(total, 0, window.from + 45_000, window.to - 15_000, 7)
    .sort((a, b) => a.attributes.timestamp.localeCompare(b.attributes.timestamp) || a.id.localeCompare(b.id))
    .map((event) => v2.ObjectSerializer.deserialize(JSON.parse(JSON.stringify(event)), 'AuditLogsEvent', '') as AuditEventLike);

  const scan = Scan.start(detector, { orgId: 'bench', window, runAt: now, lateAfterMs: lateAfterMs(cadence) }, emptyState(window.from));
  let foldMs = 0;
  let heartbeatMs = 0;
  let maxHeartbeatBytes = 0;
  let pagesOver2MiB = 0;
  let pages = 0;
  for (let i = 0; i < events.length; i += pageLimit) {
    let t = nowMs();
    const end = Math.min(events.length, i + pageLimit);
    for (let j = i; j < end; j++) scan.add(events[j]);
    foldMs += nowMs() - t;
    pages++;
    if (end >= events.length) break;
    t = nowMs();
    const text = JSON.stringify({ cursor: 'x'.repeat(120), pages, progress: scan.progress() });
    if (text.length <= RESUMABLE_HEARTBEAT_BYTES) JSON.parse(text);
    heartbeatMs += nowMs() - t;
    const bytes = Buffer.byteLength(text);
    maxHeartbeatBytes = Math.max(maxHeartbeatBytes, bytes);
    if (bytes > 2 * 2 ** 20) pagesOver2MiB++;
  }
  const t = nowMs();
  const result = scan.finish();
  const finishMs = nowMs() - t;
  let hits = 0;
  let emptyActors = 0;
  for (const actor of Object.values(result.state.actors)) {
    const count = Object.values(actor.hits).reduce((sum, list) => sum + list.length, 0);
    hits += count;
    if (count === 0 && !actor.incident) emptyActors++;
  }
  process.stdout.write(`${JSON.stringify({
    events: total,
    pages,
    foldMs,
    heartbeatMs,
    finishMs,
    maxHeartbeatBytes,
    pagesOver2MiB,
    stateBytes: Buffer.byteLength(JSON.stringify(result.state)),
    stateActors: Object.keys(result.state.actors).length,
    stateEmptyActors: emptyActors,
    stateHits: hits,
    maxHitsTotal: detection.limits.maxHitsTotal,
  })}\n`);
}

main();
