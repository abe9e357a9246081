import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { DEFAULT_USERS, type ServiceUrgency, type SimUser } from './pagerduty/account';
import { EVENTS_LIMITS, EventsRateLimiter, enqueue, throttled } from './pagerduty/events-api';
import {
  Reply, asReply, invalidInput, isJsonContentType, notFound, parseJson, parseQuery, readBody, redactedBody, redactedHeaders, restError, send, type Query,
} from './pagerduty/http';
import { routeRest } from './pagerduty/rest-api';
import { IncidentStore, type SimIncident } from './pagerduty/store';
import { CUSTOM_ACTION_EVENT_TYPE, deliver, newSubscription, workflowStartedEvent, type WebhookDelivery, type WebhookSubscription } from './pagerduty/webhooks';
import { ensureLocalTls } from './tls';

/**
 * PagerDuty on loopback: the Events API v2 (`POST /v2/enqueue`) and the REST endpoints audit-spike uses, strict where
 * PagerDuty documents a rule (sim/pagerduty/*.ts name the sources), so that @pagerduty/pdjs, unmodified, talks to it as
 * to the real service. The same routes are served over HTTPS (pdjs only speaks HTTPS to the Events API, so the
 * certificate comes from a local CA the client must trust) and over plain HTTP. It records what it received (secrets
 * redacted), fails on demand, and lets a test act as a person in the PagerDuty UI (acknowledge, resolve).
 */

export type { Severity, ServiceUrgency, SimUser } from './pagerduty/account';
export type { IncidentStatus, SimIncident } from './pagerduty/store';
export { EVENTS_LIMITS } from './pagerduty/events-api';
export { CUSTOM_ACTION_EVENT_TYPE, type WebhookDelivery } from './pagerduty/webhooks';

export interface SimRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Accept, Authorization (scheme kept, token replaced by '[redacted]'), Content-Type, From, User-Agent. */
  headers: Record<string, string>;
  /** 0 when the connection was dropped without an answer (an outage). */
  status: number;
  /** The JSON body with `routing_key` replaced by '[redacted]'. */
  body?: unknown;
  /** What the simulator answered (JSON), so contract tests can check every response it gave. */
  response?: { headers: Record<string, string>; body: unknown };
}

export interface PagerDutySimOptions {
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  httpsPort?: number;
  httpPort?: number;
  tlsDir: string;
  /** Events API integration keys; each must be 32 characters, as PagerDuty's are. */
  routingKeys?: string[];
  apiToken?: string;
  /** The account's users; by default Ada (first-level on call), Bo (second level) and audit-spike@example.com. */
  users?: SimUser[];
  /** The service's incident urgency rule; default `severity_based`. */
  serviceUrgency?: ServiceUrgency;
}

export interface FaultState {
  failures: Array<{ status: number; remaining: number; retryAfterS?: number; resetS?: number; emptyBody?: boolean; route?: string }>;
  outage: boolean;
  eventsRateLimit?: { perMinute: number; throttleBody: 'json' | 'empty' };
}

type Api = 'events' | 'rest';

/** REST bodies are bounded at 1 MB here; the Events API's own 512 KB limit is checked as a documented 400. */
const MAX_BODY_BYTES = 1024 * 1024;

function shownHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * REST 429 as docs/REST-API/04-Rate-Limits.md @ 94224391 shows it: `ratelimit-limit`, `ratelimit-remaining`,
 * `ratelimit-reset` (seconds) and `{"error": {"message": "Rate Limit Exceeded", "code": 2020}}`.
 */
function restThrottled(resetS: number): Reply {
  return new Reply(429, { error: { message: 'Rate Limit Exceeded', code: 2020 } }, {
    'ratelimit-limit': '960', 'ratelimit-remaining': '0', 'ratelimit-reset': String(resetS),
  });
}

export class PagerDutySimulator {
  readonly routingKeys: string[];
  readonly apiToken: string;
  eventsServer = '';
  httpsUrl = '';
  httpUrl = '';
  caFile = '';
  ca = '';
  private readonly store: IncidentStore;
  private readonly limiter = new EventsRateLimiter();
  private readonly log: SimRequest[] = [];
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private failures: FaultState['failures'] = [];
  private down = false;
  private racing: Array<{ route: RegExp; action: 'acknowledge' | 'resolve'; dedupKey: string; by: string }> = [];
  private readonly subscriptions: WebhookSubscription[] = [];
  private readonly deliveries: WebhookDelivery[] = [];
  private forgedSignatures = 0;

