import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { AuditSpikeActivities } from '../activities';
import type { IncidentOutcome } from '../activities/pagerduty';
import type { PagerDutyTarget } from '../config/args-schema';
import type { IncidentAction } from '../detection/scan';
import { isPackedState, type StoredState } from '../detection/state';
import type { Severity } from '../detection/types';
import { plural } from '../detection/grammar';
import type { IncidentRecord } from './run-result';

/**
 * One attempt makes at most four PagerDuty calls; each is bounded by the request timeout plus pdjs' own three short 429
 * retries (src/activities/pagerduty/pdjs-calls.ts, callBudgetMs), so a worker that dies mid-call is noticed soon after.
 */
function attemptTimeoutMs(requestTimeoutMs: number): number {
  return 4 * (requestTimeoutMs + 3_000) + 10_000;
}

/** A new burst's page must reach PagerDuty: retried for an hour (the dedup key keeps it to one incident), then the run fails. */
function mustDeliver(requestTimeoutMs: number, summary: string) {
  return proxyActivities<AuditSpikeActivities>({
    summary,
    startToCloseTimeout: attemptTimeoutMs(requestTimeoutMs),
    scheduleToCloseTimeout: '1 hour',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  }).openOrUpdateIncident;
}

/**
 * An update or resolve is best-effort: a few retries for what passes (5xx, 429 after the wait PagerDuty asks for), then
 * the run records why it could not be delivered and goes on, so one incident's rejection never blocks later runs or
 * other actors' pages.
 */
function bestEffort(requestTimeoutMs: number, summary: string) {
  return proxyActivities<AuditSpikeActivities>({
    summary,
    startToCloseTimeout: attemptTimeoutMs(requestTimeoutMs),
    scheduleToCloseTimeout: '10 minutes',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
  }).openOrUpdateIncident;
}

/**
 * The severity PagerDuty was last told for this action's burst: from the action (the scan puts it there), else, for a
 * scan of an earlier version, read from the unpacked state the run started its scan with.
 */
export function notifiedSeverityOf(state: StoredState | undefined, action: IncidentAction): Severity | undefined {
  if (action.notifiedSeverity !== undefined || state === undefined || isPackedState(state)) return action.notifiedSeverity;
  const incident = state.actors[action.summary.actor]?.incident;
  return incident?.dedupKey === action.summary.dedupKey ? incident.notified?.severity : undefined;
}

const VERBS: Record<IncidentAction['kind'], string> = { trigger: 'Page', update: 'Update incident for', resolve: 'Resolve incident for' };

/** Tells PagerDuty about one action; a trigger that cannot be delivered fails the run, anything else becomes an outcome. */
export async function tellPagerDuty(pagerduty: PagerDutyTarget, action: IncidentAction, notifiedSeverity: Severity | undefined): Promise<IncidentOutcome> {
  const { summary } = action;
  const label = `${VERBS[action.kind]} ${summary.actor} (${summary.severity}, ${summary.events} events)`;
  if (action.kind === 'trigger') return mustDeliver(pagerduty.requestTimeoutMs, label)({ pagerduty, action });
  try {
    return await bestEffort(pagerduty.requestTimeoutMs, label)({ pagerduty, action, ...(notifiedSeverity ? { notifiedSeverity } : {}) });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    const reason = (error.cause?.message ?? error.message).slice(0, 300);
    log.warn(`Could not ${action.kind} the incident of ${summary.actor}; going on`, { dedupKey: summary.dedupKey, reason });
    return { kind: action.kind, dedupKey: summary.dedupKey, result: 'failed', detail: `not delivered: ${reason}` };
  }
}

export function incidentRecord(action: IncidentAction, outcome: IncidentOutcome): IncidentRecord {
  const { summary } = action;
  return {
    kind: action.kind, actor: summary.actor, severity: summary.severity, rules: summary.rules, counts: summary.counts,
    events: summary.events, firstSeen: summary.firstSeen, lastSeen: summary.lastSeen, dedupKey: summary.dedupKey, late: summary.late,
    evidence: summary.evidence,
    outcome: { result: outcome.result, detail: outcome.detail, ...(outcome.incidentId ? { incidentId: outcome.incidentId } : {}) },
  };
}

/** How the run's incidents ended, for its one-line report: what was paged, and what was left to a person or failed. */
export function outcomeReport(incidents: IncidentRecord[]): string[] {
  const paged = incidents.filter((i) => i.kind === 'trigger');
  const later = incidents.filter((i) => i.kind !== 'trigger');
  // An ongoing burst (an update, whether re-sent or not) is never "quiet": its actor is still over a threshold.
  const continuing = incidents.filter((i) => i.kind === 'update');
  const parts = [
    ...(paged.length ? [`paged ${paged.length}: ${paged.map((i) => `${i.actor} (${i.severity})`).join(', ')}`] : []),
    ...(continuing.length ? [`burst continues: ${continuing.map((i) => `${i.actor} (${i.severity}, ${plural(i.events, 'event')})`).join(', ')}`] : []),
  ];
  if (!parts.length) parts.push('quiet: no actor crossed a threshold');
  if (later.length) {
    const byResult = new Map<string, number>();
    for (const i of later) byResult.set(i.outcome?.result ?? 'sent', (byResult.get(i.outcome?.result ?? 'sent') ?? 0) + 1);
    parts.push(`${plural(later.length, 'incident update')}: ${[...byResult].map(([result, n]) => `${n} ${result}`).join(', ')}`);
  }
  for (const i of incidents) {
    if (i.outcome?.result === 'skipped' || i.outcome?.result === 'failed') parts.push(`${i.kind} ${i.actor} ${i.outcome.result}: ${i.outcome.detail}`);
  }
  return parts;
}
