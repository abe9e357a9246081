import { z } from 'zod';

/**
 * Our own zod schemas of the PagerDuty constraints audit-spike relies on, carried over from PagerDuty's published
 * specs and docs (not their files). Sources, as /tmp/research/pagerduty.md records them:
 *  - EV2   api-schema reference/events-v2/openapiv3.json @ 91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18
 *  - EVDOC developer-docs docs/events-API-v2/02-Trigger-Events.md @ d5d6457116e70257daeed716fcb039ac9b1636b6
 *          (https://developer.pagerduty.com/docs/send-alert-event) and 01-Overview.md @ 94224391aa3eac8fa73ea6a6af542dee0613d3e8
 *  - REST  api-schema reference/REST/openapiv3.json @ 91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18
 *  - ERR   developer-docs docs/REST-API/14-Errors.md @ dd5097c190c21bca0e93308fafb980846c0c278b (https://developer.pagerduty.com/docs/errors)
 *  - ICA   developer-docs docs/REST-API/15-Incident-Creation-API.md @ 94224391 (https://developer.pagerduty.com/docs/incident-creation-api)
 *  - RL    developer-docs docs/REST-API/04-Rate-Limits.md @ 94224391 (https://developer.pagerduty.com/docs/rest-api-rate-limits)
 *  - PAG   developer-docs docs/REST-API/09-Pagination.md @ 4a0ca144ae3bfb3541967d577bf93945c448b930
 *  - AUTH  developer-docs docs/REST-API/02-Authentication.md @ f492cf92; VER docs/REST-API/03-Versioning.md @ 1da9f6a2
 */

const characters = (text: string) => Array.from(text).length;
const maxChars = (max: number) => z.string().refine((text) => characters(text) <= max, `at most ${max} characters (code points)`);
const isoDateTime = z.string().refine((text) => !Number.isNaN(Date.parse(text)) && /T/.test(text), 'an ISO 8601 date-time');

// ---------- Events API v2 ----------

/** EV2 Payload: required summary, severity, source; EVDOC: summary at most 1024 characters; severity's four values. */
const EventPayload = z.object({
  summary: maxChars(1024).refine((text) => text.trim().length > 0, 'not blank'),
  severity: z.enum(['critical', 'error', 'warning', 'info']),
  source: z.string().min(1),
  timestamp: isoDateTime.optional(),
  component: z.string().optional(),
  group: z.string().optional(),
  class: z.string().optional(),
  custom_details: z.record(z.string(), z.unknown()).optional(),
}).strict();

/** EV2 Links items `{href (url), text}`, href required. */
const Link = z.object({ href: z.string().url(), text: z.string().optional() }).strict();

/**
 * EV2 request: required routing_key and event_action; dedup_key required unless trigger (EV2 description) and at most
 * 255 characters (EVDOC); a trigger carries a payload. The routing key's 32 characters (EVDOC) are checked by the
 * simulator, which answers 400 otherwise: what it records is redacted.
 */
export const EventsEnqueueRequest = z.object({
  routing_key: z.literal('[redacted]'),
  event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedup_key: maxChars(255).optional(),
  payload: EventPayload.optional(),
  links: z.array(Link).optional(),
  images: z.array(z.object({ src: z.string().url(), href: z.string().optional(), alt: z.string().optional() })).optional(),
  client: z.string().optional(),
  client_url: z.string().url().optional(),
}).strict().superRefine((event, ctx) => {
  if (event.event_action === 'trigger' && !event.payload) ctx.addIssue({ code: 'custom', path: ['payload'], message: 'a trigger needs a payload' });
  if (event.event_action !== 'trigger' && !event.dedup_key) ctx.addIssue({ code: 'custom', path: ['dedup_key'], message: `required for ${event.event_action}` });
});

/** EVDOC / 01-Overview.md: "Events API payloads are limited to 512 KB". */
export const EVENTS_MAX_BYTES = 512 * 1024;

