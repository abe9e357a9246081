import type { IncidentOutcome } from '../activities/pagerduty';
import type { ScanCounters, SuppressedBurst, IncidentAction } from '../detection/scan';
import type { StoredState } from '../detection/state';
import type { IncidentSummary } from '../detection/summary';

/** What a run reports of each incident it told PagerDuty about: the summary and its evidence, without its rendered text. */
export interface IncidentRecord
  extends Pick<IncidentSummary, 'actor' | 'severity' | 'rules' | 'counts' | 'events' | 'firstSeen' | 'lastSeen' | 'dedupKey' | 'late' | 'evidence'> {
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
  /** As this version returns it; a result from an earlier version may hold an earlier version's state. */
  state: StoredState;
}

export function isRunResult(value: unknown, orgId: string): value is RunResult {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<RunResult>;
  return candidate.v === 1 && candidate.orgId === orgId && typeof candidate.cursor === 'number' && Number.isFinite(candidate.cursor) &&
    typeof candidate.state === 'object' && candidate.state !== null;
}
