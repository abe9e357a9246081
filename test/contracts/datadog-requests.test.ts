import { createDatadogAuditClient } from '../../src/activities/datadog-client';
import { scanWindowPages } from '../../src/activities/scan-audit-events';
import type { AuditSpikeArgs } from '../../src/config/args-schema';
import { Detector } from '../../src/detection/detector';
import { emptyState } from '../../src/detection/state';
import { runBacktest } from '../../src/replay/backtest';
import { DatadogSimulator, type SimRequest } from '../../sim/datadog-sim';
import { parseQuery, unescapedTerms } from '../../sim/datadog-query';
import { ACTIONS, burst } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';
import { AuditLogsEventsResponseSchema, AuditLogsSearchEventsRequestSchema, ListAuditLogsQuerySchema, SearchRequestHeadersSchema } from './support/datadog-schemas';

/**
 * (a) Every request the product sends to Datadog, as it leaves the real client (captured by the simulator's request
 * log), against the request schemas from the spec (test/contracts/support/datadog-schemas.ts).
 */

const MIN = 60_000;
const t0 = Math.floor((Date.now() - 86_400_000) / MIN) * MIN;

let sim: DatadogSimulator;
beforeAll(async () => {
  sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 }, recordResponses: true });
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => sim.clear());

function argsFor(yaml = ''): AuditSpikeArgs {
  const args = argsFrom(yaml);
  return { ...args, datadog: { ...args.datadog, baseUrl: sim.url } };
}

const env = () => ({ DD_API_KEY: sim.apiKey, DD_APP_KEY: sim.appKey });

/** Every problem with one request, as text (empty when it holds to the spec). */
function problemsOf(request: SimRequest, previous: SimRequest | undefined): string[] {
  const problems: string[] = [];
  if (request.method !== 'POST' || request.path !== '/api/v2/audit/events/search') {
    if (request.method !== 'GET' || request.path !== '/api/v2/audit/events') problems.push(`${request.method} ${request.path} is not an audit events operation`);
  }
  const headers = SearchRequestHeadersSchema.safeParse(request.headers);
  if (!headers.success) problems.push(...headers.error.issues.map((i) => `header ${i.path.join('.')}: ${i.message}`));
  const query = ListAuditLogsQuerySchema.safeParse(request.searchParams);
  if (!query.success) problems.push(...query.error.issues.map((i) => `query ${i.path.join('.')}: ${i.message}`));
  if (request.method === 'POST') {
    const body = AuditLogsSearchEventsRequestSchema.safeParse(request.body);
    if (!body.success) problems.push(...body.error.issues.map((i) => `body ${i.path.join('.')}: ${i.message}`));
    const sent = request.body as { filter?: { query?: string }; page?: { cursor?: string } };
    const terms = unescapedTerms(parseQuery(sent.filter?.query ?? '*'));
    if (terms.length) problems.push(`filter.query leaves special characters unescaped in ${terms.map((t) => `${t.field}:${t.value}`).join(', ')}`);
    // A cursor is only ever the one Datadog gave on the previous page of the same search.
    const given = previous?.response ? (JSON.parse(previous.response.body) as { meta?: { page?: { after?: string } } }).meta?.page?.after : undefined;
    if (sent.page?.cursor !== undefined && sent.page.cursor !== given) problems.push(`page.cursor ${sent.page.cursor} is not the previous page's meta.page.after`);
  }
  return problems;
}

function expectAllToHoldToSpec(requests: SimRequest[]): void {
  expect(requests.length).toBeGreaterThan(0);
  const problems = requests.flatMap((request, i) => problemsOf(request, requests[i - 1]).map((p) => `request ${i + 1}: ${p}`));
  expect(problems).toEqual([]);
  for (const request of requests) {
    expect(request.status).toBe(200);
    expect(AuditLogsEventsResponseSchema.safeParse(JSON.parse(request.response!.body)).success).toBe(true);
  }
}

