import type { IncomingHttpHeaders } from 'node:http';
import { POLICY, SERVICE, policyJson, policyReference, serviceJson, userJson, userReference, type SimUser } from './account';
import { Reply, asList, first, invalidInput, notFound, restError, type Query } from './http';
import type { IncidentStore, SimIncident } from './store';

/**
 * The REST endpoints audit-spike uses, as api-schema reference/REST/openapiv3.json @ 91a06fb3 and the developer docs
 * (commit 94224391) describe them. Error codes are those of docs/REST-API/14-Errors.md @ dd5097c1.
 */

export interface RestCall {
  method: string;
  path: string;
  query: Query;
  headers: IncomingHttpHeaders;
  body: unknown;
}

const MONTH_MS = 30 * 86_400_000;
/** "Maximum range is 6 months and default is 1 month" (GET /incidents `since`/`until`). */
const MAX_RANGE_MS = 6 * 31 * 86_400_000;
const STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;

const page = <T>(name: string, items: T[], query: Query) =>
  new Reply(200, { [name]: items, limit: 25, offset: 0, more: false, total: first(query.total) === 'true' ? items.length : null });

/**
 * `From` is "the email address of a valid user associated with the account" (the spec's from_header). Without it: 2011
 * "You must specify a requester_id to perform this action"; an unknown email: 1008 "Requester User Not Found".
 */
function requester(store: IncidentStore, headers: IncomingHttpHeaders): SimUser | Reply {
  const from = typeof headers.from === 'string' ? headers.from.trim() : '';
  if (!from) return restError(400, 'You must specify a requester_id to perform this action', 2011, ['The From header must hold the email address of a PagerDuty user']);
  return store.userByEmail(from) ?? restError(400, 'Requester User Not Found', 1008, [`No user with the email ${from} on this account`]);
}

export function routeRest(store: IncidentStore, apiToken: string, call: RestCall): Reply {
  const { method, path } = call;
  const auth = call.headers.authorization;
  if (auth !== `Token token=${apiToken}` && auth !== `Bearer ${apiToken}`) return restError(401, 'Authentication failed', 2006);

  if (path === '/incidents') {
    if (method === 'POST') return createIncident(store, call);
    if (method === 'GET') return listIncidents(store, call.query);
  }
  const incidentPath = /^\/incidents\/([A-Z0-9]+)(\/notes)?$/.exec(path);
  if (incidentPath) {
    const incident = store.incidents.find((i) => i.id === incidentPath[1]);
    if (!incident) return restError(404, 'Not Found', 2100, ['Incident Not Found']);
    if (incidentPath[2] && method === 'GET') return new Reply(200, { notes: incident.notes.map((note) => store.noteJson(note)) });
    if (incidentPath[2] && method === 'POST') return addNote(store, incident, call);
    if (!incidentPath[2] && method === 'GET') return new Reply(200, { incident: store.incidentJson(incident) });
    if (!incidentPath[2] && method === 'PUT') return updateIncident(store, incident, call);
  }
  if (method !== 'GET') return notFound();
  if (path === '/oncalls') return oncalls(store, call.query);
  if (path === '/services') return page('services', [serviceJson(store.serviceUrgency)], call.query);
  if (path === `/services/${SERVICE.id}`) return new Reply(200, { service: serviceJson(store.serviceUrgency) });
  if (path === '/escalation_policies') return page('escalation_policies', [policyJson(store.users)], call.query);
  if (path === `/escalation_policies/${POLICY.id}`) return new Reply(200, { escalation_policy: policyJson(store.users) });
  if (path === '/users') {
    const text = first(call.query.query)?.toLowerCase();
    return page('users', store.users.filter((u) => !text || u.email.toLowerCase().includes(text) || u.name.toLowerCase().includes(text)).map(userJson), call.query);
  }
  const user = store.users.find((u) => path === `/users/${u.id}`);
  if (user) return new Reply(200, { user: userJson(user) });
  return notFound();
}

