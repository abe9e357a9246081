import type { IncidentOutcome } from '../activities/pagerduty';
import type { ScanCounters, SuppressedBurst, IncidentAction } from '../detection/scan';
import { isCarriedState, type StoredState } from '../detection/state';
import type { IncidentSummary } from '../detection/summary';

/** What a run reports of each incident it told PagerDuty about: the summary and its evidence, without its rendered text. */
export interface IncidentRecord
  extends Pick<IncidentSummary, 'actor' | 'severity' | 'rules' | 'counts' | 'events' | 'firstSeen' | 'lastSeen' | 'dedupKey' | 'late'>, Partial<Pick<IncidentSummary, 'evidence'>> {
  kind: IncidentAction['kind'];
  /** What PagerDuty made of it (a live run; replays have none): e.g. skipped, "resolved in PagerDuty by a person". */
  outcome?: Pick<IncidentOutcome, 'result' | 'detail' | 'incidentId'>;
}

/** What a run returns: the next run's starting point (cursor and carried state) and a small report. Never raw events. */
export interface RunResult {
  v: 1;
  orgId: string;
  /** Epoch ms up to which the audit trail has been read; the next run starts here. */
  cursor: number;
  window: { from: string; to: string };
  scheduledAt: string;
  /** Where this run's start came from. */
  startedFrom: 'previous-run' | 'lookback';
  chunks: number;
  /** Time still to catch up, finished by the following runs. */
  remainingMs: number;
  /** Time that was never read (a gap past schedule.maxCatchUp or Datadog's retention), and why. */
  abandoned?: { from: string; to: string; reason?: string };
  /** Plain sentences a person should see: retention reached, time that could not be read. */
  warnings?: string[];
  counts: ScanCounters & { pages: number };
  incidents: IncidentRecord[];
  suppressed: SuppressedBurst[];
  /** One line a person can read in the Temporal UI. */
  report: string;
  /**
   * Where the carried state is: the run whose last completed scan activity returned it (the one copy in Temporal; the
   * next scan fetches it from that run's history). This version returns `stateRef`, or `state` for a state it was
   * handed inline and did not scan (nothing new to read).
   */
  stateRef?: StateRef;
  /** The carried state inline, as versions before the reference returned it (an earlier version's state, possibly). */
  state?: StoredState;
}

/** A run whose history holds the carried state: the result of its last completed `scanAuditEvents`. */
export interface StateRef {
  workflowId: string;
  runId: string;
}

export function isStateRef(value: unknown): value is StateRef {
  if (value === null || typeof value !== 'object') return false;
  const ref = value as Partial<StateRef>;
  return typeof ref.workflowId === 'string' && ref.workflowId !== '' && typeof ref.runId === 'string' && ref.runId !== '';
}

export function isRunResult(value: unknown, orgId: string): value is RunResult {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<RunResult>;
  return candidate.v === 1 && candidate.orgId === orgId && typeof candidate.cursor === 'number' && Number.isFinite(candidate.cursor) &&
    (isStateRef(candidate.stateRef) || isCarriedState(candidate.state));
}
