import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, TimeoutFailure, log, patched, proxyActivities, proxyLocalActivities, setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AuditSpikeActivities } from '../activities';
import type { CarriedResult } from '../activities/latest-run-result';
import { AuditSpikeArgsSchema, describeIssues, type AuditSpikeArgs } from '../config/args-schema';
import { expandScheduleArgs, type ScheduleArgs } from '../config/schedule-args';
import { lateAfterMs, planRun } from '../detection/plan';
import { zeroCounters, type ScanCounters, type ScanWindow, type SuppressedBurst } from '../detection/scan';
import { emptyState, type StoredState } from '../detection/state';
import { mergeSuppressed } from '../detection/suppressed-bursts';
import { formatDuration } from '../detection/duration';
import { incidentRecord, notifiedSeverityOf, outcomeReport, tellPagerDuty } from './pagerduty-steps';
import { startContainmentFor } from './start-containment';
import { boundIncidentRecords } from './incident-records';
import { isRunResult, type IncidentRecord, type RunResult, type StateRef } from './run-result';
import { runArgsHash } from './run-args-ref';
import { AUDIT_SPIKE_EVENTS_READ, AUDIT_SPIKE_ORG, AUDIT_SPIKE_PAGED, AUDIT_SPIKE_SEVERITY } from './search-attributes';
import { higherSeverity, type Severity } from '../detection/types';
import type { Evidence } from '../detection/evidence';
import { assetLines, behaviourLines } from '../detection/evidence-text';

/** The scan's heartbeat timeout decides how fast a crashed worker's page loop resumes elsewhere; it comes from the config. */
function scanActivity(heartbeatTimeoutMs = 60_000, summary?: string) {
  return proxyActivities<AuditSpikeActivities>({
    ...(summary ? { summary } : {}),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    // Past this the run fails and leaves its cursor; the next scheduled run reads the same window again.
    scheduleToCloseTimeout: '1 hour',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
  }).scanAuditEvents;
}

/**
 * A window whose scan keeps dying with its worker (killed, out of memory) is read in halves rather than by the same
 * doomed attempt forever: an attempt that dies times out on its heartbeat, and after this many the window splits.
 */
const ATTEMPTS_BEFORE_SPLIT = 3;
/** Windows shorter than twice this are not split further: they are retried as any scan is. */
const MIN_SPLIT_MS = 60_000;
const SPLIT_DYING_WINDOWS = 'scan-splits-a-window-whose-attempts-die';

function splittableScanActivity(heartbeatTimeoutMs = 60_000, summary?: string) {
  return proxyActivities<AuditSpikeActivities>({
    ...(summary ? { summary } : {}),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    scheduleToCloseTimeout: '1 hour',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: ATTEMPTS_BEFORE_SPLIT },
  }).scanAuditEvents;
}

/** The attempts ended because no worker finished them (the last timed out): not Datadog, not the config. */
function diedWithWorker(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof TimeoutFailure;
}

function isFinal(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.nonRetryable === true;
}

/** Two halves of a window, on whole seconds; the second re-reads nothing (the first half's hits are in the state). */
function halves(window: ScanWindow): [ScanWindow, ScanWindow] {
  const mid = window.from + Math.floor((window.to - window.from) / 2000) * 1000;
  return [{ readFrom: window.readFrom, from: window.from, to: mid }, { readFrom: mid, from: mid, to: window.to }];
}

const LOOKUP_OPTIONS = { startToCloseTimeout: '1 minute', retry: { initialInterval: '2 seconds', maximumAttempts: 3 } } as const;
const remoteLookups = proxyActivities<AuditSpikeActivities>(LOOKUP_OPTIONS);

/**
 * A quiet run's cost (#24), what a Temporal Cloud user pays per run: the two lookups (the newest completed run, the
 * search attributes) are local activities, started together in the first workflow task, whose markers Cloud counts as
 * one action with this patch's own marker; the scan reads the config from the run's start input instead of carrying
 * a second copy; the memo and the search attributes go out in the last workflow task. One activity and two workflow
 * tasks instead of three and four. Runs recorded before it replay as they ran.
 */
const CHEAP_QUIET_RUN = 'quiet-run-local-lookups-and-config-by-reference';
const localLookups = proxyLocalActivities<AuditSpikeActivities>(LOOKUP_OPTIONS);
type Lookups = Pick<AuditSpikeActivities, 'findLatestRunResult' | 'checkSearchAttributes'>;

