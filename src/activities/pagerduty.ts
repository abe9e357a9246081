import { z } from 'zod';
import { PagerDutyTargetSchema, describeIssues, type PagerDutyTarget } from '../config/args-schema';
import type { IncidentAction } from '../detection/scan';
import { SEVERITIES, type Severity } from '../detection/types';
import { needsAttention } from './failures';
import { sendEventsAction } from './pagerduty/events-mode';
import type { IncidentOutcome } from './pagerduty/outcome';
import { sendRestAction } from './pagerduty/rest-mode';
import type { Environment } from './secrets';

export type { IncidentOutcome, OutcomeResult } from './pagerduty/outcome';

export const IncidentInputSchema = z.object({
  pagerduty: PagerDutyTargetSchema,
  action: z.object({
    kind: z.enum(['trigger', 'update', 'resolve']),
    summary: z.object({ dedupKey: z.string().min(1).max(255), title: z.string().min(1), severity: z.enum(SEVERITIES) }).passthrough(),
  }),
  notifiedSeverity: z.enum(SEVERITIES).optional(),
});

export interface IncidentInput {
  pagerduty: PagerDutyTarget;
  action: IncidentAction;
  /** The severity PagerDuty was last told for this burst (absent for a trigger): a rise above it pages again. */
  notifiedSeverity?: Severity;
}

/** Tells PagerDuty about one burst: open its incident, update it, or resolve it, leaving alone what a person took over. */
export function createOpenOrUpdateIncident(deps: { env: Environment }) {
  return async function openOrUpdateIncident(input: IncidentInput): Promise<IncidentOutcome> {
    const parsed = IncidentInputSchema.safeParse(input);
    if (!parsed.success) throw needsAttention('BadIncidentInput', `openOrUpdateIncident got invalid input:\n${describeIssues(parsed.error).join('\n')}`);
    return input.pagerduty.mode === 'events'
      ? sendEventsAction(input.pagerduty, deps.env, input.action, input.notifiedSeverity)
      : sendRestAction(input.pagerduty, deps.env, input.action, input.notifiedSeverity);
  };
}
