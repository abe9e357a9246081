import { api, event } from '@pagerduty/pdjs';
import type { APIResponse } from '@pagerduty/pdjs/build/src/api';
import type { Agent } from 'node:https';
import { z } from 'zod';
import { PagerDutyTargetSchema, describeIssues, type PagerDutyTarget } from '../config/args-schema';
import type { IncidentAction } from '../detection/scan';
import type { IncidentSummary } from '../detection/summary';
import { needsAttention, passing } from './failures';
import { readSecret, type Environment } from './secrets';
import { agentTrusting } from './tls-agent';

export const IncidentInputSchema = z.object({
  pagerduty: PagerDutyTargetSchema,
  action: z.object({
    kind: z.enum(['trigger', 'update', 'resolve']),
    summary: z.object({ dedupKey: z.string().min(1).max(255), title: z.string().min(1), severity: z.enum(['info', 'warning', 'error', 'critical']) }).passthrough(),
  }),
});
export interface IncidentInput {
  pagerduty: PagerDutyTarget;
  action: IncidentAction;
}

export interface IncidentOutcome {
  kind: IncidentAction['kind'];
  dedupKey: string;
  /** REST mode: the PagerDuty incident id. */
  incidentId?: string;
  detail: string;
}

/** pdjs retries a 429 itself after this fixed delay (its default is 20 s); Temporal's retry policy does the long waits. */
const PDJS_RETRY_TIMEOUT_MS = 1_000;

function failOnStatus(status: number, what: string, body: unknown): never {
  const detail = JSON.stringify(body ?? '').slice(0, 400);
  if (status === 429 || status >= 500) throw passing('PagerDutyUnavailable', `PagerDuty answered ${status} to ${what}; retrying: ${detail}`);
  if (status === 401 || status === 403) {
    throw needsAttention('PagerDutyAuthRejected', `PagerDuty answered ${status} to ${what}: the token is wrong or lacks access. ${detail}`);
  }
  throw needsAttention('PagerDutyRejected', `PagerDuty rejected ${what} with ${status}: ${detail}`);
}

function customDetails(summary: IncidentSummary) {
  return {
    actor: summary.actor,
    ...(summary.actorName ? { actor_name: summary.actorName } : {}),
    org: summary.orgId,
    rules_crossed: summary.rules,
    counts: summary.counts,
    events: summary.events,
    first_seen: summary.firstSeen,
    last_seen: summary.lastSeen,
    late: summary.late,
    details: summary.body,
  };
}

async function sendEvent(target: Extract<PagerDutyTarget, { mode: 'events' }>, env: Environment, action: IncidentAction): Promise<IncidentOutcome> {
  const routingKey = readSecret(env, target.routingKeyEnv, 'The PagerDuty Events API v2 routing key (integration key)');
  const { summary } = action;
  const agent = agentTrusting(target.caFile);
  const eventAction = action.kind === 'resolve' ? 'resolve' : 'trigger';
  let response: Awaited<ReturnType<typeof event>>;
  try {
    response = await event({
      server: target.eventsServer,
      retryTimeout: PDJS_RETRY_TIMEOUT_MS,
      // Our own signal bounds the request; pdjs' requestTimeout only parks an idle timer that outlives the call.
      requestTimeout: 0,
      signal: AbortSignal.timeout(target.requestTimeoutMs),
      ...(agent ? { agent } : {}),
      data: {
        routing_key: routingKey,
        event_action: eventAction,
        dedup_key: summary.dedupKey,
        payload: {
          summary: summary.title,
          source: target.source,
          severity: summary.severity,
          timestamp: summary.lastSeen,
          component: 'datadog-audit-trail',
          group: summary.orgId,
          class: summary.rules.join(','),
          custom_details: customDetails(summary),
        },
        links: [{ href: summary.link, text: 'Datadog Audit Trail for this actor' }],
      },
    } as Parameters<typeof event>[0] & { agent?: Agent });
  } catch (error) {
    throw passing('PagerDutyUnreachable', `PagerDuty Events API at ${target.eventsServer} unreachable: ${(error as Error).message}`);
  }
  if (response.status !== 202) failOnStatus(response.status, `the ${eventAction} event for ${summary.dedupKey}`, response.data);
  return { kind: action.kind, dedupKey: summary.dedupKey, detail: `Events API v2 ${eventAction} accepted` };
}

async function restCall(
  target: Extract<PagerDutyTarget, { mode: 'rest' }>,
  token: string,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  what: string,
  options: { data?: unknown; query?: Record<string, string | string[]>; allow?: (status: number, body: unknown) => boolean } = {},
): Promise<{ status: number; data: any }> {
  // node-fetch would hand an https agent to a plain-http URL too (and fail); the CA only matters for https.
  const agent = target.apiUrl.startsWith('https:') ? agentTrusting(target.caFile) : undefined;
  let response: APIResponse;
  try {
    response = await (api as unknown as (params: Record<string, unknown>) => Promise<APIResponse>)({
      token,
      url: `${target.apiUrl.replace(/\/+$/, '')}${path}`,
      method,
      headers: { From: target.fromEmail },
      retryTimeout: PDJS_RETRY_TIMEOUT_MS,
      // Our own signal bounds the request; pdjs' requestTimeout only parks an idle timer that outlives the call.
      requestTimeout: 0,
      signal: AbortSignal.timeout(target.requestTimeoutMs),
      ...(options.data !== undefined ? { data: options.data } : {}),
      ...(options.query ? { queryParameters: options.query } : {}),
      ...(agent ? { agent } : {}),
    });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number') failOnStatus(status, what, undefined);
    throw passing('PagerDutyUnreachable', `PagerDuty REST API at ${target.apiUrl} unreachable: ${(error as Error).message}`);
  }
  const ok = response.status >= 200 && response.status < 300;
  if (!ok && !options.allow?.(response.status, response.data)) failOnStatus(response.status, what, response.data);
  return { status: response.status, data: response.data };
}