  private constructor(options: PagerDutySimOptions) {
    this.routingKeys = [...(options.routingKeys ?? ['sim-routing-key-0000000000000000'])];
    const wrong = this.routingKeys.find((key) => key.length !== EVENTS_LIMITS.routingKeyLength);
    if (wrong !== undefined) throw new Error(`PagerDuty routing keys are 32 characters; "${wrong}" has ${wrong.length}`);
    this.apiToken = options.apiToken ?? 'sim-pd-token';
    this.store = new IncidentStore(structuredClone([...(options.users ?? DEFAULT_USERS)]));
    if (options.serviceUrgency) this.store.serviceUrgency = options.serviceUrgency;
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
    return structuredClone(this.store.incidents);
  }

  get requests(): SimRequest[] {
    return structuredClone(this.log);
  }

  get users(): SimUser[] {
    return structuredClone(this.store.users);
  }

  /** A person acknowledges, in the PagerDuty UI, the open incident with this dedup key (incident_key). */
  personAcknowledges(dedupKey: string, by = 'ada@example.com'): SimIncident {
    return structuredClone(this.store.personActs('acknowledge', dedupKey, by));
  }

  /** A person resolves, in the PagerDuty UI, the open incident with this dedup key (incident_key). */
  personResolves(dedupKey: string, by = 'ada@example.com'): SimIncident {
    return structuredClone(this.store.personActs('resolve', dedupKey, by));
  }

  /**
   * A person acts just before the next request matching `route` (a regular expression over `METHOD /path`) is answered:
   * the race where someone resolves an incident between audit-spike's lookup and its change.
   */
  personActsBefore(route: string, action: 'acknowledge' | 'resolve', dedupKey: string, by = 'ada@example.com'): void {
    this.racing.push({ route: new RegExp(route), action, dedupKey, by });
  }

  /**
   * A v3 webhook subscription to `url` (docs/webhooks/01-Overview.md). PagerDuty generates its signing secret and shows
   * it once, in the creation response: here it is returned the same way.
   */
  addWebhookSubscription(url: string, events: string[] = [CUSTOM_ACTION_EVENT_TYPE], options: { secret?: string } = {}): { id: string; secret: string } {
    const subscription = newSubscription(url, events, options.secret);
    this.subscriptions.push(subscription);
    return { id: subscription.id, secret: subscription.secrets[0] };
  }

  /** Deletes every webhook subscription (they are account configuration: `clear()` keeps them). */
  clearWebhookSubscriptions(): void {
    this.subscriptions.length = 0;
  }

  /** Starts a secret rotation: deliveries carry a signature under the new secret and one under the old (returned: the new). */
  rotateWebhookSecret(subscriptionId: string): string {
    const subscription = this.subscription(subscriptionId);
    const fresh = newSubscription(subscription.url, subscription.events).secrets[0];
    subscription.secrets = [fresh, subscription.secrets[0]];
    return fresh;
  }

  /** Ends a rotation: only the newest secret signs. */
  completeWebhookSecretRotation(subscriptionId: string): void {
    const subscription = this.subscription(subscriptionId);
    subscription.secrets = subscription.secrets.slice(0, 1);
  }

  /** The next `count` webhook deliveries are signed with a secret that is not the subscription's (a forgery). */
  forgeWebhookSignatures(count = 1): void {
    this.forgedSignatures += count;
  }

  /**
   * A person (a user of the account, by email) runs the action named `actionName` on an incident in the PagerDuty UI:
   * every subscription to `CUSTOM_ACTION_EVENT_TYPE` receives a signed v3 webhook (sim/pagerduty/webhooks.ts says why
   * that event type). Resolves once each receiver answered; what was sent is in `webhookDeliveries`.
   */
  async fireCustomIncidentAction(incidentId: string, actionName: string, agentEmail: string, options: { occurredAt?: Date } = {}): Promise<WebhookDelivery[]> {
    const incident = this.store.incidents.find((i) => i.id === incidentId);
    if (!incident) throw new Error(`no incident ${incidentId} in the simulator`);
    const agent = this.store.userByEmail(agentEmail);
    if (!agent) throw new Error(`${agentEmail} is not a user of the simulated PagerDuty account`);
    const payload = workflowStartedEvent(incident, actionName, agent, (options.occurredAt ?? new Date(this.store.now())).toISOString());
    const sent: WebhookDelivery[] = [];
    for (const subscription of this.subscriptions.filter((s) => s.events.includes(CUSTOM_ACTION_EVENT_TYPE))) {
      const forged = this.forgedSignatures > 0;
      if (forged) this.forgedSignatures--;
      const delivery = await deliver(subscription, payload, { forged });
      this.deliveries.push(delivery);
      sent.push(delivery);
    }
    return structuredClone(sent);
  }

