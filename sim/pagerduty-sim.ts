import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { ensureLocalTls } from './tls';

/**
 * PagerDuty on loopback: the Events API v2 (`POST /v2/enqueue`, over HTTPS since @pagerduty/pdjs only speaks HTTPS to
 * it) and the REST endpoints audit-spike uses, close enough that pdjs, unmodified, talks to it. Both servers serve every
 * route. It keeps what it received (never a token or routing key) and can fail on demand.
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
  body?: string;
  alerts: Array<{ at: string; event_action: string; payload: unknown; links?: unknown }>;
  notes: Array<{ id: string; content: string; at: string; from?: string }>;
  assignees: string[];
}

export interface SimRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  status: number;
  body?: unknown;
}

export interface PagerDutySimOptions {
  host?: string;
  httpsPort?: number;
  httpPort?: number;
  tlsDir: string;
  routingKeys?: string[];
  apiToken?: string;
}

const SEVERITIES: Severity[] = ['info', 'warning', 'error', 'critical'];
const SERVICE = { id: 'PSEC001', name: 'Datadog audit (security)', escalationPolicyId: 'PSECEP1' };
const POLICY = { id: 'PSECEP1', name: 'Security on-call' };
const USERS = [
  { id: 'PUSR001', name: 'Ada Secure', email: 'ada@example.com', level: 1 },
  { id: 'PUSR002', name: 'Bo Backup', email: 'bo@example.com', level: 2 },
];

class Reply {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {}
}

function restError(status: number, message: string, code: number, errors?: string[]): Reply {
  return new Reply(status, { error: { message, code, ...(errors ? { errors } : {}) } });
}

function isOpen(incident: SimIncident): boolean {
  return incident.status !== 'resolved';
}

function userReference(id: string) {
  const user = USERS.find((u) => u.id === id);
  return { id, type: 'user_reference', summary: user?.name ?? id, self: `https://api.pagerduty.com/users/${id}` };
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
  private failures: Array<{ status: number; remaining: number; retryAfterS?: number }> = [];
  private down = false;
  private counter = 0;

  private constructor(options: PagerDutySimOptions) {
    this.routingKeys = options.routingKeys ?? ['sim-routing-key-0000000000000000'];
    this.apiToken = options.apiToken ?? 'sim-pd-token';
  }

  static async start(options: PagerDutySimOptions): Promise<PagerDutySimulator> {
    const sim = new PagerDutySimulator(options);
    const tls = ensureLocalTls(options.tlsDir, ['pagerduty-sim']);
    sim.caFile = tls.caFile;
    sim.ca = tls.ca;
    const host = options.host ?? '127.0.0.1';
    const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
    const handler = (req: IncomingMessage, res: ServerResponse) => void sim.handle(req, res);
    const https = createHttpsServer({ cert: tls.cert, key: tls.key }, handler);
    const http = createHttpServer(handler);
    const httpsPort = await sim.listen(https, options.httpsPort ?? 0, host);
    const httpPort = await sim.listen(http, options.httpPort ?? 0, host);
    sim.eventsServer = `${shownHost}:${httpsPort}`;
    sim.httpsUrl = `https://${shownHost}:${httpsPort}`;
    sim.httpUrl = `http://${shownHost}:${httpPort}`;
    return sim;
  }

  get incidents(): SimIncident[] {
    return structuredClone(this.stored);
  }

  get requests(): SimRequest[] {
    return structuredClone(this.log);
  }

  failNext(status: number, count = 1, options: { retryAfterS?: number } = {}): void {
    this.failures.push({ status, remaining: count, ...(options.retryAfterS !== undefined ? { retryAfterS: options.retryAfterS } : {}) });
  }

  /** While on, every API connection is dropped without an answer (the control API stays up to turn it off). */
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
    const closed = this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
  }

  private listen(server: Server, port: number, host: string): Promise<number> {
    this.servers.push(server);
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 1024 * 1024) throw new Reply(413, { error: { message: 'Request body too large', code: 2001 } });
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new Reply(400, { status: 'invalid request', message: 'Malformed JSON', errors: ['Request body is not valid JSON'] });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/_sim/')) return this.send(res, await this.control(req, url).catch((error) => this.asReply(error)));
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = key.endsWith('[]') ? values : values[values.length - 1];
    }
    const record: SimRequest = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, query, status: 0 };
    this.log.push(record);
    let reply: Reply;
    try {
      const body = req.method === 'POST' || req.method === 'PUT' ? await this.readJson(req) : undefined;
      if (body !== undefined) record.body = this.redacted(body);
      reply = this.injectedFailure() ?? this.route(req, url, query, body);
    } catch (error) {
      reply = this.asReply(error);
    }
    record.status = reply.status;
    this.send(res, reply);
  }

  private asReply(error: unknown): Reply {
    return error instanceof Reply ? error : new Reply(500, { error: { message: `simulator error: ${(error as Error).message}`, code: 2000 } });
  }

  private send(res: ServerResponse, reply: Reply): void {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...reply.headers });
    res.end(text);
  }

  private redacted(body: unknown): unknown {
    if (!body || typeof body !== 'object' || !('routing_key' in body)) return body;
    return { ...(body as Record<string, unknown>), routing_key: '[redacted]' };
  }

  private injectedFailure(): Reply | undefined {
    const failure = this.failures.find((f) => f.remaining > 0);
    if (!failure) return undefined;
    failure.remaining--;
    this.failures = this.failures.filter((f) => f.remaining > 0);
    if (failure.status === 429) {
      return new Reply(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.', errors: ['Enhance Your Calm.'] }, {
        'retry-after': String(failure.retryAfterS ?? 1),
      });
    }
    return new Reply(failure.status, { error: { message: `Simulated failure ${failure.status}`, code: 2000 } });
  }

  private route(req: IncomingMessage, url: URL, query: Record<string, string | string[]>, body: unknown): Reply {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (method === 'POST' && path === '/v2/enqueue') return this.enqueue(body);
    const auth = req.headers.authorization;
    if (auth !== `Token token=${this.apiToken}` && auth !== `Bearer ${this.apiToken}`) return restError(401, 'Authentication failed', 2006);
    const from = typeof req.headers.from === 'string' ? req.headers.from : undefined;
    const incidentPath = /^\/incidents\/([A-Z0-9]+)(\/notes)?$/.exec(path);
    if (path === '/incidents' && method === 'POST') return this.createIncident(body, from);
    if (path === '/incidents' && method === 'GET') return this.listIncidents(query);
    if (incidentPath) {
      const incident = this.stored.find((i) => i.id === incidentPath[1]);
      if (!incident) return restError(404, 'Not Found', 2100);
      if (incidentPath[2]) {
        if (method === 'GET') return new Reply(200, { notes: incident.notes.map((note) => this.noteJson(note)) });
        if (method === 'POST') return this.addNote(incident, body, from);
      } else {
        if (method === 'GET') return new Reply(200, { incident: this.incidentJson(incident) });
        if (method === 'PUT') return this.updateIncident(incident, body, from);
      }
    }
    if (path === '/oncalls' && method === 'GET') return this.oncalls(query);
    if (path === '/services' && method === 'GET') return new Reply(200, { services: [this.serviceJson()], limit: 25, offset: 0, more: false, total: 1 });
    if (path === `/services/${SERVICE.id}` && method === 'GET') return new Reply(200, { service: this.serviceJson() });
    if (path === '/escalation_policies' && method === 'GET') {
      return new Reply(200, { escalation_policies: [{ id: POLICY.id, type: 'escalation_policy', name: POLICY.name, summary: POLICY.name }], limit: 25, offset: 0, more: false, total: 1 });
    }
    if (path === '/users' && method === 'GET') {
      return new Reply(200, { users: USERS.map((u) => ({ id: u.id, type: 'user', name: u.name, email: u.email, summary: u.name })), limit: 25, offset: 0, more: false, total: USERS.length });
    }
    return restError(404, 'Not Found', 2100);
  }

  private enqueue(body: unknown): Reply {
    const event = (body ?? {}) as {
      routing_key?: unknown;
      event_action?: unknown;
      dedup_key?: unknown;
      payload?: { summary?: unknown; source?: unknown; severity?: unknown };
      links?: unknown;
    };
    const invalid = (...errors: string[]) => new Reply(400, { status: 'invalid event', message: 'Event object is invalid', errors });
    if (typeof event.routing_key !== 'string' || !this.routingKeys.includes(event.routing_key)) return invalid('Invalid routing key');
    const action = event.event_action;
    if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') return invalid("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    if (event.dedup_key !== undefined && (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255)) return invalid("'dedup_key' must be a string of at most 255 characters");
    const now = new Date().toISOString();
    if (action !== 'trigger') {
      if (typeof event.dedup_key !== 'string' || !event.dedup_key) return invalid(`'dedup_key' is required for ${action}`);
      const open = this.stored.find((i) => i.serviceId === SERVICE.id && i.dedupKey === event.dedup_key && isOpen(i));
      if (open) {
        open.status = action === 'resolve' ? 'resolved' : 'acknowledged';
        open.updatedAt = now;
        open.alerts.push({ at: now, event_action: action, payload: event.payload ?? null });
      }
      return new Reply(202, { status: 'success', message: 'Event processed', dedup_key: event.dedup_key });
    }
    const payload = event.payload;
    const errors: string[] = [];
    if (!payload || typeof payload !== 'object') errors.push("'payload' is missing or invalid");
    else {
      if (typeof payload.summary !== 'string' || !payload.summary) errors.push("'payload.summary' is missing or blank");
      if (typeof payload.source !== 'string' || !payload.source) errors.push("'payload.source' is missing or blank");
      if (!SEVERITIES.includes(payload.severity as Severity)) errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
    }
    if (errors.length) return invalid(...errors);
    const severity = payload!.severity as Severity;
    const dedupKey = typeof event.dedup_key === 'string' && event.dedup_key ? event.dedup_key : randomBytes(16).toString('hex');
    const alert = { at: now, event_action: 'trigger', payload, ...(event.links !== undefined ? { links: event.links } : {}) };
    const open = this.stored.find((i) => i.serviceId === SERVICE.id && i.dedupKey === dedupKey && isOpen(i));
    if (open) {
      open.alerts.push(alert);
      open.updatedAt = now;
      if (SEVERITIES.indexOf(severity) > SEVERITIES.indexOf(open.severity ?? 'info')) {
        open.severity = severity;
        open.urgency = severity === 'critical' || severity === 'error' ? 'high' : open.urgency;
      }
    } else {
      this.stored.push({
        ...this.newIncidentBase('events', dedupKey, String(payload!.summary), now),
        severity,
        urgency: severity === 'critical' || severity === 'error' ? 'high' : 'low',
        alerts: [alert],
        assignees: [USERS[0].id],
      });
    }
    return new Reply(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }

  private newIncidentBase(source: SimIncident['source'], dedupKey: string, title: string, now: string) {
    this.counter++;
    const id = `Q${createHash('sha1').update(`incident-${this.counter}`).digest('hex').slice(0, 12).toUpperCase()}`;
    return { id, number: this.counter, source, dedupKey, title, status: 'triggered' as const, serviceId: SERVICE.id, createdAt: now, updatedAt: now, notes: [] };
  }

  private createIncident(body: unknown, from: string | undefined): Reply {
    if (!from) return restError(400, 'You must specify a user\'s email address in the "From" header to perform this action', 2008);
    const incident = (body as { incident?: Record<string, any> } | undefined)?.incident;
    if (!incident || incident.type !== 'incident' || typeof incident.title !== 'string' || !incident.title) {
      return restError(400, 'Invalid Input Provided', 2001, ['Incident type must be "incident" and title is required']);
    }
    if (incident.service?.id !== SERVICE.id) return restError(400, 'Invalid Input Provided', 2001, ['Service not found']);
    const urgency = incident.urgency ?? 'high';
    if (urgency !== 'high' && urgency !== 'low') return restError(400, 'Invalid Input Provided', 2001, ['Urgency must be high or low']);
    const key = typeof incident.incident_key === 'string' && incident.incident_key ? incident.incident_key : randomBytes(16).toString('hex');
    if (this.stored.some((i) => i.serviceId === SERVICE.id && i.dedupKey === key && isOpen(i))) {
      return restError(400, 'Incident Already Exists', 2001, ['Open incident with matching dedup key already exists on this service']);
    }
    const requested = Array.isArray(incident.assignments) ? incident.assignments.map((a: { assignee?: { id?: string } }) => a.assignee?.id) : [];
    const unknown = requested.filter((id: unknown) => !USERS.some((u) => u.id === id));
    if (unknown.length) return restError(400, 'Invalid Input Provided', 2001, [`Assignee not found: ${unknown.join(', ')}`]);
    const now = new Date().toISOString();
    const created: SimIncident = {
      ...this.newIncidentBase('rest', key, incident.title, now),
      urgency,
      ...(typeof incident.body?.details === 'string' ? { body: incident.body.details } : {}),
      alerts: [],
      assignees: requested.length ? (requested as string[]) : [USERS[0].id],
    };
    this.stored.push(created);
    return new Reply(201, { incident: this.incidentJson(created) });
  }

  private listIncidents(query: Record<string, string | string[]>): Reply {
    const list = (name: string) => {
      const value = query[name];
      return value === undefined ? undefined : Array.isArray(value) ? value : [value];
    };
    const services = list('service_ids[]');
    const statuses = list('statuses[]');
    const key = typeof query.incident_key === 'string' ? query.incident_key : undefined;
    const found = this.stored.filter(
      (i) => (!services || services.includes(i.serviceId)) && (!statuses || statuses.includes(i.status)) && (key === undefined || i.dedupKey === key),
    );
    return new Reply(200, { incidents: found.map((i) => this.incidentJson(i)), limit: 25, offset: 0, more: false, total: found.length });
  }

  private updateIncident(incident: SimIncident, body: unknown, from: string | undefined): Reply {
    if (!from) return restError(400, 'You must specify a user\'s email address in the "From" header to perform this action', 2008);
    const change = (body as { incident?: { status?: string; urgency?: string; title?: string } } | undefined)?.incident;
    if (!change) return restError(400, 'Invalid Input Provided', 2001, ['incident is required']);
    if (change.status !== undefined) {
      if (!['acknowledged', 'resolved'].includes(change.status)) return restError(400, 'Invalid Input Provided', 2001, ['status must be acknowledged or resolved']);
      incident.status = change.status as IncidentStatus;
    }
    if (change.urgency !== undefined) {
      if (change.urgency !== 'high' && change.urgency !== 'low') return restError(400, 'Invalid Input Provided', 2001, ['urgency must be high or low']);
      incident.urgency = change.urgency;
    }
    if (typeof change.title === 'string' && change.title) incident.title = change.title;
    incident.updatedAt = new Date().toISOString();
    return new Reply(200, { incident: this.incidentJson(incident) });
  }

  private addNote(incident: SimIncident, body: unknown, from: string | undefined): Reply {
    if (!from) return restError(400, 'You must specify a user\'s email address in the "From" header to perform this action', 2008);
    const content = (body as { note?: { content?: unknown } } | undefined)?.note?.content;
    if (typeof content !== 'string' || !content) return restError(400, 'Invalid Input Provided', 2001, ['note.content is required']);
    const note = { id: `N${incident.notes.length + 1}${incident.id.slice(1, 7)}`, content, at: new Date().toISOString(), from };
    incident.notes.push(note);
    return new Reply(201, { note: this.noteJson(note) });
  }

  private oncalls(query: Record<string, string | string[]>): Reply {
    const policies = query['escalation_policy_ids[]'];
    const wanted = policies === undefined ? undefined : Array.isArray(policies) ? policies : [policies];
    const oncalls = wanted && !wanted.includes(POLICY.id)
      ? []
      : USERS.map((user) => ({
          escalation_level: user.level,
          user: userReference(user.id),
          escalation_policy: { id: POLICY.id, type: 'escalation_policy_reference', summary: POLICY.name },
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
      escalation_policy: { id: POLICY.id, type: 'escalation_policy_reference', summary: POLICY.name },
      assignments: incident.assignees.map((id) => ({ at: incident.createdAt, assignee: userReference(id) })),
      html_url: `https://sim.pagerduty.local/incidents/${incident.id}`,
    };
  }

  private noteJson(note: SimIncident['notes'][number]) {
    return { id: note.id, content: note.content, created_at: note.at, user: { type: 'user_reference', summary: note.from ?? 'unknown' } };
  }

  private serviceJson() {
    return { id: SERVICE.id, type: 'service', name: SERVICE.name, summary: SERVICE.name, status: 'active', escalation_policy: { id: POLICY.id, type: 'escalation_policy_reference', summary: POLICY.name } };
  }

  /** `/_sim/*`: inspection and fault knobs for humans and the compose stack; no auth, never affected by an outage. */
  private async control(req: IncomingMessage, url: URL): Promise<Reply> {
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /_sim/health') return new Reply(200, { ok: true, incidents: this.stored.length });
    if (route === 'GET /_sim/incidents') return new Reply(200, this.incidents);
    if (route === 'GET /_sim/requests') return new Reply(200, this.requests);
    if (route === 'POST /_sim/clear') {
      this.clear();
      return new Reply(200, { ok: true });
    }
    if (route === 'POST /_sim/faults') {
      const body = ((await this.readJson(req)) ?? {}) as { failNext?: { status: number; count?: number }; outage?: boolean; reset?: boolean };
      if (body.reset) this.resetFaults();
      if (body.failNext) this.failNext(body.failNext.status, body.failNext.count ?? 1);
      if (body.outage !== undefined) this.outage(body.outage);
      return new Reply(200, { failures: this.failures, outage: this.down });
    }
    return restError(404, 'Not Found', 2100);
  }
}
