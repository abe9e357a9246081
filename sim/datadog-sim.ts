import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AuditEventJson } from './audit-events';
import { QuerySyntaxError, matches, parseQuery, unescapedTerms, type QueryNode } from './datadog-query';
import { isContainmentPath, routeContainment } from './datadog/containment-api';
import { CursorBook, type CursorPosition } from './datadog/cursors';
import { OrgDirectory, type DirectoryApiKey, type DirectoryAppKey, type DirectoryUser } from './datadog/org-directory';
import { INVALID_CURSOR, PARTIAL_RESULTS_WARNING, errorBody, invalidField, nextLink, pageBody, type AuditWarning, type SearchParams } from './datadog/responses';
import { validateSearch } from './datadog/search-params';

/**
 * A Datadog v2 Audit Trail API on loopback, as strict as the spec and the genuine recordings allow, so that
 * `@datadog/datadog-api-client`, unmodified, pages through it as through Datadog: `GET /api/v2/audit/events` and
 * `POST /api/v2/audit/events/search`; case-sensitive attribute search (sim/datadog-query.ts); opaque cursors in
 * `meta.page.after` and `links.next` (sim/datadog/cursors.ts); a full last page carries a cursor and the page after it
 * is `{"data":[]}`; a retention horizon (default 7 days); the real 400/403/429 bodies (sim/datadog/responses.ts);
 * key headers checked, rate-limit headers and 429s, plus fault knobs and late indexing for tests.
 * For the containment of a burst (#17) it also serves the Users and Key Management endpoints over the org's users and
 * keys (sim/datadog/containment-api.ts, sim/datadog/org-directory.ts), learned from the audit events it is given.
 */

export interface RateLimit {
  limit: number;
  periodSeconds: number;
}

/** Datadog's default Audit Trail retention: "seven days… between three and 90 days" (docs.datadoghq.com/account_management/audit_trail/). */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;

export interface DatadogSimOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  appKey?: string;
  rateLimit?: RateLimit;
  /** Events older than this (against the wall clock) are gone, as past the org's Audit Trail retention. Default 7 days; Infinity keeps all. */
  retentionMs?: number;
  /** Keep each answer's status, headers and body in the request log (contract tests); off by default, bodies are large. */
  recordResponses?: boolean;
}

export interface SimRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  /** The URL's query parameters as sent (GET). */
  searchParams: Record<string, string>;
  /** Request headers, lower-cased names; the key headers' values are replaced by `<redacted>`. */
  headers: Record<string, string>;
  /** The parsed JSON body (POST), or the raw text when it is not JSON. */
  body?: unknown;
  query?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: boolean;
  returned?: number;
  /** The page was answered partial (`meta.status: "timeout"`). */
  partial?: boolean;
  /** Terms of the query whose bare value left a special character unescaped (they match nothing). */
  unescaped?: string[];
  response?: { status: number; headers: Record<string, string>; body: string };
}

export interface Faults {
  /** Answer the next N search/list requests with this status (5xx, 429, 400...). */
  failures: Array<{ status: number; remaining: number; resetS?: number }>;
  /** Never answer the next N search/list requests (the client's timeout fires). */
  hang: number;
  /** Each page after the first starts with the previous page's last event again. */
  duplicateAcrossPages: boolean;
  /** Added to every search/list answer. */
  latencyMs: number;
  /** The next N pages that would answer 200 are partial: `meta.status: "timeout"`, `meta.warnings`, half the events. */
  partialPages: number;
  /** Every non-empty page carries a cursor, even a short last one (then the next page is `{"data":[]}`). */
  cursorOnLastPage: boolean;
  /** Answer the next N Users / Key Management requests (matching `route`, a regular expression over `METHOD /path`) with this status. */
  containmentFailures: Array<{ status: number; remaining: number; route?: string }>;
  /** Every Users / Key Management answer waits this long (a test can stop a worker between two steps of a plan). */
  containmentLatencyMs: number;
}

interface StoredEvent {
  ts: number;
  id: string;
  /** Wall-clock time from which the event is searchable (late indexing). */
  visibleAt: number;
  searchable: { message?: string; service?: string; tags?: string[]; attributes?: Record<string, unknown> };
  json: string;
}

