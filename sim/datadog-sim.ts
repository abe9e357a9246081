import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AuditEventJson } from './audit-events';
import { QuerySyntaxError, matches, parseQuery, type QueryNode } from './datadog-query';

/**
 * A Datadog v2 Audit Trail API on loopback, close enough that `@datadog/datadog-api-client`, unmodified, pages through
 * it: `GET /api/v2/audit/events` and `POST /api/v2/audit/events/search`, keyset cursors in `meta.page.after` and
 * `links.next`, key headers checked, rate-limit headers and 429s, plus fault knobs and late indexing for tests.
 */

export interface RateLimit {
  limit: number;
  periodSeconds: number;
}

export interface DatadogSimOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  appKey?: string;
  rateLimit?: RateLimit;
}

export interface SimRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  query?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: boolean;
  returned?: number;
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
}

interface StoredEvent {
  ts: number;
  id: string;
  /** Wall-clock time from which the event is searchable (late indexing). */
  visibleAt: number;
  searchable: { message?: string; service?: string; tags?: string[]; attributes?: Record<string, unknown> };
  json: string;
}

interface Cursor {
  ts: number;
  id: string;
  /** The search this cursor belongs to; a cursor is rejected on another search, as Datadog does. */
  q: string;
  /** Cursors issued before `expireCursors()` are refused, as Datadog's expire after a while. */
  e?: number;
}

const MAX_PAGE_LIMIT = 1000;
const DEFAULT_PAGE_LIMIT = 10;

