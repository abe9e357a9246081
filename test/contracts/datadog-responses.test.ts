import { DatadogSimulator, type SimRequest } from '../../sim/datadog-sim';
import { ACTIONS, NOISE, auditEvent } from '../../sim/audit-events';
import { invalidCursor, searchPaged } from './fixtures/datadog-audit-cassettes';
import { RateLimitHeadersSchema, RecordedAuditEventSchema, recordedKeyOrder, responseSchemaFor } from './support/datadog-schemas';

/**
 * (b) Every answer the simulator gives (200 pages, empty, partial; 400 for sort, limit, time, cursor; 403; 429) against
 * the response schemas of the spec, and its events and pages against the genuine recordings' form.
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

async function send(method: 'GET' | 'POST', path: string, body?: unknown, keys: { api?: string; app?: string } = {}) {
  await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'DD-API-KEY': keys.api ?? sim.apiKey, 'DD-APPLICATION-KEY': keys.app ?? sim.appKey, 'content-type': 'application/json', accept: 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return sim.requests.at(-1)!;
}

function expectToHoldToSpec(request: SimRequest, status: number) {
  const response = request.response!;
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toBe('application/json');
  const parsed = responseSchemaFor(status).safeParse(JSON.parse(response.body));
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
}

const search = (extra: Record<string, unknown> = {}) => ({ filter: { from: new Date(t0).toISOString(), to: new Date(t0 + 10 * MIN).toISOString() }, page: { limit: 2 }, sort: 'timestamp', ...extra });

test('200: pages, the page after a full last one, partial pages; in the recorded form', async () => {
  sim.addEvents([auditEvent(t0, { email: 'a@example.com', id: 'u' }, ACTIONS.roleGrant), auditEvent(t0 + 1, { email: 'a@example.com', viaKeys: true }, ACTIONS.apiKeyCreate), auditEvent(t0 + 2, { apiKeyId: 'k1' }, NOISE[0]), auditEvent(t0 + 3, { id: 'u2' }, NOISE[1])]);
  const first = await send('POST', '/api/v2/audit/events/search', search());
  expectToHoldToSpec(first, 200);
  const after = JSON.parse(first.response!.body).meta.page.after as string;
  const second = await send('GET', `/api/v2/audit/events?filter%5Bfrom%5D=${new Date(t0).toISOString()}&filter%5Bto%5D=${new Date(t0 + 10 * MIN).toISOString()}&sort=timestamp&page%5Blimit%5D=2&page%5Bcursor%5D=${after}`);
  expectToHoldToSpec(second, 200);
  const empty = await send('GET', `/api/v2/audit/events?filter%5Bfrom%5D=${new Date(t0).toISOString()}&filter%5Bto%5D=${new Date(t0 + 10 * MIN).toISOString()}&sort=timestamp&page%5Blimit%5D=2&page%5Bcursor%5D=${JSON.parse(second.response!.body).meta.page.after}`);
  expectToHoldToSpec(empty, 200);
  expect(empty.response!.body).toBe(searchPaged[2].response.text);
  sim.partialNext(1);
  const partial = await send('POST', '/api/v2/audit/events/search', search());
  expectToHoldToSpec(partial, 200);
  expect(JSON.parse(partial.response!.body).meta).toMatchObject({ status: 'timeout', warnings: [expect.any(Object)] });

  // The recorded form: key order, meta holding only page.after, every event in the recorded envelope.
  const genuine = searchPaged[0].response.text;
  expect(recordedKeyOrder(first.response!.body)).toEqual(recordedKeyOrder(genuine));
  expect(Object.keys(JSON.parse(first.response!.body).meta)).toEqual(Object.keys(JSON.parse(genuine).meta));
  for (const page of [first, second]) {
    for (const event of JSON.parse(page.response!.body).data) {
      const parsed = RecordedAuditEventSchema.safeParse(event);
      expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    }
  }
});

test('400 for an invalid sort, limit, time or cursor; the cursor one exactly as Datadog answered it', async () => {
  expectToHoldToSpec(await send('GET', '/api/v2/audit/events?sort=newest'), 400);
  expectToHoldToSpec(await send('POST', '/api/v2/audit/events/search', search({ page: { limit: 5000 } })), 400);
  expectToHoldToSpec(await send('GET', '/api/v2/audit/events?page%5Blimit%5D=-1'), 400);
  expectToHoldToSpec(await send('POST', '/api/v2/audit/events/search', search({ filter: { from: 'last tuesday' } })), 400);
  expectToHoldToSpec(await send('GET', '/api/v2/audit/events?filter%5Bto%5D=2026-02-30T00:00:00Z'), 400);
  const cursor = await send('POST', '/api/v2/audit/events/search', JSON.parse(invalidCursor.request.body!));
  expectToHoldToSpec(cursor, 400);
  expect(cursor.response!.body).toBe(invalidCursor.response.text);
});

test('403 without valid keys, 429 with the documented rate-limit headers', async () => {
  expectToHoldToSpec(await send('GET', '/api/v2/audit/events', undefined, { app: 'revoked' }), 403);
  expectToHoldToSpec(await send('POST', '/api/v2/audit/events/search', search(), { api: '' }), 403);
  sim.failNext(429, 1, { resetS: 3 });
  const limited = await send('POST', '/api/v2/audit/events/search', search());
  expectToHoldToSpec(limited, 429);
  expect(RateLimitHeadersSchema.safeParse(limited.response!.headers).success).toBe(true);
  sim.setRateLimit({ limit: 1, periodSeconds: 60 });
  await send('GET', '/api/v2/audit/events');
  const exhausted = await send('GET', '/api/v2/audit/events');
  expectToHoldToSpec(exhausted, 429);
  expect(RateLimitHeadersSchema.safeParse(exhausted.response!.headers).success).toBe(true);
  sim.setRateLimit({ limit: 100_000, periodSeconds: 60 });
});

test('the response schemas fail on what the spec forbids', () => {
  expect(responseSchemaFor(200).safeParse({ data: [], meta: { status: 'partial' } }).success).toBe(false);
  expect(responseSchemaFor(200).safeParse({ data: [{ id: 'x', type: 'log', attributes: {} }] }).success).toBe(false);
  expect(responseSchemaFor(400).safeParse({ errors: [{ title: 'x' }] }).success).toBe(false);
  expect(responseSchemaFor(403).safeParse({ error: 'Forbidden' }).success).toBe(false);
  expect(RecordedAuditEventSchema.safeParse({ ...JSON.parse(searchPaged[0].response.text).data[0], attributes: { ...JSON.parse(searchPaged[0].response.text).data[0].attributes, service: 'datadog' } }).success).toBe(false);
  expect(() => responseSchemaFor(500)).toThrow(/declare no 500/);
});
