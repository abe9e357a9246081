import { client, v2 } from '@datadog/datadog-api-client';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { parseQuery, matches, unescapedTerms } from '../../sim/datadog-query';
import { ACTIONS, NOISE, auditEvent, burst } from '../../sim/audit-events';
import { auditQueryFor } from '../../src/detection/query';
import { argsFrom } from '../support/settings';

const MIN = 60_000;
const DAY = 86_400_000;
const actor = { id: 'u1', email: 'ops@example.com' };

function auditApi(sim: DatadogSimulator, keys: { api?: string; app?: string } = {}) {
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: keys.api ?? sim.apiKey, appKeyAuth: keys.app ?? sim.appKey },
    baseServer: new client.BaseServerConfiguration(sim.url, {}),
    enableRetry: false,
  });
  return new v2.AuditApi(configuration);
}

/** Raw HTTP, to see bodies exactly as sent (the client parses them) and to send what the client refuses to. */
async function raw(sim: DatadogSimulator, method: 'GET' | 'POST', pathAndQuery: string, body?: unknown) {
  const response = await fetch(`${sim.url}${pathAndQuery}`, {
    method,
    headers: { 'DD-API-KEY': sim.apiKey, 'DD-APPLICATION-KEY': sim.appKey, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

describe('Datadog simulator through @datadog/datadog-api-client', () => {
  let sim: DatadogSimulator;
  // Within Datadog's default retention (7 days), whatever day the suite runs.
  const t0 = Math.floor((Date.now() - 2 * DAY) / MIN) * MIN;
  const span = (from: number, to: number) => ({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });

  beforeAll(async () => {
    sim = await DatadogSimulator.start({ rateLimit: { limit: 10_000, periodSeconds: 60 } });
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.clear());

  test('search pages through every event in order with opaque cursors; a short last page has none', async () => {
    const events = Array.from({ length: 53 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[i % NOISE.length]));
    sim.addEvents([...events].reverse());
    const api = auditApi(sim);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.searchAuditLogs({ body: { filter: { query: '*', ...span(t0, t0 + 60 * MIN) }, page: { limit: 10, ...(cursor ? { cursor } : {}) }, sort: 'timestamp' } });
      seen.push(...(page.data ?? []).map((event) => event.id!));
      cursor = page.meta?.page?.after;
      if (cursor) expect(JSON.parse(Buffer.from(cursor, 'base64url').toString())).toEqual({ after: seen[seen.length - 1] });
      pages++;
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen).toEqual(events.map((event) => event.id));
  });

  test('a full last page carries a cursor and the page after it is exactly {"data":[]}', async () => {
    sim.addEvents(Array.from({ length: 4 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[0])));
    const body = { filter: span(t0, t0 + MIN), page: { limit: 2 }, sort: 'timestamp' };
    const first = JSON.parse((await raw(sim, 'POST', '/api/v2/audit/events/search', body)).text);
    const second = JSON.parse((await raw(sim, 'POST', '/api/v2/audit/events/search', { ...body, page: { limit: 2, cursor: first.meta.page.after } })).text);
    expect(second.data).toHaveLength(2);
    expect(second.meta.page.after).toEqual(expect.any(String));
    const third = await raw(sim, 'POST', '/api/v2/audit/events/search', { ...body, page: { limit: 2, cursor: second.meta.page.after } });
    expect(third.text).toBe('{"data":[]}');
  });

  test('cursorOnLastPage: a short last page carries a cursor too, then the empty page', async () => {
    sim.addEvents(Array.from({ length: 3 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[0])));
    sim.faults.cursorOnLastPage = true;
    const ids: string[] = [];
    for await (const event of auditApi(sim).searchAuditLogsWithPagination({ body: { filter: span(t0, t0 + MIN), page: { limit: 2 }, sort: 'timestamp' } })) ids.push(event.id!);
    expect(ids).toHaveLength(3);
    expect(sim.requests.map((r) => r.returned)).toEqual([2, 1, 0]);
  });

  test('links.next is the GET form of the search from the next cursor, and reading it gives the next page', async () => {
    const events = Array.from({ length: 3 }, (_, i) => auditEvent(t0 + i * 1000, actor, ACTIONS.roleGrant));
    sim.addEvents(events);
    const { from, to } = span(t0, t0 + MIN);
    const first = JSON.parse((await raw(sim, 'POST', '/api/v2/audit/events/search', { filter: { query: '@action:modified', from, to }, options: { timezone: 'GMT' }, page: { limit: 2 }, sort: 'timestamp' })).text);
    const next = new URL(first.links.next);
    expect(`${next.origin}${next.pathname}`).toBe(`${sim.url}/api/v2/audit/events`);
    expect(first.links.next).toContain(`page%5Bcursor%5D=${first.meta.page.after}&page%5Blimit%5D=2`);
    expect(Object.fromEntries(next.searchParams)).toEqual({ sort: 'timestamp', 'filter[query]': '@action:modified', 'filter[from]': from, 'filter[to]': to, 'page[cursor]': first.meta.page.after, 'page[limit]': '2' });
    const second = JSON.parse((await raw(sim, 'GET', `${next.pathname}${next.search}`)).text);
    expect(second.data.map((e: { id: string }) => e.id)).toEqual([events[2].id]);
    expect(Object.keys(first)).toEqual(['meta', 'data', 'links']);
    expect(first.meta).toEqual({ page: { after: expect.any(String) } });
  });

  test('the client pagination helper works over GET list; without sort the newest come first', async () => {
    const events = Array.from({ length: 25 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[0]));
    sim.addEvents(events);
    const api = auditApi(sim);
    const ids: string[] = [];
    for await (const event of api.listAuditLogsWithPagination({ filterFrom: new Date(t0), filterTo: new Date(t0 + MIN), pageLimit: 7, sort: 'timestamp' })) ids.push(event.id!);
    expect(ids).toEqual(events.map((event) => event.id));
    const newest = await api.listAuditLogs({ filterFrom: new Date(t0), filterTo: new Date(t0 + MIN), pageLimit: 5 });
    expect(newest.data!.map((event) => event.id)).toEqual(events.slice(-5).reverse().map((event) => event.id));
    const desc = await api.listAuditLogs({ filterFrom: new Date(t0), filterTo: new Date(t0 + MIN), pageLimit: 5, sort: '-timestamp' });
    expect(desc.data!.map((event) => event.id)).toEqual(events.slice(-5).reverse().map((event) => event.id));
  });

  test('from is inclusive, to is exclusive', async () => {
    sim.addEvents([auditEvent(t0, actor, NOISE[0]), auditEvent(t0 + MIN, actor, NOISE[0])]);
    const page = await auditApi(sim).searchAuditLogs({ body: { filter: span(t0, t0 + MIN), page: { limit: 100 } } });
    expect(page.data).toHaveLength(1);
  });

  test('events are served in the recorded envelope: no outer service, string status code, zone-less inner time, UUIDs', async () => {
    sim.addEvents([auditEvent(t0 + 1234, { id: 'u1', email: 'Ops@Example.com', name: 'Ops' }, ACTIONS.roleGrant), auditEvent(t0 + 2000, { email: 'Ops@Example.com', viaKeys: true }, ACTIONS.apiKeyCreate)]);
    const { data } = JSON.parse((await raw(sim, 'POST', '/api/v2/audit/events/search', { filter: span(t0, t0 + MIN), page: { limit: 10 }, sort: 'timestamp' })).text);
    const [session, keys] = data;
    expect(Object.keys(session.attributes).sort()).toEqual(['attributes', 'message', 'tags', 'timestamp']);
    expect(session.attributes.timestamp).toBe(new Date(t0 + 1234).toISOString());
    expect(session.attributes.tags).toEqual(['source:audit']);
    const inner = session.attributes.attributes;
    expect(inner.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(inner.http.status_code).toBe('200');
    expect(inner.org.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(inner.evt.actor.type).toBe('USER');
    expect(inner.usr).toEqual({ id: 'u1', email: 'Ops@Example.com', uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Ops' });
    expect(keys.attributes.attributes.usr).toEqual({ id: 'Ops@Example.com', email: inner.usr.uuid, uuid: inner.usr.uuid });
    expect(keys.attributes.attributes.auth_method).toBe('API + App Key');
    // Datadog's ids: 41 bytes of unpadded base64url, the event's epoch ms in bytes 3-8.
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{55}$/);
    expect(Buffer.from(session.id, 'base64url').readUIntBE(3, 6)).toBe(t0 + 1234);
  });

  test("the project's own rule query selects exactly the sensitive events", async () => {
    const sensitive = [
      ...burst(actor, ACTIONS.roleGrant, 3, t0, MIN),
      ...burst(actor, ACTIONS.apiKeyCreate, 2, t0, MIN),
      ...burst(actor, ACTIONS.monitorDelete, 1, t0, MIN),
    ];
    const noise = NOISE.map((spec, i) => auditEvent(t0 + i * 100, actor, spec));
    sim.addEvents([...sensitive, ...noise]);
    const args = argsFrom('');
    const query = auditQueryFor(args.detection.rules, args.detection.readOnlyActions, args.datadog.query);
    const page = await auditApi(sim).searchAuditLogs({ body: { filter: { query, ...span(t0 - MIN, t0 + 10 * MIN) }, page: { limit: 1000 } } });
    expect(new Set(page.data!.map((event) => event.id))).toEqual(new Set(sensitive.map((event) => event.id)));
    expect(sim.requests.at(-1)!.unescaped).toBeUndefined();
  });

  test('attribute values match case-sensitively; full-text search does not', async () => {
    const [created] = [auditEvent(t0, actor, ACTIONS.apiKeyCreate)];
    sim.addEvents([created]);
    const api = auditApi(sim);
    const count = async (query: string) => (await api.searchAuditLogs({ body: { filter: { query, ...span(t0 - MIN, t0 + MIN) }, page: { limit: 10 } } })).data!.length;
    expect(await count('@action:created')).toBe(1);
    expect(await count('@action:Created')).toBe(0);
    expect(await count('@action:(Created OR created)')).toBe(1);
    expect(await count('@evt.name:Authentication')).toBe(1);
    expect(await count('@evt.name:authentication')).toBe(0);
    expect(await count('@usr.email:OPS@example.com')).toBe(0);
    expect(await count('CREATED')).toBe(1);
  });

  test('special characters must be escaped or quoted; an unescaped one matches nothing and is logged', async () => {
    sim.addEvents([auditEvent(t0, { email: 'a@example.com' }, { evt: 'Access Management', assetType: 'role', action: 'modified', assetName: 'ns:prod admins' })]);
    const api = auditApi(sim);
    const count = async (query: string) => (await api.searchAuditLogs({ body: { filter: { query, ...span(t0 - MIN, t0 + MIN) }, page: { limit: 10 } } })).data!.length;
    expect(await count('@asset.name:"ns:prod admins"')).toBe(1);
    expect(await count('@asset.name:ns\\:prod\\ admins')).toBe(1);
    expect(await count('@asset.name:ns\\:prod*')).toBe(1);
    expect(await count('@evt.name:Access\\ Management')).toBe(1);
    expect(await count('@asset.name:ns:prod*')).toBe(0);
    expect(sim.requests.at(-1)!.unescaped).toEqual(['@asset.name:ns:prod*']);
  });

  test('a partial page says meta.status "timeout" with warnings and holds part of the events (fault knob)', async () => {
    sim.addEvents(Array.from({ length: 6 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[0])));
    sim.partialNext(1);
    const body = { filter: span(t0, t0 + MIN), page: { limit: 4 }, sort: 'timestamp' as const };
    const partial = await auditApi(sim).searchAuditLogs({ body });
    expect(partial.meta?.status).toBe('timeout');
    expect(partial.meta?.warnings).toEqual([expect.objectContaining({ code: expect.any(String), title: expect.any(String), detail: expect.any(String) })]);
    expect(partial.data).toHaveLength(2);
    expect(partial.meta?.page?.after).toEqual(expect.any(String));
    const complete = await auditApi(sim).searchAuditLogs({ body });
    expect(complete.meta?.status).toBeUndefined();
    expect(complete.data).toHaveLength(4);
    expect(sim.requests.map((r) => r.partial ?? false)).toEqual([true, false]);
  });

  test('the control API sets the new knobs', async () => {
    const response = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ partialNext: 2, cursorOnLastPage: true }) });
    expect(await response.json()).toMatchObject({ partialPages: 2, cursorOnLastPage: true });
    await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ retentionDays: 30 }) });
    expect(sim.retentionHorizon).toBeLessThan(Date.now() - 29 * DAY);
  });

  test('cursors are bound to their search and refused, with the recorded 400 body, once expired or forged', async () => {
    sim.addEvents(Array.from({ length: 4 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[0])));
    const body = { filter: span(t0, t0 + MIN), page: { limit: 2 }, sort: 'timestamp' };
    const after = JSON.parse((await raw(sim, 'POST', '/api/v2/audit/events/search', body)).text).meta.page.after as string;
    const genuine = '{"errors":["input_validation_error(Field \'page\' is invalid: invalid cursor)"]}';
    const otherSearch = await raw(sim, 'POST', '/api/v2/audit/events/search', { ...body, filter: { ...body.filter, query: '@action:modified' }, page: { limit: 2, cursor: after } });
    expect([otherSearch.status, otherSearch.text]).toEqual([400, genuine]);
    const forged = Buffer.from(JSON.stringify({ after: 'AQAAAYAiQhnY3SHuUQAAAABBWUFpUWhxRkFBQ0s2aHc2Mkh4cnR3QUE' })).toString('base64url');
    expect((await raw(sim, 'POST', '/api/v2/audit/events/search', { ...body, page: { limit: 2, cursor: forged } })).text).toBe(genuine);
    sim.expireCursors();
    expect((await raw(sim, 'POST', '/api/v2/audit/events/search', { ...body, page: { limit: 2, cursor: after } })).status).toBe(400);
  });

  test('an invalid sort, limit or time is a 400 with {"errors":[...]}', async () => {
    for (const [query, field] of [['sort=timestamp_desc', "'sort'"], ['page%5Blimit%5D=1001', "'page'"], ['page%5Blimit%5D=abc', "'page'"], ['filter%5Bfrom%5D=yesterday', "'filter.from'"], ['filter%5Bto%5D=2026-13-45T00:00:00Z', "'filter.to'"]]) {
      const answer = await raw(sim, 'GET', `/api/v2/audit/events?${query}`);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toEqual({ errors: [expect.stringContaining(`input_validation_error(Field ${field} is invalid`)] });
    }
    expect((await raw(sim, 'POST', '/api/v2/audit/events/search', { sort: 'newest' })).status).toBe(400);
  });

  test('events past the retention horizon (default 7 days) are gone; the horizon is configurable', async () => {
    const old = auditEvent(Date.now() - 8 * DAY, actor, ACTIONS.roleGrant);
    const recent = auditEvent(Date.now() - 6 * DAY, actor, ACTIONS.roleGrant);
    sim.addEvents([old, recent]);
    const api = auditApi(sim);
    const ids = async () => (await api.searchAuditLogs({ body: { filter: span(Date.now() - 30 * DAY, Date.now()), page: { limit: 10 }, sort: 'timestamp' } })).data!.map((e) => e.id);
    expect(await ids()).toEqual([recent.id]);
    sim.setRetention(30 * DAY);
    expect(await ids()).toEqual([old.id, recent.id]);
  });

  test('wrong keys are refused with 403; a page limit over 1000 with 400', async () => {
    await expect(auditApi(sim, { app: 'nope' }).listAuditLogs({})).rejects.toMatchObject({ code: 403, body: { errors: ['Forbidden'] } });
    await expect(auditApi(sim).listAuditLogs({ pageLimit: 1001 })).rejects.toMatchObject({ code: 400 });
  });

  test('the request log holds what was sent, keys redacted', async () => {
    await auditApi(sim).searchAuditLogs({ body: { filter: { query: '*', from: 'now-15m', to: 'now' }, page: { limit: 5 }, sort: 'timestamp' } });
    const [request] = sim.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/api/v2/audit/events/search', body: { filter: { query: '*', from: 'now-15m', to: 'now' }, page: { limit: 5 }, sort: 'timestamp' } });
    expect(request.headers).toMatchObject({ 'dd-api-key': '<redacted>', 'dd-application-key': '<redacted>', 'content-type': 'application/json' });
    expect(JSON.stringify(sim.requests)).not.toContain(sim.appKey);
  });

  test('rate limits send headers and 429 once exhausted', async () => {
    sim.setRateLimit({ limit: 2, periodSeconds: 60 });
    const api = auditApi(sim);
    await api.listAuditLogs({});
    await api.listAuditLogs({});
    await expect(api.listAuditLogs({})).rejects.toMatchObject({ code: 429 });
    const response = await fetch(`${sim.url}/api/v2/audit/events`, { headers: { 'DD-API-KEY': sim.apiKey, 'DD-APPLICATION-KEY': sim.appKey } });
    expect(response.status).toBe(429);
    expect(response.headers.get('x-ratelimit-limit')).toBe('2');
    expect(Number(response.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    sim.setRateLimit({ limit: 10_000, periodSeconds: 60 });
  });

  test('late events become visible after their delay; faults are injected and counted', async () => {
    const late = auditEvent(t0, actor, ACTIONS.roleGrant);
    sim.addEvents([late], { visibleAfterMs: 300 });
    const api = auditApi(sim);
    const body = { filter: span(t0 - MIN, t0 + MIN), page: { limit: 10 } };
    expect((await api.searchAuditLogs({ body })).data).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await api.searchAuditLogs({ body })).data).toHaveLength(1);

    sim.failNext(503, 2);
    await expect(api.searchAuditLogs({ body })).rejects.toMatchObject({ code: 503 });
    await expect(api.searchAuditLogs({ body })).rejects.toMatchObject({ code: 503 });
    expect((await api.searchAuditLogs({ body })).data).toHaveLength(1);
    expect(sim.requests.slice(-3).map((request) => request.status)).toEqual([503, 503, 200]);
    expect(JSON.stringify(sim.requests)).not.toContain(sim.apiKey);
  });

  test('duplicated events across pages repeat the previous page tail', async () => {
    sim.addEvents(Array.from({ length: 5 }, (_, i) => auditEvent(t0 + i, actor, NOISE[0])));
    sim.faults.duplicateAcrossPages = true;
    const api = auditApi(sim);
    const ids: string[] = [];
    for await (const event of api.listAuditLogsWithPagination({ filterFrom: new Date(t0), filterTo: new Date(t0 + MIN), pageLimit: 2, sort: 'timestamp' })) ids.push(event.id!);
    expect(ids).toHaveLength(9); // pages [0,1] [1,2] [2,3] [3,4] [4]
    expect(new Set(ids).size).toBe(5);
  });
});

