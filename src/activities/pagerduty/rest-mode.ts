import type { IncidentAction } from '../../detection/scan';
import type { IncidentSummary } from '../../detection/summary';
import type { Severity } from '../../detection/types';
import { readSecret, type Environment } from '../secrets';
import { customDetails } from './event-payload';
import { severityRose, type IncidentOutcome } from './outcome';
import { failOnStatus, restErrorCode, restRequest, type PagerDutyResponse, type RestTarget } from './pdjs-calls';
import { REST_TITLE_MAX_CHARS, cutToCharacters } from './text-limits';

/**
 * "Incident Already Resolved" (developer-docs docs/REST-API/14-Errors.md @ dd5097c1). The docs pair no HTTP status with
 * it, so any 4xx carrying this code counts: a person resolved the incident between our lookup and our change.
 */
const ALREADY_RESOLVED = 1001;
const alreadyResolved = (response: PagerDutyResponse) => response.status >= 400 && response.status < 500 && restErrorCode(response.data) === ALREADY_RESOLVED;
const URGENCY: Record<Severity, 'high' | 'low'> = { critical: 'high', error: 'high', warning: 'low', info: 'low' };

interface FoundIncident {
  id: string;
  status: 'triggered' | 'acknowledged' | 'resolved' | string;
  urgency?: string;
  created_at?: string;
}

type Rest = (method: 'GET' | 'POST' | 'PUT', path: string, what: string, options?: { data?: unknown; query?: Record<string, string | string[]> }) => Promise<PagerDutyResponse>;

function client(target: RestTarget, token: string): Rest {
  return async (method, path, what, options = {}) => {
    const response = await restRequest(target, token, method, path, options);
    if (response.status >= 200 && response.status < 300) return response;
    if (alreadyResolved(response)) return response;
    if (response.status === 400 && method === 'POST' && path === '/incidents' && /matching dedup key/i.test(JSON.stringify(response.data))) return response;
    failOnStatus(response, what);
  };
}

/**
 * The newest incident with this key, of any status and age. `GET /incidents` would otherwise return only the last month
 * ("default is 1 month"; `date_range=all` ignores it) and, without `statuses[]`, every status; the statuses are named
 * so that a status PagerDuty adds later ("More status codes may be introduced") is not mistaken for one of ours.
 */
async function findIncident(rest: Rest, target: RestTarget, dedupKey: string): Promise<FoundIncident | undefined> {
  const found = await rest('GET', '/incidents', `the incident lookup for ${dedupKey}`, {
    query: {
      incident_key: dedupKey,
      'service_ids[]': [target.serviceId],
      'statuses[]': ['triggered', 'acknowledged', 'resolved'],
      date_range: 'all',
      limit: '100',
    },
  });
  const incidents = ((found.data?.incidents ?? []) as FoundIncident[]).filter((i) => typeof i?.id === 'string');
  // A key can be reused once its incident is resolved (a severity rise after a person resolved it): the open one wins.
  const open = incidents.find((i) => i.status !== 'resolved');
  if (open) return open;
  return [...incidents].sort((a, b) => Date.parse(b.created_at ?? '') - Date.parse(a.created_at ?? ''))[0];
}

/**
 * Exactly one responder, as PagerDuty allows ("Only one assignee is supported at this time", Incident Creation API @
 * 94224391): the first escalation level's on-call with the lowest user id, never the `From` user ("an incident assigned
 * to [its creator] will be created in the Acknowledged state and will not notify the user"). With no one else on call
 * there, the incident goes to the escalation policy, which pages as configured.
 */
async function pickResponder(rest: Rest, target: RestTarget): Promise<{ userId: string } | undefined> {
  if (!target.escalationPolicyId) return undefined;
  const found = await rest('GET', '/oncalls', 'the on-call lookup', {
    query: { 'escalation_policy_ids[]': [target.escalationPolicyId], 'include[]': ['users'], earliest: 'true' },
  });
  const oncalls = ((found.data?.oncalls ?? []) as Array<{ escalation_level?: number; user?: { id?: string; email?: string } }>)
    .filter((o) => typeof o.user?.id === 'string' && typeof o.escalation_level === 'number');
  if (!oncalls.length) return undefined;
  const firstLevel = Math.min(...oncalls.map((o) => o.escalation_level!));
  const from = target.fromEmail.toLowerCase();
  let fromUserId: string | undefined;
  if (oncalls.some((o) => typeof o.user!.email !== 'string')) {
    const users = await rest('GET', '/users', 'the From user lookup', { query: { query: target.fromEmail } });
    fromUserId = ((users.data?.users ?? []) as Array<{ id: string; email?: string }>).find((u) => u.email?.toLowerCase() === from)?.id;
  }
  const candidates = oncalls
    .filter((o) => o.escalation_level === firstLevel)
    .map((o) => o.user!)
    .filter((user) => (typeof user.email === 'string' ? user.email.toLowerCase() !== from : user.id !== fromUserId))
    .map((user) => user.id!)
    .sort();
  return candidates.length ? { userId: candidates[0] } : undefined;
}