  /** Every webhook the simulator sent, in order. */
  get webhookDeliveries(): WebhookDelivery[] {
    return structuredClone(this.deliveries);
  }

  private subscription(id: string): WebhookSubscription {
    const subscription = this.subscriptions.find((s) => s.id === id);
    if (!subscription) throw new Error(`no webhook subscription ${id}`);
    return subscription;
  }

  /** The service's urgency rule: `severity_based` lets an event's severity choose; `high`/`low` are constant. */
  setServiceUrgency(rule: ServiceUrgency): void {
    this.store.serviceUrgency = rule;
  }

  /** Moves the simulator's clock (incident times, the default date range of GET /incidents, the Events rate window). */
  advanceClock(ms: number): void {
    this.store.advanceClock(ms);
  }

  /**
   * The next `count` API requests (Events or REST; never `/_sim/*`) answer `status`. A REST 429 carries the `ratelimit-*`
   * headers (reset `resetS`, default 1 s); an Events 429 carries none (undocumented) unless `retryAfterS` is given.
   * `emptyBody`: answer with no body (a 429 "without the rate limit headers or the response body" happens too).
   * `route`: a regular expression over `METHOD /path` (e.g. `^PUT /incidents/`); only matching requests fail.
   */
  failNext(status: number, count = 1, options: { retryAfterS?: number; resetS?: number; emptyBody?: boolean; route?: string } = {}): void {
    if (count < 1) return;
    this.failures.push({ status, remaining: count, ...options });
  }

  /** The Events API's per-routing-key limit, calls per rolling minute (PagerDuty's is about 120); undefined turns it off. */
  setEventsRateLimit(perMinute: number | undefined, throttleBody: 'json' | 'empty' = 'json'): void {
    this.limiter.perMinute = perMinute;
    this.limiter.throttleBody = throttleBody;
    this.limiter.reset();
  }

  /** While on, every API request has its connection destroyed without an answer; `/_sim/*` stays up to turn it off. */
  outage(on: boolean): void {
    this.down = on;
  }

  resetFaults(): void {
    this.failures = [];
    this.racing = [];
    this.down = false;
    this.forgedSignatures = 0;
    this.setEventsRateLimit(undefined);
  }

  clear(): void {
    this.store.clear();
    this.log.length = 0;
    this.deliveries.length = 0;
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
    const record: SimRequest = {
      at: Date.now(), method: req.method ?? 'GET', path: url.pathname, query: redactedBody(query), headers: redactedHeaders(req.headers), status: 0,
    };
    this.log.push(record);
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const api: Api = path === '/v2/enqueue' ? 'events' : 'rest';
    let reply: Reply;
    try {
      const raw = await readBody(req, MAX_BODY_BYTES);
      const body = parseJson(raw, () =>
        api === 'events'
          ? new Reply(400, { status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['JSON parse error'] })
          : invalidInput('Request body is not valid JSON'));
      if (body !== undefined) record.body = redactedBody(body);
      const race = this.racing.findIndex((r) => r.route.test(`${record.method} ${path}`));
      if (race >= 0) {
        const { action, dedupKey, by } = this.racing.splice(race, 1)[0];
        this.store.personActs(action, dedupKey, by);
      }
      reply = this.injectedFailure(api, `${record.method} ${path}`) ?? this.route(api, record.method, path, query, req, body, raw.length);
    } catch (error) {
      reply = asReply(error);
    }
    record.status = reply.status;
    record.response = { headers: reply.headers, body: reply.body };
    send(res, reply);
  }

  private route(api: Api, method: string, path: string, query: Query, req: IncomingMessage, body: unknown, bodyBytes: number): Reply {
    // The spec's Content-Type is `application/json`; pdjs adds `; charset=utf-8`, which PagerDuty takes.
    if (bodyBytes > 0 && !isJsonContentType(req.headers['content-type'])) {
      return api === 'events'
        ? new Reply(400, { status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['Content-Type must be application/json'] })
        : restError(415, 'Unsupported Media Type', 2001, ['Content-Type must be application/json']);
    }
    if (api === 'events') return method === 'POST' ? enqueue(this.store, this.routingKeys, body, bodyBytes, this.limiter) : notFound();
    return routeRest(this.store, this.apiToken, { method, path, query, headers: req.headers, body });
  }