/** EV2 components.responses.Success: `{status (required), message, dedup_key}`. */
export const EventsAccepted = z.object({ status: z.string(), message: z.string().optional(), dedup_key: z.string().optional() });
/** EV2 components.responses.Error (and the 400 example of the v2 docs): `{status, message (required), errors: string[]}`. */
export const EventsError = z.object({ status: z.string(), message: z.string(), errors: z.array(z.string()).optional() });
/** The Events 429 body is undocumented (EV2 lists no schema); when there is one, it has the Error shape. */
export const EventsThrottled = EventsError.optional();

// ---------- REST API v2: requests ----------

/**
 * REST securitySchemes `Authorization: Token token=<API_KEY>` (AUTH), header_Accept (VER), from_header (required,
 * format email), header_Content-Type `application/json` (pdjs adds `; charset=utf-8`, which PagerDuty takes).
 */
export const RestRequestHeaders = z.object({
  authorization: z.string().regex(/^Token token=\[redacted\]$/, 'Authorization: Token token=<API token>'),
  accept: z.literal('application/vnd.pagerduty+json;version=2'),
  from: z.string().email(),
  'content-type': z.string().regex(/^application\/json(\s*;.*)?$/i, 'application/json'),
  'user-agent': z.string().optional(),
}).strict();

const listOf = <T extends z.ZodTypeAny>(item: T) => z.array(item).nonempty();
const intText = (max?: number) => z.string().regex(/^\d+$/).refine((text) => max === undefined || Number(text) <= max, `at most ${max}`);

/** REST GET /incidents query parameters (the ones audit-spike uses; limit "Maximum of 100"). */
export const ListIncidentsQuery = z.object({
  incident_key: z.string().min(1),
  'service_ids[]': listOf(z.string().min(1)),
  'statuses[]': listOf(z.enum(['triggered', 'acknowledged', 'resolved'])).optional(),
  date_range: z.literal('all').optional(),
  since: isoDateTime.optional(),
  until: isoDateTime.optional(),
  limit: intText(100).optional(),
  offset: intText().optional(),
}).strict();

const ServiceReference = z.object({ id: z.string().min(1), type: z.literal('service_reference') }).strict();
const UserReference = z.object({ id: z.string().min(1), type: z.literal('user_reference') }).strict();
const EscalationPolicyReference = z.object({ id: z.string().min(1), type: z.literal('escalation_policy_reference') }).strict();

/**
 * REST POST /incidents body: `{incident: {type: "incident", title, service}}` required; ICA: "Only one assignee is
 * supported at this time" and assignments "Cannot be provided if escalation_policy is already specified"; body.details
 * a string (ICA: "only supports string Incident bodies").
 */
export const CreateIncidentRequest = z.object({
  incident: z.object({
    type: z.literal('incident'),
    title: z.string().min(1),
    service: ServiceReference,
    urgency: z.enum(['high', 'low']).optional(),
    incident_key: z.string().min(1).optional(),
    body: z.object({ type: z.literal('incident_body'), details: z.string() }).strict().optional(),
    assignments: z.array(z.object({ assignee: UserReference }).strict()).max(1, 'Only one assignee is supported at this time').optional(),
    escalation_policy: EscalationPolicyReference.optional(),
  }).strict().refine((incident) => !(incident.assignments?.length && incident.escalation_policy), 'assignments and escalation_policy are exclusive'),
}).strict();

/** REST PUT /incidents/{id} body: `incident.type` incident|incident_reference required; status and urgency enums. */
export const UpdateIncidentRequest = z.object({
  incident: z.object({
    type: z.enum(['incident', 'incident_reference']),
    status: z.enum(['triggered', 'acknowledged', 'resolved']).optional(),
    urgency: z.enum(['high', 'low']).optional(),
    resolution: z.string().optional(),
    title: z.string().optional(),
  }).strict(),
}).strict();

/** REST POST /incidents/{id}/notes body: `{note: {content}}`, both required. */
export const CreateNoteRequest = z.object({ note: z.object({ content: z.string().min(1) }).strict() }).strict();

/** REST GET /oncalls query: include[] enum escalation_policies|users|schedules; earliest a boolean. */
export const OncallsQuery = z.object({
  'escalation_policy_ids[]': listOf(z.string().min(1)),
  'include[]': listOf(z.enum(['escalation_policies', 'users', 'schedules'])).optional(),
  earliest: z.enum(['true', 'false']).optional(),
}).strict();