async function openIncident(rest: Rest, target: RestTarget, summary: IncidentSummary, why: string): Promise<IncidentOutcome & { result: 'opened' }> {
  const responder = await pickResponder(rest, target);
  const created = await rest('POST', '/incidents', `the incident for ${summary.dedupKey}`, {
    data: {
      incident: {
        type: 'incident',
        title: cutToCharacters(summary.title, REST_TITLE_MAX_CHARS),
        service: { id: target.serviceId, type: 'service_reference' },
        urgency: URGENCY[summary.severity],
        incident_key: summary.dedupKey,
        body: { type: 'incident_body', details: `${summary.body}\n\n${JSON.stringify(customDetails(summary), null, 2)}` },
        ...(responder
          ? { assignments: [{ assignee: { id: responder.userId, type: 'user_reference' } }] }
          : target.escalationPolicyId
            ? { escalation_policy: { id: target.escalationPolicyId, type: 'escalation_policy_reference' } }
            : {}),
      },
    },
  });
  // A retried attempt may find its own incident already open: that is success (the incident key did its job).
  const incidentId: string | undefined = created.status === 201 ? created.data?.incident?.id : (await findIncident(rest, target, summary.dedupKey))?.id;
  const to = responder ? `assigned to on-call ${responder.userId}` : target.escalationPolicyId ? `handed to escalation policy ${target.escalationPolicyId}` : 'opened on the service';
  return { kind: 'trigger', dedupKey: summary.dedupKey, result: 'opened', ...(incidentId ? { incidentId } : {}), detail: `${why}${to}` };
}

/**
 * REST mode: one incident per burst, found again by its incident key. An incident a person acknowledged stays theirs
 * (notes, never a status change); one a person resolved is not touched again, and the burst is paged anew only if its
 * severity rose. "Already resolved" from PagerDuty (a person was faster than us) is an outcome, never a failure.
 */
export async function sendRestAction(target: RestTarget, env: Environment, action: IncidentAction, notifiedSeverity: Severity | undefined): Promise<IncidentOutcome> {
  const token = readSecret(env, target.tokenEnv, 'The PagerDuty REST API token');
  const rest = client(target, token);
  const { summary, kind } = action;
  if (kind === 'trigger') return openIncident(rest, target, summary, '');

  const base = { kind, dedupKey: summary.dedupKey };
  const incident = await findIncident(rest, target, summary.dedupKey);
  if (!incident) return { ...base, result: 'skipped', detail: 'no incident with this key in PagerDuty (deleted or merged?); nothing to do' };
  const withId = { ...base, incidentId: incident.id };
  const resolvedByPerson = { ...withId, result: 'skipped' as const, detail: 'resolved in PagerDuty by a person; left as it is' };

  if (kind === 'resolve') {
    if (incident.status === 'resolved') return { ...resolvedByPerson, detail: 'already resolved in PagerDuty by a person' };
    if (incident.status === 'acknowledged') {
      await rest('POST', `/incidents/${incident.id}/notes`, `a note on ${incident.id}`, {
        data: { note: { content: `audit-spike: the burst has been quiet since ${summary.lastSeen}. This incident is acknowledged, so it is left for whoever acknowledged it to resolve.` } },
      });
      return { ...withId, result: 'skipped', detail: 'acknowledged in PagerDuty by a person; left open for them, note added' };
    }
    const put = await rest('PUT', `/incidents/${incident.id}`, `resolving ${incident.id}`, {
      data: { incident: { type: 'incident_reference', status: 'resolved', resolution: `audit-spike: quiet since ${summary.lastSeen}` } },
    });
    if (alreadyResolved(put)) return { ...resolvedByPerson, detail: 'already resolved in PagerDuty by a person' };
    return { ...withId, result: 'resolved', detail: 'resolved after a quiet period' };
  }

  if (incident.status === 'resolved') {
    if (severityRose(summary.severity, notifiedSeverity)) return openIncident(rest, target, summary, `severity rose from ${notifiedSeverity} to ${summary.severity} after a person resolved ${incident.id}: `).then((o) => ({ ...o, kind }));
    return { ...resolvedByPerson, detail: `resolved in PagerDuty by a person; not paged again (severity still ${summary.severity})` };
  }
  await rest('POST', `/incidents/${incident.id}/notes`, `a note on ${incident.id}`, {
    data: { note: { content: cutToCharacters(`Burst continues (${summary.severity}): ${summary.title}\n${summary.body}`, 25_000) } },
  });
  const acknowledged = incident.status === 'acknowledged' ? ' (acknowledged by a person: status left with them)' : '';
  if (URGENCY[summary.severity] === 'high' && incident.urgency !== 'high') {
    const put = await rest('PUT', `/incidents/${incident.id}`, `raising urgency of ${incident.id}`, { data: { incident: { type: 'incident_reference', urgency: 'high' } } });
    if (alreadyResolved(put)) return { ...withId, result: 'skipped', detail: 'note added; resolved in PagerDuty by a person meanwhile, urgency left as it is' };
    return { ...withId, result: 'updated', detail: `note added, urgency raised to high${acknowledged}` };
  }
  return { ...withId, result: 'updated', detail: `note added${acknowledged}` };
}
