import { v2 } from '@datadog/datadog-api-client';
import { parseConfigText } from '../src/config/load';
import { Detector } from '../src/detection/detector';
import { lateAfterMs } from '../src/detection/plan';
import { Scan } from '../src/detection/scan';
import { emptyState } from '../src/detection/state';
import type { AuditEventLike } from '../src/detection/types';
import { CHECKPOINT_EVERY_MS } from '../src/activities/scan-audit-events';
import { hitCount } from '../src/detection/windows';
import { nowMs } from './stats';
import { busyRunEvents } from './synthetic';

/**
 * Diagnosis, not a target: where a busy scan's time and bytes go, without HTTP or Temporal. In a child process of
 * `npm run bench`. Feeds the busy run's events (the same generator, the same shape, deserialised by the Datadog
 * client's ObjectSerializer, not timed) page by page to a Scan as src/activities/scan-audit-events.ts does, and after
 * each page times what one checkpoint costs there (`JSON.stringify(scan.progress())`; the activity takes one every
 * CHECKPOINT_EVERY_MS, and none once a snapshot passes 1,000,000 characters). Reports the time spent folding events,
 * the dearest checkpoint and the largest snapshot (Temporal refuses heartbeats over 2 MiB), and the size and make-up
 * of the state the scan returns.
 *
 * Usage: node dist/bench/scan-profile.js EVENTS PAGE_LIMIT
 */
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
  let checkpointMaxMs = 0;
  let maxSnapshotChars = 0;
  let pages = 0;
  for (let i = 0; i < events.length; i += pageLimit) {
    let t = nowMs();
    const end = Math.min(events.length, i + pageLimit);
    for (let j = i; j < end; j++) scan.add(events[j]);
    foldMs += nowMs() - t;
    pages++;
    if (end >= events.length) break;
    t = nowMs();
    const snapshot = JSON.stringify(scan.progress());
    checkpointMaxMs = Math.max(checkpointMaxMs, nowMs() - t);
    maxSnapshotChars = Math.max(maxSnapshotChars, snapshot.length);
  }
  const t = nowMs();
  const result = scan.finish();
  const finishMs = nowMs() - t;
  let hits = 0;
  let emptyActors = 0;
  for (const actor of Object.values(result.state.actors)) {
    const count = Object.values(actor.hits).reduce((sum, list) => sum + hitCount(list), 0);
    hits += count;
    if (count === 0 && !actor.incident) emptyActors++;
  }
  process.stdout.write(`${JSON.stringify({
    events: total,
    pages,
    foldMs,
    checkpointMaxMs,
    checkpointEveryMs: CHECKPOINT_EVERY_MS,
    finishMs,
    maxSnapshotChars,
    stateBytes: Buffer.byteLength(JSON.stringify(result.state)),
    stateActors: Object.keys(result.state.actors).length,
    stateEmptyActors: emptyActors,
    stateHits: hits,
    maxHitsTotal: detection.limits.maxHitsTotal,
  })}\n`);
}

main();