/** REST GET /users query (the From user's lookup). */
export const UsersQuery = z.object({ query: z.string().min(1) }).strict();

// ---------- REST API v2: responses ----------

/** REST responses.Conflict (shared by every error response) and ERR: `{error: {message, code, errors[]}}`. */
export const RestError = z.object({ error: z.object({ code: z.number().int(), message: z.string(), errors: z.array(z.string()).optional() }).strict() }).strict();

/** RL: a 429 carries ratelimit-limit, ratelimit-remaining, ratelimit-reset (seconds) and code 2020. */
export const RestThrottledHeaders = z.object({
  'ratelimit-limit': z.string().regex(/^\d+$/),
  'ratelimit-remaining': z.string().regex(/^\d+$/),
  'ratelimit-reset': z.string().regex(/^\d+$/),
});
export const RestThrottled = RestError.refine((body) => body.error.code === 2020 && body.error.message === 'Rate Limit Exceeded', 'code 2020 "Rate Limit Exceeded"');

/** REST Pagination: offset, limit, more, total (nullable; PAG: "null by default"). */
const Pagination = { offset: z.number().int().min(0), limit: z.number().int().min(1).max(100), more: z.boolean(), total: z.number().int().nullable() };

const Reference = z.object({ id: z.string(), type: z.string(), summary: z.string().optional() }).passthrough();

/** REST Incident (the fields audit-spike reads): status and urgency enums; assignments empty when resolved. */
export const Incident = z.object({
  id: z.string().min(1),
  type: z.literal('incident'),
  status: z.enum(['triggered', 'acknowledged', 'resolved']),
  urgency: z.enum(['high', 'low']),
  title: z.string(),
  incident_key: z.string().nullable().optional(),
  created_at: isoDateTime,
  service: Reference,
  assignments: z.array(z.object({ at: isoDateTime, assignee: Reference }).passthrough()),
  html_url: z.string().url(),
}).passthrough().refine((incident) => incident.status !== 'resolved' || incident.assignments.length === 0, 'a resolved incident has no assignments');

export const IncidentList = z.object({ ...Pagination, incidents: z.array(Incident) }).strict();
export const IncidentBody = z.object({ incident: Incident }).strict();
/** REST POST /incidents/{id}/notes answers 200 "The new note." with `{note: IncidentNote}`. */
export const NoteBody = z.object({
  note: z.object({ id: z.string(), content: z.string(), created_at: isoDateTime, user: z.object({ type: z.literal('user_reference') }).passthrough() }).passthrough(),
}).strict();
export const NoteList = z.object({ notes: z.array(NoteBody.shape.note) }).strict();

const User = z.object({ id: z.string(), type: z.literal('user'), name: z.string(), email: z.string().email() }).passthrough();
/** REST Oncall: escalation_policy, user, schedule, escalation_level, start/end nullable (permanent on-call). */
export const OncallList = z.object({
  ...Pagination,
  oncalls: z.array(z.object({
    escalation_level: z.number().int().min(1),
    user: z.union([User, Reference]),
    escalation_policy: Reference,
    schedule: Reference.nullable(),
    start: isoDateTime.nullable(),
    end: isoDateTime.nullable(),
  }).strict()),
}).strict();
export const UserList = z.object({ ...Pagination, users: z.array(User) }).strict();
/** REST IncidentUrgencyType: type constant|use_support_hours; urgency low|high|severity_based. */
const Service = z.object({
  id: z.string(), type: z.literal('service'), name: z.string(),
  incident_urgency_rule: z.object({ type: z.enum(['constant', 'use_support_hours']), urgency: z.enum(['low', 'high', 'severity_based']).optional() }).passthrough(),
}).passthrough();
export const ServiceList = z.object({ ...Pagination, services: z.array(Service) }).strict();
export const ServiceBody = z.object({ service: Service }).strict();
export const PolicyList = z.object({ ...Pagination, escalation_policies: z.array(z.object({ id: z.string(), type: z.literal('escalation_policy') }).passthrough()) }).strict();

export function issuesOf(result: { success: boolean; error?: z.ZodError }): string[] {
  return result.success ? [] : result.error!.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
