import { client, v2 } from '@datadog/datadog-api-client';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { parseQuery, matches } from '../../sim/datadog-query';
import { ACTIONS, NOISE, auditEvent, burst } from '../../sim/audit-events';
import { auditQueryFor } from '../../src/detection/query';
import { argsFrom } from '../support/settings';

const MIN = 60_000;
const actor = { id: 'u1', email: 'ops@example.com' };

function auditApi(sim: DatadogSimulator, keys: { api?: string; app?: string } = {}) {
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: keys.api ?? sim.apiKey, appKeyAuth: keys.app ?? sim.appKey },
    baseServer: new client.BaseServerConfiguration(sim.url, {}),
    enableRetry: false,
  });
  return new v2.AuditApi(configuration);
}

describe('Datadog simulator through @datadog/datadog-api-client', () => {
  let sim: DatadogSimulator;
  const t0 = Date.parse('2026-11-24T10:00:00.000Z');

  beforeAll(async () => {
    sim = await DatadogSimulator.start({ rateLimit: { limit: 10_000, periodSeconds: 60 } });
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.clear());

  test('search pages through every event in order with keyset cursors', async () => {
    const events = Array.from({ length: 53 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[i % NOISE.length]));
    sim.addEvents([...events].reverse());
    const api = auditApi(sim);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.searchAuditLogs({
        body: { filter: { query: '*', from: new Date(t0).toISOString(), to: new Date(t0 + 60 * MIN).toISOString() }, page: { limit: 10, ...(cursor ? { cursor } : {}) }, sort: 'timestamp' },
      });
      seen.push(...(page.data ?? []).map((event) => event.id!));
      cursor = page.meta?.page?.after;
      pages++;
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen).toEqual(events.map((event) => event.id));
  });

  test('the client pagination helper works over GET list, and descending sort reverses', async () => {
    const events = Array.from({ length: 25 }, (_, i) => auditEvent(t0 + i * 1000, actor, NOISE[0]));
    sim.addEvents(events);
    const api = auditApi(sim);
    const ids: string[] = [];
    for await (const event of api.listAuditLogsWithPagination({ filterFrom: new Date(t0), filterTo: new Date(t0 + MIN), pageLimit: 7 })) ids.push(event.id!);
    expect(ids).toEqual(events.map((event) => event.id));
    const desc = await api.listAuditLogs({ filterFrom: new Date(t0), filterTo: new Date(t0 + MIN), pageLimit: 5, sort: '-timestamp' });
    expect(desc.data!.map((event) => event.id)).toEqual(events.slice(-5).reverse().map((event) => event.id));
    expect(desc.data![0].attributes!.attributes!.usr).toEqual({ id: 'u1', email: 'ops@example.com' });
  });

  test('from is inclusive, to is exclusive', async () => {
    sim.addEvents([auditEvent(t0, actor, NOISE[0]), auditEvent(t0 + MIN, actor, NOISE[0])]);
    const page = await auditApi(sim).searchAuditLogs({ body: { filter: { from: new Date(t0).toISOString(), to: new Date(t0 + MIN).toISOString() }, page: { limit: 100 } } });
    expect(page.data).toHaveLength(1);
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
    const page = await auditApi(sim).searchAuditLogs({ body: { filter: { query, from: new Date(t0 - MIN).toISOString(), to: new Date(t0 + 10 * MIN).toISOString() }, page: { limit: 1000 } } });
    expect(new Set(page.data!.map((event) => event.id))).toEqual(new Set(sensitive.map((event) => event.id)));
  });

  test('wrong keys are refused with 403; a page limit over 1000 with 400', async () => {
    await expect(auditApi(sim, { app: 'nope' }).listAuditLogs({})).rejects.toMatchObject({ code: 403 });
    await expect(auditApi(sim).listAuditLogs({ pageLimit: 1001 })).rejects.toMatchObject({ code: 400 });
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
    const body = { filter: { from: new Date(t0 - MIN).toISOString(), to: new Date(t0 + MIN).toISOString() }, page: { limit: 10 } };
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
    sim.addEvents(Array.from({ length: 4 }, (_, i) => auditEvent(t0 + i, actor, NOISE[0])));
    sim.faults.duplicateAcrossPages = true;
    const api = auditApi(sim);
    const ids: string[] = [];
    for await (const event of api.listAuditLogsWithPagination({ filterFrom: new Date(t0), filterTo: new Date(t0 + MIN), pageLimit: 2 })) ids.push(event.id!);
    expect(ids).toHaveLength(6); // pages [0,1] [1,2] [2,3]
    expect(new Set(ids).size).toBe(4);
  });
});

describe('the simulator query language', () => {
  const event = { message: 'ops modified role', tags: ['source:audit', 'env:prod'], service: 'datadog', attributes: { evt: { name: 'Access Management' }, asset: { type: 'role' }, action: 'modified', usr: { email: 'Ops@Example.com' } } };
  test.each([
    ['*', true],
    ['@evt.name:"Access Management"', true],
    ['@evt.name:Access', false],
    ['@asset.type:(role OR user) @action:modified', true],
    ['@asset.type:role AND -@action:modified', false],
    ['NOT @action:(accessed OR listed)', true],
    ['@usr.email:*@example.com', true],
    ['@usr.email:ops@example.com', true],
    ['env:prod service:datadog', true],
    ['source:logs', false],
    ['(@action:deleted OR @action:modified) @asset.type:ro*', true],
    ['modified', true],
  ])('%s → %s', (query, expected) => {
    expect(matches(parseQuery(query), event)).toBe(expected);
  });
  test('syntax errors are reported', () => {
    expect(() => parseQuery('(@a:b')).toThrow(/missing/);
    expect(() => parseQuery('@a:"b')).toThrow(/unterminated/);
  });
});