/** Whether the namespace has the AuditSpike* search attributes; a failed check counts as no (the run still completes). */
function searchAttributesAvailable(lookups: Lookups, orgId: string): Promise<boolean> {
  return lookups.checkSearchAttributes().then((check) => check.available, (error) => {
    log.warn('Could not check the AuditSpike* search attributes; this run is not searchable by them', { orgId, error: String(error) });
    return false;
  });
}

/**
 * Makes the run findable (`AuditSpikePaged = true`, `AuditSpikeSeverity = "critical"`). Upserting attributes the namespace
 * lacks would fail every workflow task, so the worker is asked first (once per worker); without them the run still
 * completes, and the worker has said how to register them. `checked`: the answer asked for at the run's start.
 */
async function markRunSearchable(orgId: string, eventsRead: number, incidents: IncidentRecord[], checked?: Promise<boolean>): Promise<void> {
  const available = await (checked ?? searchAttributesAvailable(remoteLookups, orgId));
  if (!available) return;
  const paged = incidents.filter((i) => i.kind === 'trigger' && i.outcome?.result !== 'failed');
  const severity = paged.reduce<Severity | undefined>((top, i) => (top ? higherSeverity(top, i.severity) : i.severity), undefined);
  upsertSearchAttributes([
    { key: AUDIT_SPIKE_ORG, value: orgId },
    { key: AUDIT_SPIKE_PAGED, value: paged.length > 0 },
    { key: AUDIT_SPIKE_EVENTS_READ, value: eventsRead },
    ...(severity ? [{ key: AUDIT_SPIKE_SEVERITY, value: severity }] : []),
  ]);
}

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/** The nominal time of this run: the Schedule's scheduled time, else (started by hand) when the run started. */
function scheduledTime(): number {
  const info = workflowInfo();
  const typed = info.typedSearchAttributes.get(SCHEDULED_START);
  if (typed instanceof Date && !Number.isNaN(typed.getTime())) return typed.getTime();
  return info.runStartTime.getTime();
}

/**
 * Where the last run left off: the Schedule's last completion result, or a newer completed run of the same Schedule
 * (a manual trigger's runs are outside the Schedule's result chain). Neither → undefined, and the run reads the look-back.
 */
async function previousResult(orgId: string, lookups: Lookups): Promise<CarriedResult | undefined> {
  const info = workflowInfo();
  let best: CarriedResult | undefined;
  if (isRunResult(info.lastResult, orgId)) best = info.lastResult;
  else if (info.lastResult !== undefined) log.warn('Ignoring a previous result of another shape or org', { orgId });
  const scheduleId = info.typedSearchAttributes.get(SCHEDULED_BY);
  if (typeof scheduleId === 'string' && scheduleId !== '') {
    try {
      const latest = await lookups.findLatestRunResult({ scheduleId, orgId, currentWorkflowId: info.workflowId, currentRunId: info.firstExecutionRunId, ...(best ? { knownCursor: best.cursor } : {}) });
      // A result newer than the last completion result comes whole; otherwise only which run it is (never a second copy).
      // An activity result recorded by an earlier version is the result itself.
      const found: CarriedResult | undefined = isRunResult(latest, orgId) ? latest : latest?.result;
      if (found && (!best || found.cursor > best.cursor)) best = found;
    } catch (error) {
      log.warn('Could not look up the newest completed run; using the last completion result', { orgId, error: String(error) });
    }
  }
  return best;
}

/** The run's outcome as Temporal markdown, shown on the run's page in the web UI. */
function runDetails(report: string, counts: ScanCounters & { pages: number }, incidents: IncidentRecord[], suppressed: SuppressedBurst[]): string {
  const lines = [`**${incidents.some((i) => i.kind === 'trigger') ? 'Burst detected' : incidents.length ? 'Burst continues' : 'Quiet'}**: ${report}`, ''];
  lines.push(`Events read ${counts.read}, sensitive ${counts.matched}, skipped (malformed) ${counts.skipped}, duplicates ${counts.duplicates}, unknown actor ${counts.unknownActor}, pages ${counts.pages}.`);
  for (const incident of incidents) {
    const perRule = Object.entries(incident.counts).map(([rule, count]) => `${rule}=${count}`).join(', ');
    const outcome = incident.outcome ? ` — ${incident.outcome.result}: ${incident.outcome.detail}` : '';
    lines.push(`- ${incident.kind} **${incident.actor}** ${incident.severity}: ${perRule}; ${incident.firstSeen} → ${incident.lastSeen}${incident.late ? ' (late)' : ''}${outcome}`);
    if (incident.evidence) lines.push(...evidenceLines(incident.evidence));
  }
  for (const s of suppressed) lines.push(`- suppressed **${s.actor}** (${s.severity}, ${s.events} events): ${s.reason}`);
  return lines.join('\n');
}

