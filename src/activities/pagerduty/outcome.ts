import type { IncidentAction } from '../../detection/scan';
import { severityRank, type Severity } from '../../detection/types';

/**
 * What one PagerDuty action ended as. `skipped` is an answer, not an error: a person acknowledged or resolved the
 * incident, so audit-spike left it with them. `failed` is written by the workflow when a best-effort update or resolve
 * could not be delivered; the activity itself throws instead.
 */
export type OutcomeResult = 'opened' | 'updated' | 'resolved' | 'skipped' | 'failed';

export interface IncidentOutcome {
  kind: IncidentAction['kind'];
  dedupKey: string;
  result: OutcomeResult;
  /** REST mode: the PagerDuty incident id. */
  incidentId?: string;
  /** One sentence for the run's report, e.g. "resolved in PagerDuty by a person; not paged again (severity still error)". */
  detail: string;
}

/** Whether the burst is now more severe than what PagerDuty was last told (unknown → no). */
export function severityRose(severity: Severity, notified: Severity | undefined): boolean {
  return notified !== undefined && severityRank(severity) > severityRank(notified);
}