function createIncident(store: IncidentStore, call: RestCall): Reply {
  const from = requester(store, call.headers);
  if (from instanceof Reply) return from;
  const incident = (call.body as { incident?: Record<string, any> } | undefined)?.incident;
  if (!incident || typeof incident !== 'object') return invalidInput('incident is required');
  if (incident.type !== 'incident') return invalidInput('incident type must be "incident"');
  if (typeof incident.title !== 'string' || !incident.title.trim()) return invalidInput('title is required');
  if (incident.service?.id !== SERVICE.id) return restError(404, 'Not Found', 2100, ['Service Not Found']);
  const assignments: unknown[] | undefined = incident.assignments;
  if (assignments !== undefined && !Array.isArray(assignments)) return invalidInput('assignments must be a list');
  // developer-docs docs/REST-API/15-Incident-Creation-API.md @ 94224391: "Only one assignee is supported at this time."
  // and assignments "Cannot be provided if escalation_policy is already specified".
  if (assignments && assignments.length > 1) return invalidInput('Only one assignee is supported at this time.');
  if (assignments?.length && incident.escalation_policy !== undefined) return invalidInput('Assignments cannot be provided if escalation_policy is already specified');
  if (incident.escalation_policy !== undefined && incident.escalation_policy?.id !== POLICY.id) return restError(400, 'Escalation Policy Not Found', 1014);
  const urgency = incident.urgency ?? (store.serviceUrgency === 'low' ? 'low' : 'high');
  if (urgency !== 'high' && urgency !== 'low') return invalidInput('urgency must be high or low');
  const key = typeof incident.incident_key === 'string' && incident.incident_key ? incident.incident_key : `rest-${store.incidents.length + 1}-${Date.now()}`;
  // "rejected if an open incident matches that incident_key": a resolved incident's key may be used again.
  if (store.openIncident(key)) return restError(400, 'Incident Already Exists', 2001, ['Open incident with matching dedup key already exists on this service']);
  const assigneeId = (assignments?.[0] as { assignee?: { id?: unknown } } | undefined)?.assignee?.id;
  if (assignments?.length && !store.users.some((u) => u.id === assigneeId)) return restError(400, 'Assigned To User Not Found', 1007, [`No user ${String(assigneeId)}`]);
  const details = incident.body?.details;
  // "When a user creates an incident assigned to themselves, the incident will be created in the [Acknowledged] state and
  // will not notify the user."
  const selfAssigned = assigneeId === from.id;
  const assignees = typeof assigneeId === 'string' ? [assigneeId] : store.firstOnCall();
  const created = store.open({
    source: 'rest', dedupKey: key, title: incident.title, urgency, status: selfAssigned ? 'acknowledged' : 'triggered', assignees,
    notified: selfAssigned ? [] : [...assignees], ...(typeof details === 'string' ? { body: details } : {}),
  });
  if (selfAssigned) created.statusChanges.push({ at: created.createdAt, status: 'acknowledged', by: `rest:${from.email}` });
  return new Reply(201, { incident: store.incidentJson(created) });
}

function listIncidents(store: IncidentStore, query: Query): Reply {
  const statuses = asList(query['statuses[]']);
  const badStatus = statuses?.find((s) => !(STATUSES as readonly string[]).includes(s));
  if (badStatus !== undefined) return invalidInput(`statuses[] must be triggered, acknowledged or resolved (got "${badStatus}")`);
  const range = dateRange(store.now(), query);
  if (range instanceof Reply) return range;
  const services = asList(query['service_ids[]']);
  const urgencies = asList(query['urgencies[]']);
  const users = asList(query['user_ids[]']);
  const key = first(query.incident_key);
  const found = store.incidents.filter((i) => {
    const created = Date.parse(i.createdAt);
    return (!range || (created >= range.since && created < range.until)) &&
      (!services || services.includes(i.serviceId)) &&
      (!statuses || statuses.includes(i.status)) &&
      (!urgencies || urgencies.includes(i.urgency)) &&
      (!users || i.assignees.some((id) => users.includes(id))) &&
      (key === undefined || i.dedupKey === key);
  });
  const limit = Math.min(Math.max(Number(first(query.limit) ?? 25) || 25, 1), 100);
  const offset = Math.max(Number(first(query.offset) ?? 0) || 0, 0);
  if (offset + limit > 10_000) return restError(400, 'Invalid Input Provided', 2001, ['offset + limit cannot exceed 10000']);
  return new Reply(200, {
    incidents: found.slice(offset, offset + limit).map((i) => store.incidentJson(i)),
    limit,
    offset,
    more: offset + limit < found.length,
    total: first(query.total) === 'true' ? found.length : null,
  });
}