/** The evidence under an incident's line: where from, how, what was touched, and the first sample. */
function evidenceLines(evidence: Evidence): string[] {
  const lines = [`  - from ${evidence.ips.join(', ') || 'no recorded IP'}; ${evidence.userAgents.length ? `user agents ${evidence.userAgents.join(', ')}; ` : ''}auth ${evidence.authMethods.join(', ') || 'unknown'}; actor type ${evidence.actorTypes.join(', ') || 'unknown'}`];
  lines.push(...assetLines(evidence, '  - '));
  // Catalog v3, in words (none for events without geoip): countries, "first sensitive change from Romania (seen before:
  // United States)", "New York → Singapore, 15,300 km in 40 min".
  lines.push(...behaviourLines(evidence, '  - '));
  const first = evidence.samples[0];
  if (first) lines.push(`  - first sample: ${first.timestamp} ${first.rule}: ${first.message || '(no message)'} [${first.id}]`);
  return lines;
}

function addCounters(total: ScanCounters & { pages: number }, more: ScanCounters, pages: number): void {
  for (const key of Object.keys(more) as Array<keyof ScanCounters>) total[key] += more[key];
  total.pages += pages;
}

/**
 * One scheduled run: read the audit trail since the previous run's cursor, detect bursts, page once per burst.
 * Deterministic and I/O-free; the previous run's result arrives as the Schedule's last completion result.
 */
