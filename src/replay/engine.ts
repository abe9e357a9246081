import type { AuditSpikeArgs } from '../config/args-schema';
import { Detector } from '../detection/detector';
import { eventTimestamp, innerAttributes } from '../detection/event-fields';
import { lateAfterMs, planRun } from '../detection/plan';
import { Scan, zeroCounters, type IncidentAction, type ScanCounters, type SuppressedBurst } from '../detection/scan';
import { emptyState, type CarriedState } from '../detection/state';
import { mergeSuppressed } from '../detection/suppressed-bursts';
import type { AuditEventLike } from '../detection/types';
import type { ActorWatch } from './explain-collect';
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
 * PagerDuty and counted nothing, so no incident, count or suppression changes. `runs` still counts them. (Catalog v3
 * baselines change only with the events a scan reads, so an empty run leaves them as they are too.)
 */
export function replaySource(events: ReplaySource, args: AuditSpikeArgs): ReplayReport {
  return new Replayer(events, args).finish();
}

/**
 * The replay, fed as its source grows: `advance(known, nextTs)` says the first `known` events of the source (in time
 * order) are all the events before `nextTs`, and runs every scheduled run that these decide. A file in time order is
 * replayed while it is read (events-file.ts), holding only the events of the run under way and its lateness overlap.
 * `finish()` runs the rest, to past the last event, and reports; with no `advance` first it replays the whole source.
 */
export class Replayer {
  private readonly counters = zeroCounters();
  private readonly incidents = new Map<string, ReplayIncident>();
  private readonly suppressed: SuppressedBurst[] = [];
  private readonly detector: Detector;
  private readonly baselines: ReturnType<Detector['methods']['newBaselines']> | undefined;
  private readonly interval: number;
  /** Runs are the same shifted by whole seconds (planRun works in seconds): only then is an empty run like the next. */
  private readonly canSkip: boolean;
  private state: CarriedState | undefined;
  private cursor = 0;
  private scheduledAt = 0;
  private runs = 0;
  private runsSimulated = 0;
  /** The first event a later run may still read (at or after the cursor minus the lateness overlap). */
  private first = 0;

  /** `watch`: `--explain`'s observer of one actor's events (see ActorWatch). */
  constructor(private readonly events: ReplaySource, private readonly args: AuditSpikeArgs, private readonly watch?: ActorWatch) {
    const { cadence } = args;
    this.interval = cadence.intervalMs;
    this.detector = new Detector(args.detection, cadence.latenessMs);
    // Catalog v3: the persons' baselines are built from the replay's own input, carried across its runs as the live
    // store carries them (so a person's rules stay quiet during their warm-up here too).
    this.baselines = this.detector.methods.learns ? this.detector.methods.newBaselines() : undefined;
    this.canSkip = this.interval % 1000 === 0;
  }

  private begin(): CarriedState {
    this.cursor = Math.floor(this.events.tsAt(0) / this.interval) * this.interval;
    this.scheduledAt = this.cursor + this.args.cadence.ingestionDelayMs + this.interval;
    return (this.state = emptyState(this.cursor));
  }

  /** The first of events [from, known) at or after ts. */
  private firstAtOrAfter(ts: number, from: number, known: number): number {
    let lo = from;
    let hi = known;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events.tsAt(mid) < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Events [0, known) are every event before nextTs: runs the runs that end by then. */
  advance(known: number, nextTs: number): void {
    if (known === 0 || nextTs < this.undecided) return;
    this.runWhile(known, nextTs, Infinity);
  }

  /** The end of the next run, when an `advance` found it undecided (until an event at or after it comes). */
  private undecided = -Infinity;

  finish(): ReplayReport {
    const known = this.events.size;
    if (known > 0) {
      const { cadence } = this.args;
      // One extra interval past the last event plus the quiet period, so a burst's lifecycle completes as it would live.
      const until = this.events.tsAt(known - 1) + this.detector.quietMs + cadence.latenessMs + this.interval;
      this.runWhile(known, Infinity, until);
    }
    return { runs: this.runs, runsSimulated: this.runsSimulated, counters: this.counters, incidents: [...this.incidents.values()], suppressed: this.suppressed };
  }

  private runWhile(known: number, nextTs: number, until: number): void {
    const { cadence, orgId } = this.args;
    const { events, interval, detector, baselines } = this;
    let state = this.state ?? this.begin();
    while (this.cursor <= until) {
      const plan = planRun(this.cursor, this.scheduledAt, cadence);
      if (plan.to > nextTs) {
        this.undecided = plan.to; // an event still to come may fall in this run
        break;
      }
      for (const window of plan.chunks) {
        this.watch?.run(this.scheduledAt, window, baselines);
        const scan = Scan.start(detector, {
          orgId, window, runAt: this.scheduledAt, lateAfterMs: lateAfterMs(cadence), ...(baselines ? { baselines } : {}), ...(this.watch ? { watch: this.watch.watch } : {}),
        }, state);
        const end = this.firstAtOrAfter(window.to, this.first, known);
        for (let i = this.firstAtOrAfter(window.readFrom, this.first, known); i < end; i++) scan.add(events.eventAt(i));
        const result = scan.finish();
        for (const key of Object.keys(this.counters) as Array<keyof ScanCounters>) this.counters[key] += result.counters[key];
        applyActions(this.incidents, result.actions);
        mergeSuppressed(this.suppressed, result.suppressed);
        state = this.state = result.state;
      }
      const steady = plan.to - this.cursor === interval && plan.remainingMs === 0 && plan.abandoned === undefined;
      this.cursor = plan.to;
      this.scheduledAt += interval;
      this.runs++;
      this.runsSimulated++;
      this.first = this.firstAtOrAfter(this.cursor - cadence.latenessMs, this.first, known);
      if (!this.canSkip || !steady || !carriesNothing(state)) continue;
      // The next runs read [cursor + (k-1)·interval - lateness, cursor + k·interval) for k = 1, 2, …: the first to read
      // the next event is k = floor((next - cursor) / interval) + 1; the ones before it read nothing.
      const next = this.first < known ? events.tsAt(this.first) : nextTs;
      const left = until === Infinity ? Infinity : Math.floor((until - this.cursor) / interval) + 1;
      const empty = Math.min(left, Math.floor((next - this.cursor) / interval));
      if (!(empty > 0) || empty === Infinity) continue;
      this.cursor += empty * interval;
      this.scheduledAt += empty * interval;
      state.watermark = this.cursor;
      this.runs += empty;
    }
  }
}