async function findIncidentId(target: Extract<PagerDutyTarget, { mode: 'rest' }>, token: string, dedupKey: string): Promise<string | undefined> {
  const found = await restCall(target, token, 'GET', '/incidents', `the incident lookup for ${dedupKey}`, {
    query: { incident_key: dedupKey, 'service_ids[]': [target.serviceId] },
  });
  return (found.data?.incidents as Array<{ id: string }> | undefined)?.[0]?.id;
}

async function onCallAssignees(target: Extract<PagerDutyTarget, { mode: 'rest' }>, token: string): Promise<string[]> {
  if (!target.escalationPolicyId) return [];
  const found = await restCall(target, token, 'GET', '/oncalls', 'the on-call lookup', {
    query: { 'escalation_policy_ids[]': [target.escalationPolicyId], earliest: 'true' },
  });
  const oncalls = (found.data?.oncalls ?? []) as Array<{ escalation_level: number; user?: { id: string } }>;
  const first = Math.min(...oncalls.map((o) => o.escalation_level));
  return [...new Set(oncalls.filter((o) => o.escalation_level === first && o.user?.id).map((o) => o.user!.id))];
}

const URGENCY: Record<IncidentSummary['severity'], 'high' | 'low'> = { critical: 'high', error: 'high', warning: 'low', info: 'low' };

async function sendRest(target: Extract<PagerDutyTarget, { mode: 'rest' }>, env: Environment, action: IncidentAction): Promise<IncidentOutcome> {
  const token = readSecret(env, target.tokenEnv, 'The PagerDuty REST API token');
  const { summary } = action;
  if (action.kind === 'trigger') {
    const assignees = await onCallAssignees(target, token);
    const created = await restCall(target, token, 'POST', '/incidents', `the incident for ${summary.dedupKey}`, {
      data: {
        incident: {
          type: 'incident',
          title: summary.title,
          service: { id: target.serviceId, type: 'service_reference' },
          urgency: URGENCY[summary.severity],
          incident_key: summary.dedupKey,
          body: { type: 'incident_body', details: `${summary.body}\n\n${JSON.stringify(customDetails(summary), null, 2)}` },
          ...(assignees.length
            ? { assignments: assignees.map((id) => ({ assignee: { id, type: 'user_reference' } })) }
            : target.escalationPolicyId
              ? { escalation_policy: { id: target.escalationPolicyId, type: 'escalation_policy_reference' } }
              : {}),
        },
      },
      // A retried attempt may find its own incident already open: that is success (the dedup key did its job).
      allow: (status, body) => status === 400 && /matching dedup key/i.test(JSON.stringify(body)),
    });
    const incidentId = created.status === 201 ? created.data?.incident?.id : await findIncidentId(target, token, summary.dedupKey);
    return { kind: 'trigger', dedupKey: summary.dedupKey, ...(incidentId ? { incidentId } : {}), detail: assignees.length ? `assigned to on-call ${assignees.join(', ')}` : 'opened on the service' };
  }
  const incidentId = await findIncidentId(target, token, summary.dedupKey);
  if (!incidentId) return { kind: action.kind, dedupKey: summary.dedupKey, detail: 'no open incident with this key (closed by a person?); nothing to do' };
  if (action.kind === 'resolve') {
    await restCall(target, token, 'PUT', `/incidents/${incidentId}`, `resolving ${incidentId}`, { data: { incident: { type: 'incident_reference', status: 'resolved' } } });
    return { kind: 'resolve', dedupKey: summary.dedupKey, incidentId, detail: 'resolved after a quiet period' };
  }
  await restCall(target, token, 'POST', `/incidents/${incidentId}/notes`, `a note on ${incidentId}`, {
    data: { note: { content: `Burst continues (${summary.severity}): ${summary.title}\n${summary.body}` } },
  });
  if (URGENCY[summary.severity] === 'high') {
    await restCall(target, token, 'PUT', `/incidents/${incidentId}`, `raising urgency of ${incidentId}`, { data: { incident: { type: 'incident_reference', urgency: 'high' } } });
  }
  return { kind: 'update', dedupKey: summary.dedupKey, incidentId, detail: 'note added' };
}

export function createOpenOrUpdateIncident(deps: { env: Environment }) {
  return async function openOrUpdateIncident(input: IncidentInput): Promise<IncidentOutcome> {
    const parsed = IncidentInputSchema.safeParse(input);
    if (!parsed.success) throw needsAttention('BadIncidentInput', `openOrUpdateIncident got invalid input:\n${describeIssues(parsed.error).join('\n')}`);
    return input.pagerduty.mode === 'events' ? sendEvent(input.pagerduty, deps.env, input.action) : sendRest(input.pagerduty, deps.env, input.action);
  };
}
