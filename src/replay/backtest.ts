import type { DatadogAuditClient } from '../activities/datadog-client';
import type { AuditSpikeArgs } from '../config/args-schema';
import { Detector } from '../detection/detector';
import { DEFAULT_RETENTION_MS, lateAfterMs, pastRetention, planRun } from '../detection/plan';
import { formatDuration } from '../detection/duration';
import { plural } from '../detection/grammar';
import { zeroCounters, type IncidentAction, type ScanCounters, type SuppressedBurst } from '../detection/scan';
import type { IncidentSummary } from '../detection/summary';
import type { IncidentRecord } from '../workflows/run-result';
import { emptyState, type CarriedState } from '../detection/state';
import { mergeSuppressed } from '../detection/suppressed-bursts';
import { scanWindowWithRetries, type ScanRetryHooks } from './backtest-retry';
import { toIncidentOutput, type IncidentOutput, type ReplayIncident } from './incidents';
import { applyActions } from './engine';
import type { ActorWatch } from './explain-collect';

/** What PagerDuty would have been told in one run. */
/** One run's action; the evidence is shown once, on the report's incident. */
export interface BacktestAction extends Omit<IncidentRecord, 'evidence'>, Pick<IncidentSummary, 'title'> {}

export interface BacktestRun {
  /** The run's scheduled time: a tick of the Schedule's interval. */
  scheduledAt: string;
  /** What the run read, [from, to); null when it had nothing new to read. */
  window: { from: string; to: string } | null;
  eventsRead: number;
  matched: number;
  pages: number;
  actions: BacktestAction[];
  suppressed: SuppressedBurst[];
}

export interface BacktestReport {
  org: string;
  intervalMs: number;
  /** The range asked for, and the span the runs actually read. */
  requested: { from: string; to: string };
  read: { from: string; to: string };
  counters: ScanCounters & { pages: number };
  runs: BacktestRun[];
  /** Every incident that would have been opened, as PagerDuty would hold it at the end (final severity and counts). */
  incidents: IncidentOutput[];
  suppressed: SuppressedBurst[];
  /** What the reader must know about the result, plainly: the range reached past Datadog's retention. Always set by runBacktest. */
  warnings?: string[];
}

export interface BacktestOptions {
  args: AuditSpikeArgs;
  fromMs: number;
  toMs: number;
  /** The wall clock, against which Datadog's retention horizon stands (default Date.now()). */
  nowMs?: number;
  datadog: DatadogAuditClient;
  hooks: ScanRetryHooks & { runDone?(run: BacktestRun, index: number, total: number): void };
  /**
   * Ask Datadog nothing for time past its retention (`nowMs` − datadog.retention): those windows are skipped, not paged
   * through page by empty page, and the report's warning says so. The CLI sets it; off, they are read (tests of old data).
   */
  skipPastRetention?: boolean;
  /** Where the org's Schedule places its ticks in the interval (`phaseOffsetMs` of src/config/phase-offset.ts); 0: on the epoch grid. */
  phaseOffsetMs?: number;
  /** `--explain`'s observer of one actor's events (see ActorWatch). */
  watch?: ActorWatch;
}

/**
 * The Schedule's ticks in [from, to]: multiples of the interval since the Unix epoch plus the org's phase offset
 * (`phaseOffsetMs`), which is where Temporal places the org's interval spec, and which `schedule backfill --from --to`
 * starts runs for.
 */
export function scheduleTicks(fromMs: number, toMs: number, intervalMs: number, offsetMs = 0): number[] {
  const ticks: number[] = [];
  for (let tick = Math.ceil((fromMs - offsetMs) / intervalMs) * intervalMs + offsetMs; tick <= toMs; tick += intervalMs) ticks.push(tick);
  return ticks;
}

function toAction({ kind, summary }: IncidentAction): BacktestAction {
  const { actor, severity, rules, counts, events, firstSeen, lastSeen, dedupKey, title, late } = summary;
  return { kind, actor, severity, rules, counts, events, firstSeen, lastSeen, dedupKey, title, late };
}

/**
 * Plays the Schedule over a past range, run by run, as a schedule created just before `from` would have: the first run
 * reads its look-back, each next run reads from the previous cursor (with the lateness overlap) to its scheduled time
 * minus the ingestion delay. Each window is read from Datadog with the scan activity's own page loop, and the carried
 * state passes from run to run as the Schedule passes it. Nothing is paged.
 */
