import { z } from 'zod';

/**
 * PagerDuty v3 webhooks as PagerDuty documents them, as our own zod schemas (not their files). Sources:
 *  - OVW  developer-docs docs/webhooks/01-Overview.md @ 94224391aa3eac8fa73ea6a6af542dee0613d3e8 ("Webhook Payload",
 *         "Event Types" table, "Event Data Types": incident_workflow_instance)
 *  - SIG  developer-docs docs/webhooks/04-Signatures.md @ 94224391 (X-PagerDuty-Signature: `v1=<hex>`, comma-separated)
 *  - BEH  developer-docs docs/webhooks/02-Behavior.md @ 94224391 (X-Webhook-Id, unique per webhook)
 * Strict where the docs show every field, so the simulator cannot drift from the documented shape unseen.
 */

/** OVW "Event Types": the event types available to v3 webhooks (the table at 94224391). */
export const V3_EVENT_TYPES = [
  'incident.acknowledged', 'incident.annotated', 'incident.conference_bridge.updated', 'incident.custom_field_values.updated',
  'incident.delegated', 'incident.escalated', 'incident.incident_type.changed', 'incident.priority_updated', 'incident.reassigned',
  'incident.reopened', 'incident.resolved', 'incident.responder.added', 'incident.responder.replied', 'incident.role.assigned',
  'incident.service_updated', 'incident.status_update_published', 'incident.task.completed', 'incident.task.created',
  'incident.task.updated', 'incident.triggered', 'incident.unacknowledged', 'incident.action_invocation.created',
  'incident.action_invocation.terminated', 'incident.action_invocation.updated', 'incident.workflow.started',
  'incident.workflow.completed', 'service.created', 'service.custom_field_values.updated', 'service.deleted', 'service.updated',
] as const;

/** A reference as the examples show it: html_url, id, self, summary, type (html_url null for a workflow trigger). */
const reference = (type: string) => z.strictObject({
  html_url: z.string().url().nullable(),
  id: z.string().min(1),
  self: z.string().url(),
  summary: z.string(),
  type: z.literal(type),
});

/** OVW "incident_workflow_instance". */
export const IncidentWorkflowInstanceSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('incident_workflow_instance'),
  summary: z.string(),
  incident_workflow: reference('incident_workflow_reference'),
  workflow_trigger: reference('workflow_trigger_reference'),
  incident: reference('incident_reference'),
  service: reference('service_reference'),
});

/** OVW "Webhook Payload": one event; `resource_type` is the leftmost part of `event_type`; agent/client may be null. */
export const V3WebhookSchema = z.strictObject({
  event: z.strictObject({
    id: z.string().min(1),
    event_type: z.enum(V3_EVENT_TYPES),
    resource_type: z.enum(['incident', 'service']),
    occurred_at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'an ISO 8601 date-time in UTC'),
    agent: reference('user_reference').nullable(),
    client: z.strictObject({ name: z.string() }).nullable(),
    data: z.looseObject({ type: z.string() }),
  }).refine((event) => event.event_type.split('.')[0] === event.resource_type, 'resource_type is the leftmost part of event_type'),
});

/** SIG and BEH: the headers a receiver relies on (names lower-cased as Node gives them). */
export const V3WebhookHeadersSchema = z.looseObject({
  'content-type': z.string().regex(/^application\/json/),
  'x-pagerduty-signature': z.string().regex(/^v1=[0-9a-f]{64}(,v1=[0-9a-f]{64})*$/, 'v1=<64 hex digits>, comma-separated'),
  'x-webhook-id': z.string().min(1),
});
