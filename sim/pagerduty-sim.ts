import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { ensureLocalTls } from './tls';

/**
 * PagerDuty on loopback: the Events API v2 (`POST /v2/enqueue`) and the REST endpoints audit-spike uses, close enough
 * that @pagerduty/pdjs, unmodified, talks to it. The same routes are served over HTTPS (pdjs only speaks HTTPS to the
 * Events API, so the certificate comes from a local CA the client must trust) and over plain HTTP. It records what it
 * received (never a token, routing key or header) and fails on demand.
 */

export type Severity = 'critical' | 'error' | 'warning' | 'info';
export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface SimIncident {
  id: string;
  number: number;
  source: 'events' | 'rest';
  dedupKey: string;
  title: string;
  severity?: Severity;
  urgency: 'high' | 'low';
  status: IncidentStatus;
  serviceId: string;
  createdAt: string;
  updatedAt: string;
  /** REST mode: `incident.body.details` as sent. */
  body?: string;
  /** Events mode: every event for this incident (trigger, acknowledge, resolve) in arrival order. */
  alerts: Array<{ at: string; event_action: string; payload: unknown; links?: unknown }>;
  notes: Array<{ id: string; content: string; at: string; from?: string }>;
  assignees: string[];
}

export interface SimRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** 0 when the connection was dropped without an answer (an outage). */
  status: number;
  /** The JSON body with `routing_key` replaced by '[redacted]'; headers are never kept. */
  body?: unknown;
}

export interface PagerDutySimOptions {
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  httpsPort?: number;
  httpPort?: number;
  tlsDir: string;
  routingKeys?: string[];
  apiToken?: string;
}

export interface FaultState {
  failures: Array<{ status: number; remaining: number; retryAfterS?: number }>;
  outage: boolean;
}

type Query = Record<string, string | string[]>;
type Api = 'events' | 'rest';

interface Call {
  method: string;
  path: string;
  query: Query;
  headers: IncomingHttpHeaders;
  body: unknown;
}

const MAX_BODY_BYTES = 1024 * 1024;
const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error', 'critical'];
const SERVICE = { id: 'PSEC001', name: 'Datadog audit (security)' };
const POLICY = { id: 'PSECEP1', name: 'Security on-call' };
const USERS = [
  { id: 'PUSR001', name: 'Ada Secure', email: 'ada@example.com', level: 1 },
  { id: 'PUSR002', name: 'Bo Backup', email: 'bo@example.com', level: 2 },
];
const FIRST_ON_CALL = USERS.filter((user) => user.level === 1).map((user) => user.id);
const FROM_REQUIRED = 'You must specify a user\'s email address in the "From" header to perform this action';
const ID_SPACE = 36 ** 7;

class Reply {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {}
}

function restError(status: number, message: string, code: number, errors?: string[]): Reply {
  return new Reply(status, { error: { message, code, ...(errors ? { errors } : {}) } });
}

const invalidInput = (...errors: string[]) => restError(400, 'Invalid Input Provided', 2001, errors);
const notFound = () => restError(404, 'Not Found', 2100);
const invalidEvent = (...errors: string[]) => new Reply(400, { status: 'invalid event', message: 'Event object is invalid', errors });

/** 'Q' + 7 base-36 characters: an odd multiplier coprime to 36^7 makes a counter look like PagerDuty ids, without repeats. */
function pagerDutyId(prefix: string, n: number): string {
  return prefix + ((n * 2_654_435_761 + 1_234_567) % ID_SPACE).toString(36).toUpperCase().padStart(7, '0');
}

function urgencyOf(severity: Severity): 'high' | 'low' {
  return severity === 'critical' || severity === 'error' ? 'high' : 'low';
}

function isOpen(incident: SimIncident): boolean {
  return incident.status !== 'resolved';
}

