import type { AuditSpikeArgs } from '../config/args-schema';
import { Detector } from '../detection/detector';
import { eventTimestamp, innerAttributes } from '../detection/event-fields';
import { lateAfterMs, planRun } from '../detection/plan';
import { Scan, zeroCounters, type IncidentAction, type ScanCounters, type SuppressedBurst } from '../detection/scan';
import { emptyState, type CarriedState } from '../detection/state';
import type { AuditEventLike } from '../detection/types';
import type { ReplayIncident } from './incidents';

export interface TimedEvent {
  ts: number;
  event: AuditEventLike;
}

export interface ReplayReport {
  /** Scheduled runs the replay covers, from the first event's interval to past the last (empty ones included). */
  runs: number;
  /** Of those, the runs actually simulated; the others read nothing and carried nothing, and were skipped. */
  runsSimulated: number;
  counters: ScanCounters;
  incidents: ReplayIncident[];
  suppressed: SuppressedBurst[];
}

/**
 * Events in time order, read one at a time: an array in memory, or a file read again by offset (events-file.ts).
 * `tsAt` is non-decreasing in `i`; `eventAt` may build a new object on each call.
 */
export interface ReplaySource {
  readonly size: number;
  tsAt(i: number): number;
  eventAt(i: number): AuditEventLike;
}

export function arraySource(ordered: TimedEvent[]): ReplaySource {
  return { size: ordered.length, tsAt: (i) => ordered[i].ts, eventAt: (i) => ordered[i].event };
}

function firstAtOrAfter(events: ReplaySource, ts: number): number {
  let lo = 0;
  let hi = events.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events.tsAt(mid) < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Orders events by time; those without a usable timestamp or attributes are counted, not kept. */
export function timeOrder(events: Iterable<AuditEventLike>): { ordered: TimedEvent[]; unusable: number } {
  const ordered: TimedEvent[] = [];
  let unusable = 0;
  for (const event of events) {
    const ts = eventTimestamp(event);
    if (ts === ts && innerAttributes(event) !== undefined) ordered.push({ ts, event });
    else unusable++;
  }
  ordered.sort((a, b) => a.ts - b.ts);
  return { ordered, unusable };
}

/** Folds one run's actions into the incidents as PagerDuty would hold them. */
export function applyActions(incidents: Map<string, ReplayIncident>, actions: IncidentAction[]): void {
  for (const { kind, summary } of actions) {
    if (kind === 'resolve') {
      const known = incidents.get(summary.dedupKey);
      if (known) known.resolved = true;
      continue;
    }
    const previous = incidents.get(summary.dedupKey);
    incidents.set(summary.dedupKey, {
      actor: summary.actor,
      severity: summary.severity,
      rules: summary.rules,
      counts: summary.counts,
      firstSeen: summary.firstSeen,
      lastSeen: summary.lastSeen,
      dedupKey: summary.dedupKey,
      title: summary.title,
      evidence: summary.evidence,
      late: previous?.late ?? summary.late,
      resolved: false,
    });
  }
}

/** True when the state carries nothing but its watermark: a run that reads no event then changes nothing but that. */
function carriesNothing(state: CarriedState): boolean {
  for (const _ in state.actors) return false;
  // Whatever else a state may come to carry, it must be what an empty one carries.
  return JSON.stringify({ ...state, watermark: 0 }) === JSON.stringify(emptyState(0));
}

/**
 * Replays time-ordered events through the same window planning and scan code as the live workflow, one scheduled
 * run per interval from the first event's interval to past the last, carrying state between runs.
 */
export function replay(ordered: TimedEvent[], args: AuditSpikeArgs): ReplayReport {
  return replaySource(arraySource(ordered), args);
}

/**
 * `replay` over any time-ordered source. Its cost follows the events, not the calendar: once the carried state holds
 * nothing, the runs up to the first one that would read the next event are skipped. Each of them would have read no
 * event, started from the empty state and ended with it (moving only the watermark, as done here), sent nothing to
 * PagerDuty and counted nothing, so no incident, count or suppression changes. `runs` still counts them.
 */
export function replaySource(events: ReplaySource, args: AuditSpikeArgs): ReplayReport {
  const counters = zeroCounters();
  const incidents = new Map<string, ReplayIncident>();
  const suppressed: SuppressedBurst[] = [];
  if (events.size === 0) return { runs: 0, runsSimulated: 0, counters, incidents: [], suppressed };
  const { cadence } = args;
  const interval = cadence.intervalMs;
  const detector = new Detector(args.detection, cadence.latenessMs);
  // Catalog v3: the persons' baselines are built from the replay's own input, carried across its runs as the live
  // store carries them (so a person's rules stay quiet during their warm-up here too).
  const baselines = detector.methods.learns ? detector.methods.newBaselines() : undefined;
  let cursor = Math.floor(events.tsAt(0) / interval) * interval;
  let state: CarriedState = emptyState(cursor);
  const lastTs = events.tsAt(events.size - 1);
  let runs = 0;
  let runsSimulated = 0;
  // One extra interval past the last event plus the quiet period, so a burst's lifecycle completes as it would live.
  const until = lastTs + detector.quietMs + cadence.latenessMs + interval;
  // Runs are the same shifted by whole seconds (planRun works in seconds): only then is an empty run like the next.
  const canSkip = interval % 1000 === 0;
  for (let scheduledAt = cursor + cadence.ingestionDelayMs + interval; cursor <= until; scheduledAt += interval) {
    const plan = planRun(cursor, scheduledAt, cadence);
    for (const window of plan.chunks) {
      const scan = Scan.start(detector, { orgId: args.orgId, window, runAt: scheduledAt, lateAfterMs: lateAfterMs(cadence), ...(baselines ? { baselines } : {}) }, state);
      const end = firstAtOrAfter(events, window.to);
      for (let i = firstAtOrAfter(events, window.readFrom); i < end; i++) scan.add(events.eventAt(i));
      const result = scan.finish();
      for (const key of Object.keys(counters) as Array<keyof ScanCounters>) counters[key] += result.counters[key];
      applyActions(incidents, result.actions);
      suppressed.push(...result.suppressed);
      state = result.state;
    }
    const steady = plan.to - cursor === interval && plan.remainingMs === 0 && plan.abandoned === undefined;
    cursor = plan.to;
    runs++;
    runsSimulated++;
    if (!canSkip || !steady || !carriesNothing(state)) continue;
    // The next runs read [cursor + (k-1)·interval - lateness, cursor + k·interval) for k = 1, 2, …: the first to read
    // the next event is k = floor((next - cursor) / interval) + 1; the ones before it read nothing.
    const next = firstAtOrAfter(events, cursor - cadence.latenessMs);
    const left = Math.floor((until - cursor) / interval) + 1;
    const empty = next === events.size ? left : Math.min(left, Math.floor((events.tsAt(next) - cursor) / interval));
    if (empty <= 0) continue;
    cursor += empty * interval;
    scheduledAt += empty * interval;
    state.watermark = cursor;
    runs += empty;
  }
  return { runs, runsSimulated, counters, incidents: [...incidents.values()], suppressed };
}