test('the scan activity, paging a window with the default catalog', async () => {
  sim.addEvents(burst({ email: 'mallory@example.com' }, ACTIONS.roleGrant, 7, t0 + MIN, 5 * MIN));
  const args = argsFor('datadog:\n  pageLimit: 3\n');
  const window = { readFrom: t0, from: t0, to: t0 + 30 * MIN };
  await scanWindowPages(createDatadogAuditClient(args.datadog, env()), new Detector(args.detection, args.cadence.latenessMs), {
    orgId: 'test', datadog: args.datadog, detection: args.detection, window, runAt: window.to, lateAfterMs: 86_400_000, state: emptyState(window.from),
  }, { checkpointEveryMs: 0, wait: async () => undefined, checkpoint: () => undefined });
  expect(sim.requests.map((r) => r.returned)).toEqual([3, 3, 1]);
  expectAllToHoldToSpec(sim.requests);
});

test('rules in another case, with special characters, and a user filter', async () => {
  const yaml = [
    'datadog:',
    '  query: "@org.uuid:8dee7c38-00cb-11ea-a77b-8b5a08d3b091"',
    'detection:',
    '  rules:',
    '    - { id: odd, match: { evt.name: "log management", asset.type: [Pipeline, "team:sec (prod) #1", "x:y*"], asset.name: "a:b", action: "*ed" }, window: 10m, tiers: [{ count: 1, severity: info }] }',
    '    - { id: hosts, match: { http.method: delete, usr.email: "*@ci.example.com" }, window: 10m, tiers: [{ count: 1, severity: info }] }',
    '',
  ].join('\n');
  const args = argsFor(yaml);
  const window = { readFrom: t0, from: t0, to: t0 + 30 * MIN };
  await scanWindowPages(createDatadogAuditClient(args.datadog, env()), new Detector(args.detection, args.cadence.latenessMs), {
    orgId: 'test', datadog: args.datadog, detection: args.detection, window, runAt: window.to, lateAfterMs: 86_400_000, state: emptyState(window.from),
  }, { checkpointEveryMs: 0, wait: async () => undefined, checkpoint: () => undefined });
  expectAllToHoldToSpec(sim.requests);
});

test('a backtest over two hours, run by run', async () => {
  sim.addEvents(burst({ email: 'mallory@example.com' }, ACTIONS.apiKeyCreate, 5, t0 + 20 * MIN, 5 * MIN));
  const args = argsFor('datadog:\n  pageLimit: 2\n');
  await runBacktest({ args, fromMs: t0, toMs: t0 + 2 * 60 * MIN, datadog: createDatadogAuditClient(args.datadog, env()), hooks: { sleep: async () => undefined } });
  expectAllToHoldToSpec(sim.requests);
});

test('the check fails on a request that drifts from the spec', () => {
  const good = { method: 'POST', path: '/api/v2/audit/events/search', status: 200, searchParams: {}, at: 0, headers: { 'dd-api-key': 'x', 'dd-application-key': 'y', accept: 'application/json', 'content-type': 'application/json' } };
  expect(problemsOf({ ...good, body: { filter: { query: '@action:created' }, page: { limit: 1000 }, sort: 'timestamp' } }, undefined)).toEqual([]);
  expect(problemsOf({ ...good, body: { page: { limit: 5000 } } }, undefined)).toEqual([expect.stringContaining('at most 1000')]);
  expect(problemsOf({ ...good, body: { sort: 'desc' } }, undefined)).toEqual([expect.stringContaining('body sort')]);
  expect(problemsOf({ ...good, body: { filter: { query: '@asset.name:a:b' } } }, undefined)).toEqual([expect.stringContaining('unescaped')]);
  expect(problemsOf({ ...good, body: { page: { cursor: 'made-up' } } }, undefined)).toEqual([expect.stringContaining("previous page's meta.page.after")]);
  expect(problemsOf({ ...good, headers: { ...good.headers, 'dd-application-key': '' }, body: {} }, undefined)).toEqual([expect.stringContaining('DD-APPLICATION-KEY')]);
  expect(problemsOf({ ...good, body: { filter: { from: '2026-11-24T10:00:00' } } }, undefined)).toEqual([expect.stringContaining('body filter.from')]);
});