function asList(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

function userReference(id: string) {
  const user = USERS.find((u) => u.id === id);
  return { id, type: 'user_reference', summary: user?.name ?? id, self: `https://api.pagerduty.com/users/${id}` };
}

const policyReference = () => ({ id: POLICY.id, type: 'escalation_policy_reference', summary: POLICY.name });
const page = <T>(name: string, items: T[]) => new Reply(200, { [name]: items, limit: 25, offset: 0, more: false, total: items.length });

function parseQuery(url: URL): Query {
  const query: Query = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = key.endsWith('[]') ? values : values[values.length - 1];
  }
  return query;
}

function redacted<T>(value: T): T {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of ['routing_key', 'token']) if (key in copy) copy[key] = '[redacted]';
  return copy as T;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      // Stop reading (destroying the request would leave no socket to answer on); the answer closes the connection.
      req.off('data', onData).pause();
      reject(new Reply(413, { error: { message: 'Request Entity Too Large', code: 2001 } }, { connection: 'close' }));
    };
    req.on('data', onData);
    req.once('error', reject);
    req.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Reply(400, { error: { message: 'Invalid Input Provided', code: 2001, errors: ['Request body is not valid JSON'] } }));
      }
    });
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...reply.headers });
  res.end(text);
}

function asReply(error: unknown): Reply {
  return error instanceof Reply ? error : restError(500, `simulator error: ${(error as Error).message}`, 2000);
}

function shownHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}

export class PagerDutySimulator {
  readonly routingKeys: string[];
  readonly apiToken: string;
  eventsServer = '';
  httpsUrl = '';
  httpUrl = '';
  caFile = '';
  ca = '';
  private readonly stored: SimIncident[] = [];
  private readonly log: SimRequest[] = [];
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private failures: FaultState['failures'] = [];
  private down = false;
  private incidentCount = 0;
  private noteCount = 0;

  private constructor(options: PagerDutySimOptions) {
    this.routingKeys = [...(options.routingKeys ?? ['sim-routing-key-0000000000000000'])];
    this.apiToken = options.apiToken ?? 'sim-pd-token';
  }

  static async start(options: PagerDutySimOptions): Promise<PagerDutySimulator> {
    const sim = new PagerDutySimulator(options);
    const host = options.host ?? '127.0.0.1';
    // 'pagerduty-sim' is the compose service name, so containers can reach the Events API by it too.
    const tls = await ensureLocalTls(options.tlsDir, ['pagerduty-sim', ...(isIP(host) || !host ? [] : [host])]);
    sim.caFile = tls.caFile;
    sim.ca = tls.ca;
    const handler = (req: IncomingMessage, res: ServerResponse) => void sim.handle(req, res);
    try {
      const httpsPort = await sim.listen(createHttpsServer({ cert: tls.cert, key: tls.key }, handler), options.httpsPort ?? 0, host);
      const httpPort = await sim.listen(createHttpServer(handler), options.httpPort ?? 0, host);
      const shown = shownHost(host);
      sim.eventsServer = `${shown}:${httpsPort}`;
      sim.httpsUrl = `https://${shown}:${httpsPort}`;
      sim.httpUrl = `http://${shown}:${httpPort}`;
    } catch (error) {
      await sim.stop();
      throw error;
    }
    return sim;
  }

  get incidents(): SimIncident[] {
    return structuredClone(this.stored);
  }

  get requests(): SimRequest[] {
    return structuredClone(this.log);
  }

  /** The next `count` API requests (Events or REST; never `/_sim/*`) answer `status`. */
  failNext(status: number, count = 1, options: { retryAfterS?: number } = {}): void {
    if (count < 1) return;
    this.failures.push({ status, remaining: count, ...(options.retryAfterS !== undefined ? { retryAfterS: options.retryAfterS } : {}) });
  }

  /** While on, every API request has its connection destroyed without an answer; `/_sim/*` stays up to turn it off. */
  outage(on: boolean): void {
    this.down = on;
  }

  resetFaults(): void {
    this.failures = [];
    this.down = false;
  }

  clear(): void {
    this.stored.length = 0;
    this.log.length = 0;
  }

  async stop(): Promise<void> {
    const closed = this.servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
  }