describe('the simulator query language', () => {
  const event = { message: 'ops modified role', tags: ['source:audit', 'env:prod'], service: 'datadog', attributes: { evt: { name: 'Access Management' }, asset: { type: 'role', name: 'a:b' }, action: 'modified', usr: { email: 'Ops@Example.com' } } };
  test.each([
    ['*', true],
    ['@evt.name:"Access Management"', true],
    ['@evt.name:"access management"', false],
    ['@evt.name:Access', false],
    ['@evt.name:Access\\ Management', true],
    ['@asset.type:(role OR user) @action:modified', true],
    ['@asset.type:role AND -@action:modified', false],
    ['NOT @action:(accessed OR listed)', true],
    ['@usr.email:*@Example.com', true],
    ['@usr.email:*@example.com', false],
    ['@usr.email:Ops@Example.com', true],
    ['@usr.email:ops@example.com', false],
    ['@asset.type:r?le', true],
    ['@asset.name:a\\:b', true],
    ['@asset.name:"a:b"', true],
    ['@asset.name:a:b', false],
    ['env:prod service:datadog', true],
    ['source:logs', false],
    ['(@action:deleted OR @action:modified) @asset.type:ro*', true],
    ['MODIFIED', true],
  ])('%s → %s', (query, expected) => {
    expect(matches(parseQuery(query), event)).toBe(expected);
  });
  test('unescaped special characters are found; escaped and quoted ones are not', () => {
    expect(unescapedTerms(parseQuery('@a:x#y @b:"x#y" @c:x\\#y @d:web-app'))).toEqual([expect.objectContaining({ field: '@a', unescaped: '#' })]);
  });
  test('syntax errors are reported', () => {
    expect(() => parseQuery('(@a:b')).toThrow(/missing/);
    expect(() => parseQuery('@a:"b')).toThrow(/unterminated/);
  });
});
