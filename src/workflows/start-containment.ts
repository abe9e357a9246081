import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, getExternalWorkflowHandle, log, startChild } from '@temporalio/workflow';
import type { IncidentOutcome } from '../activities/pagerduty';
import type { AuditSpikeArgs } from '../config/args-schema';
import type { IncidentAction } from '../detection/scan';
import { incidentResolvedSignal } from '../response/messages';
import { buildContainmentPlan, protectedActorReason, responseWorkflowId } from '../response/plan';
import { containmentWorkflow } from './containment-workflow';

const RESOLVED_BY_PERSON = /resolved in PagerDuty by a person/;

/**
 * Contain on approval (#17), called by the scheduled run after each PagerDuty action: when an incident opened and the
 * org enabled `response`, start its response workflow (id from the dedup key; a retried run or a later run finds it
 * started and starts nothing); when PagerDuty says a person resolved the incident, tell that workflow, which then
 * refuses approvals. Never throws: containment must not fail a run that paged.
 */
export async function startContainmentFor(args: AuditSpikeArgs, action: IncidentAction, outcome: IncidentOutcome): Promise<void> {
  const response = args.response;
  if (!response?.enabled) return;
  const { summary } = action;
  const workflowId = responseWorkflowId(summary.dedupKey);
  if (outcome.result === 'skipped' && RESOLVED_BY_PERSON.test(outcome.detail)) {
    try {
      await getExternalWorkflowHandle(workflowId).signal(incidentResolvedSignal, { detail: outcome.detail });
    } catch {
      // No response workflow for this incident (none was started, or it ended): nothing to tell.
    }
    return;
  }
  if (action.kind !== 'trigger' || outcome.result !== 'opened') return;
  const protectedReason = protectedActorReason(summary.actor, args.detection.suppress.actors, response.neverContain);
  if (protectedReason) {
    log.info('No containment plan: the actor is never acted on', { actor: summary.actor, reason: protectedReason });
    return;
  }
  const plan = buildContainmentPlan({
    summary, actorFields: args.detection.actorFields, response, datadog: args.datadog, pagerduty: args.pagerduty,
    ...(outcome.incidentId ? { incidentId: outcome.incidentId } : {}),
  });
  if (!plan || plan.steps.length === 0) return;
  try {
    await startChild(containmentWorkflow, {
      workflowId,
      args: [plan],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // A backstop past the plan's own expiry.
      workflowExecutionTimeout: response.ttlMs + 3_600_000,
      memo: { dedupKey: summary.dedupKey, actor: summary.actor, orgId: summary.orgId },
    });
    log.info('Containment plan awaiting approval', { workflowId, actor: summary.actor, steps: plan.steps.map((s) => s.id) });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return;
    log.warn('Could not start the containment plan', { workflowId, error: String(error) });
  }
}