  private listen(server: Server, port: number, host: string): Promise<number> {
    this.servers.push(server);
    server.keepAliveTimeout = 5_000;
    // For the HTTPS server this is the TCP socket under TLS: destroying it ends both.
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/_sim/')) {
      send(res, await this.control(req.method ?? 'GET', url.pathname, req).catch(asReply));
      return;
    }
    const query = parseQuery(url);
    const record: SimRequest = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, query: redacted(query), status: 0 };
    this.log.push(record);
    if (this.down) {
      req.socket.destroy();
      return;
    }
    let reply: Reply;
    try {
      const body = await readJson(req);
      if (body !== undefined) record.body = redacted(body);
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const api: Api = path === '/v2/enqueue' ? 'events' : 'rest';
      reply = this.injectedFailure(api) ?? this.route({ method: record.method, path, query, headers: req.headers, body });
    } catch (error) {
      reply = asReply(error);
    }
    record.status = reply.status;
    send(res, reply);
  }

  private injectedFailure(api: Api): Reply | undefined {
    const failure = this.failures[0];
    if (!failure) return undefined;
    if (--failure.remaining <= 0) this.failures.shift();
    const { status } = failure;
    if (status === 429) {
      const headers = { 'retry-after': String(failure.retryAfterS ?? 1) };
      return api === 'events'
        ? new Reply(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.', errors: ['Enhance Your Calm.'] }, headers)
        : new Reply(429, { error: { message: 'Rate Limit Exceeded', code: 2020 } }, headers);
    }
    return api === 'events'
      ? new Reply(status, { status: 'error', message: `Simulated failure ${status}`, errors: [`Simulated failure ${status}`] })
      : restError(status, `Simulated failure ${status}`, 2000);
  }

  private route(call: Call): Reply {
    const { method, path } = call;
    if (path === '/v2/enqueue') return method === 'POST' ? this.enqueue(call.body) : notFound();
    const auth = call.headers.authorization;
    if (auth !== `Token token=${this.apiToken}` && auth !== `Bearer ${this.apiToken}`) return restError(401, 'Authentication failed', 2006);

    if (path === '/incidents') {
      if (method === 'POST') return this.createIncident(call);
      if (method === 'GET') return this.listIncidents(call.query);
    }
    const incidentPath = /^\/incidents\/([A-Z0-9]+)(\/notes)?$/.exec(path);
    if (incidentPath) {
      const incident = this.stored.find((i) => i.id === incidentPath[1]);
      if (!incident) return notFound();
      if (incidentPath[2] && method === 'GET') return new Reply(200, { notes: incident.notes.map((note) => this.noteJson(note)) });
      if (incidentPath[2] && method === 'POST') return this.addNote(incident, call);
      if (!incidentPath[2] && method === 'GET') return new Reply(200, { incident: this.incidentJson(incident) });
      if (!incidentPath[2] && method === 'PUT') return this.updateIncident(incident, call);
    }
    if (method !== 'GET') return notFound();
    if (path === '/oncalls') return this.oncalls(call.query);
    if (path === '/services') return page('services', [this.serviceJson()]);
    if (path === `/services/${SERVICE.id}`) return new Reply(200, { service: this.serviceJson() });
    if (path === '/escalation_policies') return page('escalation_policies', [this.policyJson()]);
    if (path === `/escalation_policies/${POLICY.id}`) return new Reply(200, { escalation_policy: this.policyJson() });
    if (path === '/users') return page('users', USERS.map((user) => this.userJson(user)));
    const user = USERS.find((u) => path === `/users/${u.id}`);
    if (user) return new Reply(200, { user: this.userJson(user) });
    return notFound();
  }

  private enqueue(body: unknown): Reply {
    const event = (body && typeof body === 'object' ? body : {}) as {
      routing_key?: unknown;
      event_action?: unknown;
      dedup_key?: unknown;
      payload?: unknown;
      links?: unknown;
    };
    if (typeof event.routing_key !== 'string' || !this.routingKeys.includes(event.routing_key)) return invalidEvent('Invalid routing key');
    const action = event.event_action;
    if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') {
      return invalidEvent("'event_action' is missing or invalid (must be one of: trigger, acknowledge, resolve)");
    }
    if (event.dedup_key !== undefined && (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255)) {
      return invalidEvent("'dedup_key' must be a string of at most 255 characters");
    }
    const now = new Date().toISOString();
    const givenKey = typeof event.dedup_key === 'string' && event.dedup_key ? event.dedup_key : undefined;

    if (action !== 'trigger') {
      if (!givenKey) return invalidEvent(`'dedup_key' is missing or blank (required for ${action})`);
      const open = this.openIncident(givenKey);
      if (open) {
        if (action === 'resolve' || open.status === 'triggered') open.status = action === 'resolve' ? 'resolved' : 'acknowledged';
        open.updatedAt = now;
        open.alerts.push({ at: now, event_action: action, payload: event.payload ?? null });
      }
      return new Reply(202, { status: 'success', message: 'Event processed', dedup_key: givenKey });
    }

    const errors = this.payloadErrors(event.payload);
    if (errors.length) return invalidEvent(...errors);
    const payload = event.payload as { summary: string; severity: Severity };
    const dedupKey = givenKey ?? randomBytes(16).toString('hex');
    const alert = { at: now, event_action: 'trigger', payload: event.payload, ...(event.links !== undefined ? { links: event.links } : {}) };
    const open = this.openIncident(dedupKey);
    if (open) {
      open.alerts.push(alert);
      open.updatedAt = now;
      if (SEVERITIES.indexOf(payload.severity) > SEVERITIES.indexOf(open.severity ?? 'info')) {
        open.severity = payload.severity;
        if (urgencyOf(payload.severity) === 'high') open.urgency = 'high';
      }
    } else {
      this.stored.push({
        ...this.newIncident('events', dedupKey, payload.summary, now),
        severity: payload.severity,
        urgency: urgencyOf(payload.severity),
        alerts: [alert],
        assignees: [...FIRST_ON_CALL],
      });
    }
    return new Reply(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }

  private payloadErrors(payload: unknown): string[] {
    if (!payload || typeof payload !== 'object') return ["'payload' is missing or not an object"];
    const { summary, source, severity } = payload as Record<string, unknown>;
    const errors: string[] = [];
    if (typeof summary !== 'string' || !summary.trim()) errors.push("'payload.summary' is missing or blank");
    if (typeof source !== 'string' || !source.trim()) errors.push("'payload.source' is missing or blank");
    if (!SEVERITIES.includes(severity as Severity)) errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
    return errors;
  }

  private openIncident(dedupKey: string): SimIncident | undefined {
    return this.stored.find((i) => i.serviceId === SERVICE.id && i.dedupKey === dedupKey && isOpen(i));
  }

  private newIncident(source: SimIncident['source'], dedupKey: string, title: string, now: string) {
    const number = ++this.incidentCount;
    return { id: pagerDutyId('Q', number), number, source, dedupKey, title, status: 'triggered' as const, serviceId: SERVICE.id, createdAt: now, updatedAt: now, notes: [] };
  }

  private createIncident(call: Call): Reply {
    const from = fromHeader(call.headers);
    if (!from) return restError(400, FROM_REQUIRED, 2008);
    const incident = (call.body as { incident?: Record<string, any> } | undefined)?.incident;
    if (!incident || typeof incident !== 'object') return invalidInput('incident is required');
    if (incident.type !== 'incident') return invalidInput('incident type must be "incident"');
    if (typeof incident.title !== 'string' || !incident.title.trim()) return invalidInput('title is required');
    if (incident.service?.id !== SERVICE.id) return restError(404, 'Not Found', 2100, ['Service not found']);
    if (incident.escalation_policy !== undefined && incident.escalation_policy?.id !== POLICY.id) return invalidInput('Escalation policy not found');
    const urgency = incident.urgency ?? 'high';
    if (urgency !== 'high' && urgency !== 'low') return invalidInput('urgency must be high or low');
    const key = typeof incident.incident_key === 'string' && incident.incident_key ? incident.incident_key : randomBytes(16).toString('hex');
    if (this.openIncident(key)) return restError(400, 'Incident Already Exists', 2001, ['Open incident with matching dedup key already exists on this service']);
    const requested: unknown[] = Array.isArray(incident.assignments) ? incident.assignments.map((a: { assignee?: { id?: unknown } }) => a?.assignee?.id) : [];
    const unknownUsers = requested.filter((id) => !USERS.some((u) => u.id === id));
    if (unknownUsers.length) return invalidInput(`Assignee not found: ${unknownUsers.join(', ')}`);
    const now = new Date().toISOString();
    const details = incident.body?.details;
    const created: SimIncident = {
      ...this.newIncident('rest', key, incident.title, now),
      urgency,
      ...(typeof details === 'string' ? { body: details } : {}),
      alerts: [],
      assignees: requested.length ? [...new Set(requested as string[])] : [...FIRST_ON_CALL],
    };
    this.stored.push(created);
    return new Reply(201, { incident: this.incidentJson(created) });
  }

  private listIncidents(query: Query): Reply {
    const services = asList(query['service_ids[]']);
    const statuses = asList(query['statuses[]']);
    const urgencies = asList(query['urgencies[]']);
    const users = asList(query['user_ids[]']);
    const key = asList(query.incident_key)?.[0];
    const found = this.stored.filter(
      (i) =>
        (!services || services.includes(i.serviceId)) &&
        (!statuses || statuses.includes(i.status)) &&
        (!urgencies || urgencies.includes(i.urgency)) &&
        (!users || i.assignees.some((id) => users.includes(id))) &&
        (key === undefined || i.dedupKey === key),
    );
    const limit = Math.min(Math.max(Number(asList(query.limit)?.[0] ?? 25) || 25, 1), 100);
    const offset = Math.max(Number(asList(query.offset)?.[0] ?? 0) || 0, 0);
    return new Reply(200, {
      incidents: found.slice(offset, offset + limit).map((i) => this.incidentJson(i)),
      limit,
      offset,
      more: offset + limit < found.length,
      total: found.length,
    });
  }

  private updateIncident(incident: SimIncident, call: Call): Reply {
    if (!fromHeader(call.headers)) return restError(400, FROM_REQUIRED, 2008);
    const change = (call.body as { incident?: { type?: unknown; status?: unknown; urgency?: unknown; title?: unknown } } | undefined)?.incident;
    if (!change || typeof change !== 'object') return invalidInput('incident is required');
    if (change.type !== 'incident' && change.type !== 'incident_reference') return invalidInput('incident type must be "incident" or "incident_reference"');
    const { status, urgency } = change;
    if (status !== undefined && status !== 'acknowledged' && status !== 'resolved') return invalidInput('status must be acknowledged or resolved');
    if (urgency !== undefined && urgency !== 'high' && urgency !== 'low') return invalidInput('urgency must be high or low');
    if (status === 'acknowledged' || status === 'resolved') incident.status = status;
    if (urgency === 'high' || urgency === 'low') incident.urgency = urgency;
    if (typeof change.title === 'string' && change.title.trim()) incident.title = change.title;
    incident.updatedAt = new Date().toISOString();
    return new Reply(200, { incident: this.incidentJson(incident) });
  }

  private addNote(incident: SimIncident, call: Call): Reply {
    const from = fromHeader(call.headers);
    if (!from) return restError(400, FROM_REQUIRED, 2008);
    const content = (call.body as { note?: { content?: unknown } } | undefined)?.note?.content;
    if (typeof content !== 'string' || !content.trim()) return invalidInput('note content is required');
    const note = { id: pagerDutyId('N', ++this.noteCount), content, at: new Date().toISOString(), from };
    incident.notes.push(note);
    return new Reply(201, { note: this.noteJson(note) });
  }

  private oncalls(query: Query): Reply {
    const policies = asList(query['escalation_policy_ids[]']);
    const users = asList(query['user_ids[]']);
    const oncalls = policies && !policies.includes(POLICY.id)
      ? []
      : USERS.filter((user) => !users || users.includes(user.id)).map((user) => ({
          escalation_level: user.level,
          user: userReference(user.id),
          escalation_policy: policyReference(),
          schedule: null,
          start: null,
          end: null,
        }));
    return new Reply(200, { oncalls, limit: 25, offset: 0, more: false, total: null });
  }

  private incidentJson(incident: SimIncident) {
    return {
      id: incident.id,
      type: 'incident',
      summary: `[#${incident.number}] ${incident.title}`,
      incident_number: incident.number,
      title: incident.title,
      status: incident.status,
      urgency: incident.urgency,
      incident_key: incident.dedupKey,
      created_at: incident.createdAt,
      updated_at: incident.updatedAt,
      service: { id: incident.serviceId, type: 'service_reference', summary: SERVICE.name },
      escalation_policy: policyReference(),
      assignments: incident.assignees.map((id) => ({ at: incident.createdAt, assignee: userReference(id) })),
      html_url: `https://sim.pagerduty.local/incidents/${incident.id}`,
    };
  }

  private noteJson(note: SimIncident['notes'][number]) {
    const user = USERS.find((u) => u.email === note.from?.toLowerCase());
    return { id: note.id, content: note.content, created_at: note.at, user: user ? userReference(user.id) : { type: 'user_reference', summary: note.from ?? 'unknown' } };
  }

  private serviceJson() {
    return { id: SERVICE.id, type: 'service', name: SERVICE.name, summary: SERVICE.name, status: 'active', escalation_policy: policyReference() };
  }

  private policyJson() {
    return {
      id: POLICY.id,
      type: 'escalation_policy',
      name: POLICY.name,
      summary: POLICY.name,
      services: [{ id: SERVICE.id, type: 'service_reference', summary: SERVICE.name }],
      escalation_rules: [1, 2].map((level) => ({
        escalation_delay_in_minutes: 30,
        targets: USERS.filter((user) => user.level === level).map((user) => userReference(user.id)),
      })),
    };
  }

  private userJson(user: (typeof USERS)[number]) {
    return { id: user.id, type: 'user', name: user.name, email: user.email, summary: user.name, role: 'user' };
  }

  /** `/_sim/*`: inspection and fault knobs for humans and the compose stack; no auth, never affected by faults. */
  private async control(method: string, path: string, req: IncomingMessage): Promise<Reply> {
    const route = `${method} ${path}`;
    if (route === 'GET /_sim/health') return new Reply(200, { ok: true, incidents: this.stored.length });
    if (route === 'GET /_sim/incidents') return new Reply(200, this.incidents);
    if (route === 'GET /_sim/requests') return new Reply(200, this.requests);
    if (route === 'POST /_sim/clear') {
      this.clear();
      return new Reply(200, { ok: true });
    }
    if (route === 'GET /_sim/faults') return new Reply(200, this.faults());
    if (route === 'POST /_sim/faults') {
      const body = ((await readJson(req)) ?? {}) as { failNext?: { status?: unknown; count?: unknown; retryAfterS?: unknown }; outage?: unknown; reset?: unknown };
      if (body.reset === true) this.resetFaults();
      if (body.failNext) {
        const { status, count, retryAfterS } = body.failNext;
        if (typeof status !== 'number' || status < 100 || status > 599) return invalidInput('failNext.status must be an HTTP status code');
        this.failNext(status, typeof count === 'number' ? count : 1, typeof retryAfterS === 'number' ? { retryAfterS } : {});
      }
      if (typeof body.outage === 'boolean') this.outage(body.outage);
      return new Reply(200, this.faults());
    }
    return notFound();
  }

  private faults(): FaultState {
    return { failures: structuredClone(this.failures), outage: this.down };
  }
}

function fromHeader(headers: IncomingHttpHeaders): string | undefined {
  const from = headers.from;
  return typeof from === 'string' && from.trim() ? from.trim() : undefined;
}