  private injectedFailure(api: Api, route: string): Reply | undefined {
    const index = this.failures.findIndex((f) => f.route === undefined || new RegExp(f.route).test(route));
    const failure = this.failures[index];
    if (!failure) return undefined;
    if (--failure.remaining <= 0) this.failures.splice(index, 1);
    const { status } = failure;
    if (failure.emptyBody) return new Reply(status, undefined);
    if (status === 429) {
      if (api === 'rest') return restThrottled(failure.resetS ?? failure.retryAfterS ?? 1);
      return throttled('json', failure.retryAfterS !== undefined ? { 'retry-after': String(failure.retryAfterS) } : {});
    }
    return api === 'events'
      ? new Reply(status, { status: 'error', message: `Simulated failure ${status}`, errors: [`Simulated failure ${status}`] })
      : restError(status, `Simulated failure ${status}`, 2000);
  }

  /** `/_sim/*`: inspection, fault knobs and "a person" for humans and the compose stack; no auth, never faulted. */
  private async control(method: string, path: string, req: IncomingMessage): Promise<Reply> {
    const route = `${method} ${path}`;
    if (route === 'GET /_sim/health') return new Reply(200, { ok: true, incidents: this.store.incidents.length });
    if (route === 'GET /_sim/incidents') return new Reply(200, this.incidents);
    if (route === 'GET /_sim/requests') return new Reply(200, this.requests);
    if (route === 'POST /_sim/clear') {
      this.clear();
      return new Reply(200, { ok: true });
    }
    const body = method === 'POST' ? ((parseJson(await readBody(req, MAX_BODY_BYTES), () => invalidInput('body is not JSON')) ?? {}) as Record<string, any>) : {};
    if (route === 'POST /_sim/person/acknowledge' || route === 'POST /_sim/person/resolve') {
      if (typeof body.dedupKey !== 'string') return invalidInput('dedupKey (the incident_key / dedup_key) is required');
      const by = typeof body.by === 'string' ? body.by : undefined;
      try {
        const incident = path.endsWith('/resolve') ? this.personResolves(body.dedupKey, by) : this.personAcknowledges(body.dedupKey, by);
        return new Reply(200, incident);
      } catch (error) {
        return restError(404, 'Not Found', 2100, [(error as Error).message]);
      }
    }
    if (route === 'POST /_sim/person/custom-action') {
      if (typeof body.incidentId !== 'string' || typeof body.action !== 'string' || typeof body.by !== 'string') {
        return invalidInput('incidentId, action (its name) and by (a user\'s email) are required');
      }
      try {
        return new Reply(200, await this.fireCustomIncidentAction(body.incidentId, body.action, body.by));
      } catch (error) {
        return restError(404, 'Not Found', 2100, [(error as Error).message]);
      }
    }
    if (route === 'POST /_sim/service') {
      if (!['high', 'low', 'severity_based'].includes(body.urgency)) return invalidInput('urgency must be high, low or severity_based');
      this.setServiceUrgency(body.urgency);
      return new Reply(200, { urgency: body.urgency });
    }
    if (route === 'GET /_sim/faults') return new Reply(200, this.faults());
    if (route === 'POST /_sim/faults') {
      if (body.reset === true) this.resetFaults();
      if (body.failNext) {
        const { status, count, retryAfterS, resetS, emptyBody, route: only } = body.failNext;
        if (typeof status !== 'number' || status < 100 || status > 599) return invalidInput('failNext.status must be an HTTP status code');
        this.failNext(status, typeof count === 'number' ? count : 1, {
          ...(typeof retryAfterS === 'number' ? { retryAfterS } : {}),
          ...(typeof resetS === 'number' ? { resetS } : {}),
          ...(emptyBody === true ? { emptyBody } : {}),
          ...(typeof only === 'string' ? { route: only } : {}),
        });
      }
      if (body.eventsRateLimit !== undefined) {
        const limit = body.eventsRateLimit;
        if (limit === null) this.setEventsRateLimit(undefined);
        else if (typeof limit?.perMinute === 'number' && limit.perMinute >= 0) this.setEventsRateLimit(limit.perMinute, limit.throttleBody === 'empty' ? 'empty' : 'json');
        else return invalidInput('eventsRateLimit must be null or {perMinute, throttleBody?: "json" | "empty"}');
      }
      if (typeof body.outage === 'boolean') this.outage(body.outage);
      return new Reply(200, this.faults());
    }
    return notFound();
  }

  private faults(): FaultState {
    return {
      failures: structuredClone(this.failures),
      outage: this.down,
      ...(this.limiter.perMinute !== undefined ? { eventsRateLimit: { perMinute: this.limiter.perMinute, throttleBody: this.limiter.throttleBody } } : {}),
    };
  }
}