const KEY_HEADERS = new Set(['dd-api-key', 'dd-application-key']);

function compare(a: { ts: number; id: string }, b: { ts: number; id: string }): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class DatadogSimulator {
  readonly apiKey: string;
  readonly appKey: string;
  readonly faults: Faults = { failures: [], hang: 0, duplicateAcrossPages: false, latencyMs: 0, partialPages: 0, cursorOnLastPage: false, containmentFailures: [], containmentLatencyMs: 0 };
  private events: StoredEvent[] = [];
  private readonly byId = new Map<string, StoredEvent>();
  private sorted = true;
  private readonly ids = new Set<string>();
  private readonly log: SimRequest[] = [];
  private readonly queries = new Map<string, QueryNode>();
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private rateLimit: RateLimit;
  private windowStart = Date.now();
  private windowUsed = 0;
  private readonly cursors = new CursorBook();
  private readonly defaultRetentionMs: number;
  private retentionMs: number;
  private readonly recordResponses: boolean;
  private partialWarnings: AuditWarning[] = [PARTIAL_RESULTS_WARNING];
  private readonly directory: OrgDirectory;
  private server!: Server;
  port = 0;
  url = '';

  private constructor(options: DatadogSimOptions) {
    this.apiKey = options.apiKey ?? 'sim-dd-api-key';
    this.appKey = options.appKey ?? 'sim-dd-app-key';
    this.rateLimit = options.rateLimit ?? { limit: 300, periodSeconds: 60 };
    this.defaultRetentionMs = this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.recordResponses = options.recordResponses ?? false;
    this.directory = new OrgDirectory({ apiKey: this.apiKey, appKey: this.appKey });
  }

  static async start(options: DatadogSimOptions = {}): Promise<DatadogSimulator> {
    const sim = new DatadogSimulator(options);
    sim.server = createServer((req, res) => {
      sim.handle(req, res).catch((error) => {
        if (!res.headersSent) sim.send(res, 500, errorBody(`simulator error: ${(error as Error).message}`));
      });
    });
    sim.server.keepAliveTimeout = 5_000;
    sim.server.on('connection', (socket) => {
      sim.sockets.add(socket);
      socket.on('close', () => sim.sockets.delete(socket));
    });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      sim.server.once('error', reject);
      sim.server.listen(options.port ?? 0, host, () => resolve());
    });
    const address = sim.server.address();
    sim.port = typeof address === 'object' && address ? address.port : 0;
    sim.url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${sim.port}`;
    return sim;
  }

  /** Adds events; with `visibleAfterMs` they become searchable only that long after now (Datadog's ingestion lag). */
  addEvents(events: AuditEventJson[] | unknown[], options: { visibleAfterMs?: number } = {}): number {
    const visibleAt = Date.now() + (options.visibleAfterMs ?? 0);
    let added = 0;
    for (const raw of events) {
      const event = raw as Partial<AuditEventJson>;
      const id = typeof event?.id === 'string' ? event.id : randomUUID();
      if (this.ids.has(id)) continue;
      this.directory.learnFrom(event);
      const ts = Date.parse(String(event?.attributes?.timestamp ?? ''));
      const attributes = event?.attributes ?? ({} as AuditEventJson['attributes']);
      this.ids.add(id);
      const stored: StoredEvent = {
        // Events without a usable timestamp are still served (Datadog would index them at intake time).
        ts: Number.isNaN(ts) ? visibleAt : ts,
        id,
        visibleAt,
        searchable: { message: attributes.message, service: attributes.service, tags: attributes.tags, attributes: attributes.attributes },
        json: JSON.stringify({ ...event, id }),
      };
      this.events.push(stored);
      this.byId.set(id, stored);
      added++;
    }
    if (added) this.sorted = false;
    return added;
  }

  /** Seeds events from a JSONL file (one `data[]` element per line; blank and malformed lines are skipped). */
  loadJsonl(path: string, options: { visibleAfterMs?: number } = {}): number {
    const events: unknown[] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line));
      } catch {
        // A sample file may carry deliberately broken lines for dry-run; the API never serves those.
      }
    }
    return this.addEvents(events, options);
  }

  get eventCount(): number {
    return this.events.length;
  }

  get requests(): SimRequest[] {
    return [...this.log];
  }

  /** The org's users (learned from the events, plus the simulator's own service account), as they stand now. */
  get users(): DirectoryUser[] {
    return structuredClone([...this.directory.users.values()]);
  }

  /** The org's live API keys (a revoked one is gone), the simulator's own included. */
  get apiKeys(): DirectoryApiKey[] {
    return structuredClone([...this.directory.apiKeys.values()]);
  }

  /** The org's live application keys, the simulator's own included. */
  get applicationKeys(): DirectoryAppKey[] {
    return structuredClone([...this.directory.appKeys.values()]);
  }

  /** Direct access to the org's users and keys for seeding (`addUser`, `addApiKey`, `addAppKey`). */
  get org(): OrgDirectory {
    return this.directory;
  }

  resetRequests(): void {
    this.log.length = 0;
  }

  clear(): void {
    this.events = [];
    this.ids.clear();
    this.byId.clear();
    this.retentionMs = this.defaultRetentionMs;
    this.sorted = true;
    this.log.length = 0;
    this.directory.clear();
    this.resetFaults();
  }

  /** The next `count` search/list requests answer `status`; a 429 says to wait `resetS` seconds (default 1). */
  failNext(status: number, count = 1, options: { resetS?: number } = {}): void {
    this.faults.failures.push({ status, remaining: count, ...(options.resetS !== undefined ? { resetS: options.resetS } : {}) });
  }

  /**
   * The next `count` Users / Key Management requests answer `status` (a 429 with the rate-limit headers, `resetS`
   * seconds); `route`, a regular expression over `METHOD /path` (e.g. `^DELETE /api/v2/api_keys/`), narrows which.
   */
  failContainmentNext(status: number, count = 1, options: { route?: string } = {}): void {
    if (count < 1) return;
    this.faults.containmentFailures.push({ status, remaining: count, ...(options.route !== undefined ? { route: options.route } : {}) });
  }

  /** Every page cursor issued so far is refused from now on (400), as Datadog's do once they expire. */
  expireCursors(): void {
    this.cursors.expire();
  }

  /**
   * The next `count` pages that would answer 200 answer partial results instead: `meta.status: "timeout"` with
   * `meta.warnings`, and only the first half of the page's events (its cursor after the last one returned).
   */
  partialNext(count = 1, warnings: AuditWarning[] = [PARTIAL_RESULTS_WARNING]): void {
    this.faults.partialPages += count;
    this.partialWarnings = warnings;
  }

  /** The org's Audit Trail retention: events older than this (against the wall clock) are no longer served. */
  setRetention(ms: number): void {
    this.retentionMs = ms;
  }

  /** The oldest time still served: now minus the retention. */
  get retentionHorizon(): number {
    return Date.now() - this.retentionMs;
  }

  hangNext(count = 1): void {
    this.faults.hang += count;
  }

  setRateLimit(rateLimit: RateLimit): void {
    this.rateLimit = rateLimit;
    this.windowStart = Date.now();
    this.windowUsed = 0;
  }

  resetFaults(): void {
    this.faults.failures = [];
    this.faults.hang = 0;
    this.faults.duplicateAcrossPages = false;
    this.faults.latencyMs = 0;
    this.faults.partialPages = 0;
    this.faults.cursorOnLastPage = false;
    this.faults.containmentFailures = [];
    this.faults.containmentLatencyMs = 0;
    this.windowStart = Date.now();
    this.windowUsed = 0;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    // A 204 carries no body and, unless told, no content type (the recorded user DELETE has none).
    res.writeHead(status, { ...(status === 204 ? {} : { 'content-type': 'application/json' }), 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 20 * 1024 * 1024) throw new Error('request body too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/_sim/')) return this.control(req, res, url);
    const isList = req.method === 'GET' && url.pathname === '/api/v2/audit/events';
    const isSearch = req.method === 'POST' && url.pathname === '/api/v2/audit/events/search';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = KEY_HEADERS.has(name) ? '<redacted>' : Array.isArray(value) ? value.join(', ') : value;
    }
    const record: SimRequest = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, status: 0, searchParams: Object.fromEntries(url.searchParams), headers };
    this.log.push(record);
    const reply = (status: number, body: string, replyHeaders: Record<string, string> = {}) => {
      record.status = status;
      if (this.recordResponses) record.response = { status, headers: { ...(status === 204 ? {} : { 'content-type': 'application/json' }), ...replyHeaders }, body };
      this.send(res, status, body, replyHeaders);
    };
    // Read the body before answering anything, so the log holds what was sent even when it is refused.
    const isContainment = isContainmentPath(url.pathname);
    let text = '';
    if (isSearch || isContainment) text = await this.readBody(req);
    if (!isList && !isSearch && !isContainment) return reply(404, errorBody('Not Found'));
    if (!this.directory.authenticates(req.headers['dd-api-key'], req.headers['dd-application-key'])) {
      return reply(403, errorBody('Forbidden'));
    }
    if (isContainment) return this.answerContainment(record, url, text, reply);

    let params: SearchParams;
    if (isSearch) {
      let body: { filter?: { query?: string; from?: string; to?: string }; page?: { cursor?: string; limit?: unknown }; sort?: string } = {};
      try {
        body = text.trim() ? JSON.parse(text) : {};
        record.body = body;
      } catch {
        record.body = text;
        return reply(400, errorBody('Malformed request body: expected JSON'));
      }
      params = { query: body.filter?.query, from: body.filter?.from, to: body.filter?.to, sort: body.sort, cursor: body.page?.cursor, limit: body.page?.limit };
    } else {
      const get = (name: string) => url.searchParams.get(name) ?? undefined;
      params = { query: get('filter[query]'), from: get('filter[from]'), to: get('filter[to]'), sort: get('sort'), cursor: get('page[cursor]'), limit: get('page[limit]') };
    }
    Object.assign(record, { query: params.query, from: params.from, to: params.to, cursor: Boolean(params.cursor) });

    const limitHeaders = this.takeRateLimit();
    if (!limitHeaders.allowed) return reply(429, errorBody('Too many requests'), limitHeaders.headers);
    if (this.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));
    if (this.faults.hang > 0) {
      this.faults.hang--;
      record.status = -1;
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    const failure = this.faults.failures.find((f) => f.remaining > 0);
    if (failure) {
      failure.remaining--;
      this.faults.failures = this.faults.failures.filter((f) => f.remaining > 0);
      const headers = failure.status === 429 ? { ...limitHeaders.headers, 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(failure.resetS ?? 1) } : limitHeaders.headers;
      return reply(failure.status, errorBody(failure.status === 429 ? 'Too many requests' : `Simulated failure ${failure.status}`), headers);
    }

    const result = this.page(params);
    if ('error' in result) return reply(400, errorBody(result.error), limitHeaders.headers);
    record.limit = result.limit;
    record.returned = result.json.length;
    if (result.unescaped.length) record.unescaped = result.unescaped;
    if (result.partial) record.partial = true;
    const next = result.after ? nextLink(this.url, params, result.after, result.limit) : undefined;
    reply(200, pageBody({ events: result.json, after: result.after, next, ...(result.partial ? { partial: { warnings: this.partialWarnings } } : {}) }), limitHeaders.headers);
  }

  /** Users and Key Management (sim/datadog/containment-api.ts), after the shared key check; their own fault knob. */
  private async answerContainment(record: SimRequest, url: URL, text: string, reply: (status: number, body: string, headers?: Record<string, string>) => void): Promise<void> {
    if (this.faults.containmentLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.containmentLatencyMs));
    if (text) {
      try {
        record.body = JSON.parse(text);
      } catch {
        record.body = text;
      }
    }
    const route = `${record.method} ${url.pathname}`;
    const index = this.faults.containmentFailures.findIndex((f) => f.route === undefined || new RegExp(f.route).test(route));
    if (index >= 0) {
      const failure = this.faults.containmentFailures[index];
      if (--failure.remaining <= 0) this.faults.containmentFailures.splice(index, 1);
      const headers: Record<string, string> = failure.status === 429
        ? { 'x-ratelimit-limit': '100', 'x-ratelimit-period': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1', 'x-ratelimit-name': 'users_and_keys' }
        : {};
      return reply(failure.status, errorBody(failure.status === 429 ? 'Too many requests' : `Simulated failure ${failure.status}`), headers);
    }
    const answer = routeContainment(this.directory, { method: record.method, path: url.pathname, query: url.searchParams, body: text });
    reply(answer.status, answer.body ?? '', answer.headers);
  }

  private takeRateLimit(): { allowed: boolean; headers: Record<string, string> } {
    const now = Date.now();
    const periodMs = this.rateLimit.periodSeconds * 1000;
    if (now - this.windowStart >= periodMs) {
      this.windowStart = now - ((now - this.windowStart) % periodMs);
      this.windowUsed = 0;
    }
    const allowed = this.windowUsed < this.rateLimit.limit;
    if (allowed) this.windowUsed++;
    return {
      allowed,
      headers: {
        'x-ratelimit-limit': String(this.rateLimit.limit),
        'x-ratelimit-period': String(this.rateLimit.periodSeconds),
        'x-ratelimit-remaining': String(Math.max(0, this.rateLimit.limit - this.windowUsed)),
        'x-ratelimit-reset': String(Math.max(1, Math.ceil((this.windowStart + periodMs - now) / 1000))),
        'x-ratelimit-name': 'audit_logs_search',
      },
    };
  }

  private compiled(query: string): QueryNode {
    let node = this.queries.get(query);
    if (!node) {
      node = parseQuery(query);
      if (this.queries.size > 200) this.queries.clear();
      this.queries.set(query, node);
    }
    return node;
  }

  private page(params: SearchParams): { error: string } | { json: string[]; after?: string; limit: number; partial: boolean; unescaped: string[] } {
    const now = Date.now();
    const valid = validateSearch(params, now);
    if ('error' in valid) return valid;
    const { limit, to, sort } = valid;
    // Past the retention horizon the events are gone: a search reaching further back simply finds nothing there.
    const from = Math.max(valid.from, now - this.retentionMs);
    const queryText = params.query?.trim() || '*';
    let node: QueryNode;
    try {
      node = this.compiled(queryText);
    } catch (error) {
      if (error instanceof QuerySyntaxError) return { error: invalidField('filter.query', error.message) };
      throw error;
    }
    // A cursor belongs to its search (query, bounds, sort), as Datadog's do; relative bounds are resolved once.
    const search = createHash('sha1').update(`${queryText}|${params.from ?? ''}|${params.to ?? ''}|${sort}`).digest('base64url');
    let position: CursorPosition | undefined;
    if (params.cursor) {
      position = this.cursors.resolve(search, params.cursor);
      if (!position) return { error: INVALID_CURSOR };
    }
    this.sortEvents();
    const ascending = sort === 'timestamp';
    const json: string[] = [];
    let last: StoredEvent | undefined;
    if (position && this.faults.duplicateAcrossPages) {
      const repeat = this.byId.get(position.id);
      if (repeat && repeat.ts >= from) json.push(repeat.json);
    }
    const step = ascending ? 1 : -1;
    let i = ascending ? (position ? this.firstAfter(position) : this.firstAtOrAfter(from)) : position ? this.indexOf(position) - 1 : this.firstAtOrAfter(to) - 1;
    let more = false;
    for (; i >= 0 && i < this.events.length; i += step) {
      const event = this.events[i];
      if (ascending ? event.ts >= to : event.ts < from) break;
      if (event.ts < from || event.ts >= to || event.visibleAt > now) continue;
      if (!matches(node, event.searchable)) continue;
      if (json.length >= limit) {
        more = true;
        break;
      }
      json.push(event.json);
      last = event;
    }
    let partial = false;
    if (this.faults.partialPages > 0) {
      this.faults.partialPages--;
      partial = true;
      const kept = Math.floor(json.length / 2);
      if (kept < json.length) {
        json.length = kept;
        last = kept > 0 ? this.byId.get((JSON.parse(json[kept - 1]) as { id: string }).id) : undefined;
        more = true;
      }
    }
    // A full page always carries a cursor, even when nothing follows (the next page is then empty), as a paginator
    // must expect of Datadog; with `cursorOnLastPage` a short one does too.
    const full = json.length >= limit;
    const withCursor = last !== undefined && (more || full || this.faults.cursorOnLastPage);
    const after = withCursor ? this.cursors.issue(search, { ts: last!.ts, id: last!.id }) : undefined;
    return { json, limit, partial, unescaped: unescapedTerms(node).map((term) => `${term.field ?? ''}:${term.value}`), ...(after ? { after } : {}) };
  }

  private sortEvents(): void {
    if (this.sorted) return;
    this.events.sort(compare);
    this.sorted = true;
  }

  /** Index of the first event at or after `ts`. */
  private firstAtOrAfter(ts: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid].ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first event sorting at or after the cursor position. */
  private indexOf(position: { ts: number; id: string }): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.events[mid], position) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private firstAfter(position: { ts: number; id: string }): number {
    const i = this.indexOf(position);
    return i < this.events.length && compare(this.events[i], position) === 0 ? i + 1 : i;
  }

  /** `/_sim/*`: a small control API so humans and the compose stack can seed and inspect without code. */
  private async control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /_sim/health') return this.send(res, 200, JSON.stringify({ ok: true, events: this.events.length }));
    if (route === 'GET /_sim/requests') return this.send(res, 200, JSON.stringify(this.log));
    if (route === 'GET /_sim/org') return this.send(res, 200, JSON.stringify({ users: this.users, apiKeys: this.apiKeys, applicationKeys: this.applicationKeys }));
    if (route === 'POST /_sim/clear') {
      this.clear();
      return this.send(res, 200, '{"ok":true}');
    }
    if (route === 'POST /_sim/events') {
      const text = await this.readBody(req);
      let events: unknown[];
      try {
        events = text.trimStart().startsWith('[') ? JSON.parse(text) : text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
      } catch {
        return this.send(res, 400, errorBody('Body must be a JSON array of audit events or JSONL'));
      }
      const visibleAfterMs = Number(url.searchParams.get('visibleAfterMs') ?? 0);
      return this.send(res, 200, JSON.stringify({ added: this.addEvents(events, { visibleAfterMs }) }));
    }
    if (route === 'POST /_sim/faults') {
      let body: {
        failNext?: { status: number; count?: number }; hangNext?: number; duplicateAcrossPages?: boolean; latencyMs?: number; expireCursors?: boolean; reset?: boolean;
        partialNext?: number; cursorOnLastPage?: boolean; retentionDays?: number; failContainmentNext?: { status: number; count?: number; route?: string }; containmentLatencyMs?: number;
      } = {};
      try {
        body = JSON.parse((await this.readBody(req)) || '{}');
      } catch {
        return this.send(res, 400, errorBody('Body must be JSON'));
      }
      if (body.reset) this.resetFaults();
      if (body.failNext) this.failNext(body.failNext.status, body.failNext.count ?? 1);
      if (body.hangNext) this.hangNext(body.hangNext);
      if (body.expireCursors) this.expireCursors();
      if (body.duplicateAcrossPages !== undefined) this.faults.duplicateAcrossPages = body.duplicateAcrossPages;
      if (body.latencyMs !== undefined) this.faults.latencyMs = body.latencyMs;
      if (body.partialNext) this.partialNext(body.partialNext);
      if (body.cursorOnLastPage !== undefined) this.faults.cursorOnLastPage = body.cursorOnLastPage;
      if (body.retentionDays !== undefined) this.setRetention(body.retentionDays * 86_400_000);
      if (body.containmentLatencyMs !== undefined) this.faults.containmentLatencyMs = body.containmentLatencyMs;
      if (body.failContainmentNext) this.failContainmentNext(body.failContainmentNext.status, body.failContainmentNext.count ?? 1, { route: body.failContainmentNext.route });
      return this.send(res, 200, JSON.stringify(this.faults));
    }
    this.send(res, 404, errorBody('Not Found'));
  }
}
