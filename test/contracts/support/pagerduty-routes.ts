import type { z } from 'zod';
import type { SimRequest } from '../../../sim/pagerduty-sim';
import * as S from './pagerduty-schemas';

/** Which schema a recorded request or response must satisfy, by method and path. */
interface RequestContract {
  route: string;
  query?: z.ZodTypeAny;
  body?: z.ZodTypeAny;
}

const ID = '[A-Z0-9]+';

const REQUESTS: Array<[RegExp, RequestContract]> = [
  [/^POST \/v2\/enqueue$/, { route: 'POST /v2/enqueue', body: S.EventsEnqueueRequest }],
  [/^GET \/incidents$/, { route: 'GET /incidents', query: S.ListIncidentsQuery }],
  [/^POST \/incidents$/, { route: 'POST /incidents', body: S.CreateIncidentRequest }],
  [new RegExp(`^PUT /incidents/${ID}$`), { route: 'PUT /incidents/{id}', body: S.UpdateIncidentRequest }],
  [new RegExp(`^POST /incidents/${ID}/notes$`), { route: 'POST /incidents/{id}/notes', body: S.CreateNoteRequest }],
  [/^GET \/oncalls$/, { route: 'GET /oncalls', query: S.OncallsQuery }],
  [/^GET \/users$/, { route: 'GET /users', query: S.UsersQuery }],
];

/** Problems with one request the product sent, as it left pdjs; empty when it keeps to the contract. */
export function requestProblems(request: SimRequest): string[] {
  const name = `${request.method} ${request.path}`;
  const contract = REQUESTS.find(([pattern]) => pattern.test(name))?.[1];
  if (!contract) return [`${name}: the product is not expected to send this request`];
  const problems: string[] = [];
  const check = (what: string, schema: z.ZodTypeAny, value: unknown) => problems.push(...S.issuesOf(schema.safeParse(value)).map((issue) => `${contract.route} ${what} ${issue}`));
  if (contract.route === 'POST /v2/enqueue') {
    if (!/^application\/json/i.test(request.headers['content-type'] ?? '')) problems.push(`${name}: Content-Type ${request.headers['content-type']}`);
    if (Buffer.byteLength(JSON.stringify(request.body ?? '')) > S.EVENTS_MAX_BYTES) problems.push(`${name}: body over 512 KB`);
    if (Object.keys(request.query).length) problems.push(`${name}: unexpected query ${JSON.stringify(request.query)}`);
  } else {
    check('headers', S.RestRequestHeaders, request.headers);
  }
  if (contract.query) check('query', contract.query, request.query);
  else if (contract.route !== 'POST /v2/enqueue' && Object.keys(request.query).length) problems.push(`${name}: unexpected query`);
  if (contract.body) check('body', contract.body, request.body);
  else if (request.body !== undefined) problems.push(`${name}: a GET with a body`);
  return problems;
}

/** The response schema for a simulator answer; undefined when the route has no documented success body. */
function successSchema(method: string, path: string, status: number): z.ZodTypeAny | string {
  const route = `${method} ${path}`;
  const is = (pattern: string) => new RegExp(`^${pattern.replace(/\{id\}/g, ID)}$`).test(route);
  if (is('GET /incidents')) return status === 200 ? S.IncidentList : 'GET /incidents answers 200';
  // REST POST /incidents: "201 {incident}"; POST .../notes: "200 The new note." (not 201).
  if (is('POST /incidents')) return status === 201 ? S.IncidentBody : 'POST /incidents answers 201';
  if (is('GET /incidents/{id}') || is('PUT /incidents/{id}')) return status === 200 ? S.IncidentBody : `${route} answers 200`;
  if (is('POST /incidents/{id}/notes')) return status === 200 ? S.NoteBody : 'POST /incidents/{id}/notes answers 200';
  if (is('GET /incidents/{id}/notes')) return S.NoteList;
  if (is('GET /oncalls')) return S.OncallList;
  if (is('GET /users')) return S.UserList;
  if (is('GET /services')) return S.ServiceList;
  if (is('GET /services/{id}')) return S.ServiceBody;
  if (is('GET /escalation_policies')) return S.PolicyList;
  return `${route}: no documented success for this route`;
}

/** Problems with one answer the simulator gave; empty when it matches PagerDuty's documented responses. */
export function responseProblems(request: SimRequest): string[] {
  const name = `${request.method} ${request.path} → ${request.status}`;
  if (request.status === 0) return []; // an outage: no answer at all
  if (!request.response) return [`${name}: not recorded`];
  const { body, headers } = request.response;
  const problems: string[] = [];
  const check = (schema: z.ZodTypeAny, value: unknown) => problems.push(...S.issuesOf(schema.safeParse(value)).map((issue) => `${name}: ${issue}`));
  if (request.path === '/v2/enqueue') {
    // EVDOC response table: 202 Accepted, 400, 429, 5XX.
    if (request.status === 202) check(S.EventsAccepted, body);
    else if (request.status === 400 || request.status >= 500) check(S.EventsError, body);
    else if (request.status === 429) check(S.EventsThrottled, body);
    else problems.push(`${name}: the Events API documents 202, 400, 429 and 5XX only`);
    return problems;
  }
  if (request.status >= 400) {
    if (body !== undefined || request.status !== 429) check(S.RestError, body);
    if (request.status === 429 && body !== undefined) {
      check(S.RestThrottled, body);
      check(S.RestThrottledHeaders, headers);
    }
    return problems;
  }
  const schema = successSchema(request.method, request.path.replace(/\/+$/, ''), request.status);
  if (typeof schema === 'string') return [`${name}: ${schema}`];
  check(schema, body);
  return problems;
}