export async function runBacktest(options: BacktestOptions): Promise<BacktestReport> {
  const { args, hooks } = options;
  const { cadence } = args;
  const detector = new Detector(args.detection, cadence.latenessMs);
  // Catalog v3: baselines built from the backtest's own input (no alert during a person's warm-up), as a dry run does.
  const baselines = detector.methods.learns ? detector.methods.newBaselines() : undefined;
  const ticks = scheduleTicks(options.fromMs, options.toMs, cadence.intervalMs, options.phaseOffsetMs ?? 0);
  const counters = { ...zeroCounters(), pages: 0 };
  const incidents = new Map<string, ReplayIncident>();
  const runs: BacktestRun[] = [];
  const suppressed: SuppressedBurst[] = [];
  let cursor: number | undefined;
  let state: CarriedState | undefined;
  let readFrom: number | undefined;
  const retentionMs = args.datadog.retentionMs ?? DEFAULT_RETENTION_MS;
  const nowMs = options.nowMs ?? Date.now();
  const readableFrom = options.skipPastRetention ? nowMs - retentionMs : -Infinity;
  let windowsSkipped = 0;

  for (const [index, scheduledAt] of ticks.entries()) {
    const plan = planRun(cursor, scheduledAt, cadence);
    readFrom ??= plan.chunks[0]?.from;
    const run: BacktestRun = {
      scheduledAt: new Date(scheduledAt).toISOString(),
      window: plan.chunks.length ? { from: new Date(plan.chunks[0].from).toISOString(), to: new Date(plan.to).toISOString() } : null,
      eventsRead: 0, matched: 0, pages: 0, actions: [], suppressed: [],
    };
    for (const planned of plan.chunks) {
      if (planned.to <= readableFrom) {
        windowsSkipped++;
        continue;
      }
      const window = planned.from < readableFrom ? { ...planned, from: Math.ceil(readableFrom / 1000) * 1000 } : planned;
      state ??= emptyState(window.from);
      options.watch?.run(scheduledAt, window, baselines);
      const scanned = await scanWindowWithRetries(options.datadog, detector, {
        orgId: args.orgId,
        datadog: args.datadog,
        detection: args.detection,
        window,
        runAt: scheduledAt,
        lateAfterMs: lateAfterMs(cadence),
        state,
        ...(baselines ? { baselines } : {}),
        ...(options.watch ? { watch: options.watch.watch } : {}),
      }, hooks);
      for (const key of Object.keys(scanned.counters) as Array<keyof ScanCounters>) counters[key] += scanned.counters[key];
      counters.pages += scanned.pages;
      run.eventsRead += scanned.counters.read;
      run.matched += scanned.counters.matched;
      run.pages += scanned.pages;
      run.actions.push(...scanned.actions.map(toAction));
      mergeSuppressed(run.suppressed, scanned.suppressed);
      applyActions(incidents, scanned.actions);
      state = scanned.state;
    }
    mergeSuppressed(suppressed, run.suppressed);
    cursor = plan.to;
    runs.push(run);
    hooks.runDone?.(run, index, ticks.length);
  }

  const readStart = readFrom ?? options.fromMs;
  const gone = pastRetention(readStart, cursor ?? options.toMs, nowMs, retentionMs);
  const warnings = gone ? [retentionWarning(gone, retentionMs, windowsSkipped)] : [];
  return {
    org: args.orgId,
    intervalMs: cadence.intervalMs,
    requested: { from: new Date(options.fromMs).toISOString(), to: new Date(options.toMs).toISOString() },
    read: { from: new Date(readFrom ?? options.fromMs).toISOString(), to: new Date(cursor ?? options.fromMs).toISOString() },
    counters,
    runs,
    incidents: toIncidentOutput([...incidents.values()]),
    suppressed,
    warnings,
  };
}

function retentionWarning(gone: { from: number; to: number; readableFrom: number }, retentionMs: number, windowsSkipped: number): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const what = windowsSkipped > 0
    ? `the backtest did not ask Datadog for them (${plural(windowsSkipped, 'window')} skipped), and found nothing there, which says nothing about what happened then`
    : 'the runs reading them found nothing there, which says nothing about what happened then';
  return `Datadog keeps audit events for ${formatDuration(retentionMs)} (datadog.retention), so the events from ${iso(gone.from)} to ${iso(gone.to)} ` +
    `are gone: ${what}. Datadog can be read from ` +
    `${iso(gone.readableFrom)}: backtest from then on, or set datadog.retention if your org keeps audit events longer (3d to 90d).`;
}
