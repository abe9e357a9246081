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
  runs: number;
  counters: ScanCounters;
  incidents: ReplayIncident[];
  suppressed: SuppressedBurst[];
}

function firstAtOrAfter(events: TimedEvent[], ts: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].ts < ts) lo = mid + 1;
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

/**
 * Replays time-ordered events through the same window planning and scan code as the live workflow, one scheduled
 * run per interval from the first event's interval to past the last, carrying state between runs.
 */
export function replay(ordered: TimedEvent[], args: AuditSpikeArgs): ReplayReport {
  const counters = zeroCounters();
  const incidents = new Map<string, ReplayIncident>();
  const suppressed: SuppressedBurst[] = [];
  if (ordered.length === 0) return { runs: 0, counters, incidents: [], suppressed };
  const { cadence } = args;
  const detector = new Detector(args.detection, cadence.latenessMs);
  let cursor = Math.floor(ordered[0].ts / cadence.intervalMs) * cadence.intervalMs;
  let state: CarriedState = emptyState(cursor);
  const lastTs = ordered[ordered.length - 1].ts;
  let runs = 0;
  // One extra interval past the last event plus the quiet period, so a burst's lifecycle completes as it would live.
  const until = lastTs + detector.quietMs + cadence.latenessMs + cadence.intervalMs;
  for (let scheduledAt = cursor + cadence.ingestionDelayMs + cadence.intervalMs; cursor <= until; scheduledAt += cadence.intervalMs) {
    const plan = planRun(cursor, scheduledAt, cadence);
    for (const window of plan.chunks) {
      const scan = Scan.start(detector, { orgId: args.orgId, window, runAt: scheduledAt, lateAfterMs: lateAfterMs(cadence) }, state);
      const end = firstAtOrAfter(ordered, window.to);
      for (let i = firstAtOrAfter(ordered, window.readFrom); i < end; i++) scan.add(ordered[i].event);
      const result = scan.finish();
      for (const key of Object.keys(counters) as Array<keyof ScanCounters>) counters[key] += result.counters[key];
      applyActions(incidents, result.actions);
      suppressed.push(...result.suppressed);
      state = result.state;
    }
    cursor = plan.to;
    runs++;
  }
  return { runs, counters, incidents: [...incidents.values()], suppressed };
}