function parseTime(value: string | undefined, fallback: number, now: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  if (/^\d+$/.test(value)) return Number(value);
  const relative = /^now(?:\s*-\s*(\d+)\s*([smhdw]))?$/.exec(value.trim());
  if (relative) {
    if (!relative[1]) return now;
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[relative[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(relative[1]) * unit;
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function compare(a: { ts: number; id: string }, b: { ts: number; id: string }): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function errorBody(...errors: string[]): string {
  return JSON.stringify({ errors });
}

export class DatadogSimulator {
  readonly apiKey: string;
  readonly appKey: string;
  readonly faults: Faults = { failures: [], hang: 0, duplicateAcrossPages: false, latencyMs: 0 };
  private events: StoredEvent[] = [];
  private sorted = true;
  private readonly ids = new Set<string>();
  private readonly log: SimRequest[] = [];
  private readonly queries = new Map<string, QueryNode>();
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private rateLimit: RateLimit;
  private windowStart = Date.now();
  private windowUsed = 0;
  private cursorEpoch = 0;
  private server!: Server;
  port = 0;
  url = '';

  private constructor(options: DatadogSimOptions) {
    this.apiKey = options.apiKey ?? 'sim-dd-api-key';
    this.appKey = options.appKey ?? 'sim-dd-app-key';
    this.rateLimit = options.rateLimit ?? { limit: 300, periodSeconds: 60 };
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
      const ts = Date.parse(String(event?.attributes?.timestamp ?? ''));
      const attributes = event?.attributes ?? ({} as AuditEventJson['attributes']);
      this.ids.add(id);
      this.events.push({
        // Events without a usable timestamp are still served (Datadog would index them at intake time).
        ts: Number.isNaN(ts) ? visibleAt : ts,
        id,
        visibleAt,
        searchable: { message: attributes.message, service: attributes.service, tags: attributes.tags, attributes: attributes.attributes },
        json: JSON.stringify({ ...event, id }),
      });
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

  resetRequests(): void {
    this.log.length = 0;
  }

  clear(): void {
    this.events = [];
    this.ids.clear();
    this.sorted = true;
    this.log.length = 0;
    this.resetFaults();
  }

  /** The next `count` search/list requests answer `status`; a 429 says to wait `resetS` seconds (default 1). */
  failNext(status: number, count = 1, options: { resetS?: number } = {}): void {
    this.faults.failures.push({ status, remaining: count, ...(options.resetS !== undefined ? { resetS: options.resetS } : {}) });
  }

  /** Every page cursor issued so far is refused from now on (400), as Datadog's do once they expire. */
  expireCursors(): void {
    this.cursorEpoch++;
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
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
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
    const record: SimRequest = { at: Date.now(), method: req.method ?? 'GET', path: url.pathname, status: 0 };
    this.log.push(record);
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      record.status = status;
      this.send(res, status, body, headers);
    };
    if (!isList && !isSearch) return reply(404, errorBody('Not Found'));
    if (req.headers['dd-api-key'] !== this.apiKey || req.headers['dd-application-key'] !== this.appKey) {
      return reply(403, errorBody('Forbidden'));
    }

    let params: { query?: string; from?: string; to?: string; sort?: string; cursor?: string; limit?: unknown };
    if (isSearch) {
      let body: { filter?: { query?: string; from?: string; to?: string }; page?: { cursor?: string; limit?: unknown }; sort?: string } = {};
      try {
        const text = await this.readBody(req);
        body = text.trim() ? JSON.parse(text) : {};
      } catch {
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
    record.returned = result.returned;
    const next = result.after
      ? isSearch
        ? `${this.url}/api/v2/audit/events/search`
        : `${this.url}/api/v2/audit/events?${new URLSearchParams({ ...Object.fromEntries(url.searchParams), 'page[cursor]': result.after })}`
      : undefined;
    const body =
      `{"data":[${result.json.join(',')}]` +
      (next ? `,"links":{"next":${JSON.stringify(next)}}` : '') +
      `,"meta":{"elapsed":1,"request_id":"${randomUUID()}","status":"done"${result.after ? `,"page":{"after":${JSON.stringify(result.after)}}` : ''}}}`;
    reply(200, body, limitHeaders.headers);
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

  private page(params: { query?: string; from?: string; to?: string; sort?: string; cursor?: string; limit?: unknown }):
    | { error: string }
    | { json: string[]; after?: string; limit: number; returned: number } {
    const now = Date.now();
    const limit = params.limit === undefined || params.limit === '' ? DEFAULT_PAGE_LIMIT : Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) return { error: `page[limit] must be between 1 and ${MAX_PAGE_LIMIT}` };
    const from = parseTime(params.from, now - 15 * 60_000, now);
    const to = parseTime(params.to, now, now);
    if (from === undefined) return { error: `Invalid filter[from]: ${params.from}` };
    if (to === undefined) return { error: `Invalid filter[to]: ${params.to}` };
    const sort = params.sort ?? 'timestamp';
    if (sort !== 'timestamp' && sort !== '-timestamp') return { error: `Invalid sort: ${sort}; allowed: timestamp, -timestamp` };
    const queryText = params.query?.trim() || '*';
    let node: QueryNode;
    try {
      node = this.compiled(queryText);
    } catch (error) {
      if (error instanceof QuerySyntaxError) return { error: `Invalid query: ${error.message}` };
      throw error;
    }
    // The cursor is bound to the search (query, bounds, sort), as Datadog's are; relative bounds are resolved once.
    const signature = createHash('sha1').update(`${queryText}|${params.from ?? ''}|${params.to ?? ''}|${sort}`).digest('base64url').slice(0, 12);
    let position: Cursor | undefined;
    if (params.cursor) {
      try {
        position = JSON.parse(Buffer.from(params.cursor, 'base64url').toString('utf8')) as Cursor;
      } catch {
        return { error: 'Invalid page[cursor]' };
      }
      if (position.q !== signature || typeof position.ts !== 'number' || typeof position.id !== 'string') return { error: 'Invalid page[cursor]: it belongs to another search' };
      if ((position.e ?? 0) !== this.cursorEpoch) return { error: 'Invalid page[cursor]: the cursor has expired' };
    }
    this.sortEvents();
    const ascending = sort === 'timestamp';
    const json: string[] = [];
    let last: StoredEvent | undefined;
    if (position && this.faults.duplicateAcrossPages) {
      const repeat = this.events[this.indexOf(position)];
      if (repeat && repeat.id === position.id) json.push(repeat.json);
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
    const after = more && last ? Buffer.from(JSON.stringify({ ts: last.ts, id: last.id, q: signature, e: this.cursorEpoch } satisfies Cursor)).toString('base64url') : undefined;
    return { json, limit, returned: json.length, ...(after ? { after } : {}) };
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
      let body: { failNext?: { status: number; count?: number }; hangNext?: number; duplicateAcrossPages?: boolean; latencyMs?: number; expireCursors?: boolean; reset?: boolean } = {};
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
      return this.send(res, 200, JSON.stringify(this.faults));
    }
    this.send(res, 404, errorBody('Not Found'));
  }
}