export async function auditSpikeWorkflow(rawArgs: AuditSpikeArgs | ScheduleArgs): Promise<RunResult> {
  // A Schedule applied since #24 names the defaults by reference: put back from this worker's to validate.
  const parsed = AuditSpikeArgsSchema.safeParse(expandScheduleArgs(rawArgs).args);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: 'BadScheduleArguments',
      nonRetryable: true,
      message: `The schedule's arguments are invalid; fix the config and run \`audit-spike schedule apply\`:\n${describeIssues(parsed.error).join('\n')}`,
    });
  }
  const args = parsed.data;
  const cheap = patched(CHEAP_QUIET_RUN);
  // Local activities of the first workflow task, both under way before either is awaited.
  const searchable = cheap ? searchAttributesAvailable(localLookups, args.orgId) : undefined;
  const previous = await previousResult(args.orgId, cheap ? localLookups : remoteLookups);
  // The config as the scan gets it: where it is (this run's start input) and its hash, or (before the patch) a copy.
  const config = cheap
    ? { config: { from: { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId }, hash: runArgsHash(rawArgs) } }
    : { datadog: args.datadog, detection: args.detection };
  const hasPrevious = previous !== undefined;

  const scheduledAt = scheduledTime();
  const plan = planRun(hasPrevious ? previous.cursor : undefined, scheduledAt, args.cadence, args.datadog.retentionMs);
  // Where the scan finds the state: a run's history (the one copy, the last completed scan's result: the previous run's,
  // then this run's own for its next chunk), or inline (the first run's empty state; a state an earlier version returned).
  let source: { stateFrom: StateRef } | { state: StoredState } = previous?.stateRef
    ? { stateFrom: previous.stateRef }
    : { state: previous?.state ?? emptyState(plan.chunks[0]?.from ?? plan.to) };
  const counts = { ...zeroCounters(), pages: 0 };
  const incidents: IncidentRecord[] = [];
  const suppressed: SuppressedBurst[] = [];
  const warnings: string[] = plan.abandonedReason ? [plan.abandonedReason] : [];

  const iso = (ms: number) => new Date(ms).toISOString();
  setCurrentDetails(
    plan.chunks.length
      ? `Reading the Datadog Audit Trail of org **${args.orgId}** from ${iso(plan.chunks[0].from)} to ${iso(plan.to)}` +
          `${plan.chunks.length > 1 ? ` in ${plan.chunks.length} chunks (catching up)` : ''}; started from ${hasPrevious ? "the previous run's cursor" : 'the look-back'}.`
      : `Nothing new to read for org **${args.orgId}** (cursor ${iso(plan.to)}).`,
  );
  let splitting: boolean | undefined;
  const windows = plan.chunks.map((window, index) => ({ window, label: plan.chunks.length > 1 ? ` (chunk ${index + 1}/${plan.chunks.length})` : '' }));
  while (windows.length > 0) {
    const { window, label: chunkLabel } = windows.shift()!;
    const summary = `Read audit events ${iso(window.from)} → ${iso(window.to)}${chunkLabel}`;
    const input = {
      orgId: args.orgId,
      ...config,
      latenessMs: args.cadence.latenessMs,
      window,
      runAt: scheduledAt,
      lateAfterMs: lateAfterMs(args.cadence),
      ...source,
    };
    // Runs of the cheap quiet run came after the splitting patch: they split without asking (a patch costs a marker and
    // a TemporalChangeVersion upsert, counted by the server's action metric).
    splitting ??= cheap || patched(SPLIT_DYING_WINDOWS);
    let scanned;
    if (splitting && window.to - window.from >= 2 * MIN_SPLIT_MS) {
      try {
        scanned = await splittableScanActivity(args.datadog.heartbeatTimeoutMs, summary)(input);
      } catch (error) {
        if (isFinal(error)) throw error;
        if (diedWithWorker(error)) {
          const [first, second] = halves(window);
          const warning = `the scan of ${iso(window.from)} → ${iso(window.to)} died with its worker ${ATTEMPTS_BEFORE_SPLIT} times (killed or out of memory): read in two halves instead`;
          log.warn(warning, { orgId: args.orgId });
          warnings.push(warning);
          windows.unshift({ window: first, label: `${chunkLabel} (first half)` }, { window: second, label: `${chunkLabel} (second half)` });
          continue;
        }
        // Datadog or the network, not the window's size: retried as any scan is, for as long as the run allows.
        scanned = await scanActivity(args.datadog.heartbeatTimeoutMs, summary)(input);
      }
    } else {
      scanned = await scanActivity(args.datadog.heartbeatTimeoutMs, summary)(input);
    }
    addCounters(counts, scanned.counters, scanned.pages);
    for (const warning of scanned.warnings ?? []) if (!warnings.includes(warning)) warnings.push(warning);
    mergeSuppressed(suppressed, scanned.suppressed);
    for (const action of scanned.actions) {
      // The scan puts on each action what PagerDuty was last told; a scan of an earlier version left it in the state.
      const outcome = await tellPagerDuty(args.pagerduty, action, notifiedSeverityOf('state' in source ? source.state : undefined, action));
      incidents.push(incidentRecord(action, outcome));
      await startContainmentFor(args, action, outcome);
    }
    // The state this scan returned stays in its completed event; the next chunk's scan (or the next run's) reads it there.
    source = { stateFrom: { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId } };
  }

  const from = plan.chunks[0]?.from ?? plan.to;
  const resultIncidents = boundIncidentRecords(incidents);
  if (resultIncidents.leftOut) warnings.push(resultIncidents.leftOut);
  const report = [
    `Read ${counts.read} audit events (${counts.matched} sensitive, ${counts.skipped} skipped) from ${new Date(from).toISOString()} to ${new Date(plan.to).toISOString()}`,
    ...outcomeReport(incidents),
    ...(suppressed.length ? [`suppressed ${suppressed.length}: ${suppressed.map((s) => s.actor).join(', ')}`] : []),
    ...(plan.remainingMs > 0 ? [`catching up: ${formatDuration(plan.remainingMs)} left for the next runs`] : []),
    ...warnings,
  ].join('; ');
  log.info(report, { orgId: args.orgId, window: { from: iso(from), to: iso(plan.to) } });
  setCurrentDetails(runDetails(report, counts, incidents, suppressed));
  // The memo is what the workflow list and the run's page show at a glance.
  upsertMemo({
    report,
    window: `${iso(from)} → ${iso(plan.to)}`,
    eventsRead: counts.read,
    eventsSkipped: counts.skipped,
    burstingActors: incidents.filter((i) => i.kind === 'trigger').map((i) => `${i.actor} (${i.severity})`).join(', ') || 'none',
  });
  await markRunSearchable(args.orgId, counts.read, incidents, searchable);

  return {
    v: 1,
    orgId: args.orgId,
    cursor: plan.to,
    window: { from: new Date(from).toISOString(), to: new Date(plan.to).toISOString() },
    scheduledAt: new Date(scheduledAt).toISOString(),
    startedFrom: hasPrevious ? 'previous-run' : 'lookback',
    chunks: plan.chunks.length,
    remainingMs: plan.remainingMs,
    ...(plan.abandoned ? { abandoned: { from: new Date(plan.abandoned.from).toISOString(), to: new Date(plan.abandoned.to).toISOString(), ...(plan.abandonedReason ? { reason: plan.abandonedReason } : {}) } } : {}),
    ...(warnings.length ? { warnings } : {}),
    counts,
    incidents: resultIncidents.records,
    suppressed: suppressed.slice(0, 100),
    report,
    ...('stateFrom' in source ? { stateRef: source.stateFrom } : { state: source.state }),
  };
}