/** `since`/`until` default to the last month; `date_range=all` ignores both. Undefined means no date filter. */
function dateRange(now: number, query: Query): { since: number; until: number } | undefined | Reply {
  const dateRangeParam = first(query.date_range);
  if (dateRangeParam !== undefined && dateRangeParam !== 'all') return invalidInput('date_range must be "all"');
  if (dateRangeParam === 'all') return undefined;
  const sinceText = first(query.since);
  const untilText = first(query.until);
  const since = sinceText === undefined ? undefined : Date.parse(sinceText);
  const until = untilText === undefined ? now + 1 : Date.parse(untilText);
  if ((since !== undefined && Number.isNaN(since)) || Number.isNaN(until)) return restError(400, "Invalid time values in 'since' and/or 'until' parameters", 2004);
  const start = since ?? until - MONTH_MS;
  if (until < start || until - start > MAX_RANGE_MS) return restError(400, 'Invalid Query Date Range', 2005);
  return { since: start, until };
}

function updateIncident(store: IncidentStore, incident: SimIncident, call: RestCall): Reply {
  const from = requester(store, call.headers);
  if (from instanceof Reply) return from;
  const change = (call.body as { incident?: { type?: unknown; status?: unknown; urgency?: unknown; title?: unknown } } | undefined)?.incident;
  if (!change || typeof change !== 'object') return invalidInput('incident is required');
  if (change.type !== 'incident' && change.type !== 'incident_reference') return invalidInput('incident type must be "incident" or "incident_reference"');
  const { status, urgency } = change;
  if (status !== undefined && !(STATUSES as readonly unknown[]).includes(status)) return invalidInput('status must be triggered, acknowledged or resolved');
  if (urgency !== undefined && urgency !== 'high' && urgency !== 'low') return invalidInput('urgency must be high or low');
  // "If the incident is currently resolved, setting the status to triggered or acknowledged will reopen it." Anything
  // else on a resolved incident is code 1001 "Incident Already Resolved"; the docs pair no HTTP status with it, and 400
  // is the Errors page's class for "Retrying with the same arguments will not work".
  const reopens = status === 'triggered' || status === 'acknowledged';
  if (incident.status === 'resolved' && !reopens) return restError(400, 'Incident Already Resolved', 1001, ['Incident Already Resolved']);
  if (status === 'triggered' || status === 'acknowledged' || status === 'resolved') {
    if (status !== incident.status) store.setStatus(incident, status, `rest:${from.email}`);
  }
  if (urgency === 'high' || urgency === 'low') incident.urgency = urgency;
  if (typeof change.title === 'string' && change.title.trim()) incident.title = change.title;
  incident.updatedAt = store.nowIso();
  return new Reply(200, { incident: store.incidentJson(incident) });
}

function addNote(store: IncidentStore, incident: SimIncident, call: RestCall): Reply {
  const from = requester(store, call.headers);
  if (from instanceof Reply) return from;
  const content = (call.body as { note?: { content?: unknown } } | undefined)?.note?.content;
  if (typeof content !== 'string' || !content.trim()) return invalidInput('note content is required');
  const note = { id: store.nextNoteId(), content, at: store.nowIso(), from: from.email };
  incident.notes.push(note);
  // The spec answers a new note with 200 (not 201): "The new note."
  return new Reply(200, { note: store.noteJson(note) });
}

function oncalls(store: IncidentStore, query: Query): Reply {
  const policies = asList(query['escalation_policy_ids[]']);
  const users = asList(query['user_ids[]']);
  const withUsers = asList(query['include[]'])?.includes('users') ?? false;
  const oncallList = policies && !policies.includes(POLICY.id)
    ? []
    : store.users
        .filter((user) => user.level !== undefined && (!users || users.includes(user.id)))
        .map((user) => ({
          escalation_level: user.level!,
          user: withUsers ? userJson(user) : userReference(store.users, user.id),
          escalation_policy: policyReference(),
          schedule: null,
          start: null,
          end: null,
        }));
  return new Reply(200, { oncalls: oncallList, limit: 25, offset: 0, more: false, total: null });
}
