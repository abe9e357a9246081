import { client, v2 } from '@datadog/datadog-api-client';
import { DatadogSimulator, type SimRequest } from '../../sim/datadog-sim';
import { ACTIONS, burst } from '../../sim/audit-events';
import { SAMPLE_ACTORS, sampleDay } from '../../sim/sample-day';
import { SIM_OWN_API_KEY_ID, SIM_OWN_APP_KEY_ID, SIM_SERVICE_ACCOUNT_EMAIL, datadogUserIdFor } from '../../sim/datadog/org-directory';
import { APIErrorResponseSchema, DisableUserRequestSchema, containmentResponseSchema, type ContainmentOperation } from './support/datadog-containment-schemas';

/**
 * The Users and Key Management endpoints the containment of a burst (#17) will call, driven through the real
 * `@datadog/datadog-api-client` (v2.UsersApi, v2.KeyManagementApi) against the simulator. Every answer is checked
 * against the spec's schemas (test/contracts/support/datadog-containment-schemas.ts), every PATCH body against
 * UserUpdateRequest, and the behaviours the genuine recordings show are pinned: a key deleted twice is a 404 the second
 * time, a user disabled twice by DELETE too, a body id other than the path's is a 422.
 */

const MIN = 60_000;
const t0 = Math.floor((Date.now() - 3_600_000) / MIN) * MIN;
const MALLORY = 'Mallory@Example.com';
const malloryId = datadogUserIdFor(MALLORY);

let sim: DatadogSimulator;
beforeAll(async () => {
  sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 }, recordResponses: true });
});
afterAll(async () => {
  await sim.stop();
});

/** The burst of the sample day: keys minted with a stolen application key, then application keys from a session. */
function seedBurst(): { apiKeyIds: string[]; appKeyIds: string[] } {
  const apiKeyEvents = burst({ id: 'u-bad', email: MALLORY, name: 'Mallory', viaKeys: true }, ACTIONS.apiKeyCreate, 3, t0, 3 * MIN);
  const appKeyEvents = burst({ id: 'u-bad', email: MALLORY, name: 'Mallory' }, ACTIONS.appKeyCreate, 3, t0 + 4 * MIN, 3 * MIN);
  const bystander = burst({ id: 'u-ana', email: 'ana0@Example.com', name: 'Ana' }, ACTIONS.roleGrant, 1, t0, 0);
  sim.addEvents([...apiKeyEvents, ...appKeyEvents, ...bystander]);
  const assetIds = (events: typeof apiKeyEvents) => events.map((event) => (event.attributes.attributes.asset as { id: string }).id);
  return { apiKeyIds: assetIds(apiKeyEvents), appKeyIds: assetIds(appKeyEvents) };
}

function configuration(keys: { api?: string; app?: string } = {}) {
  return client.createConfiguration({
    authMethods: { apiKeyAuth: keys.api ?? sim.apiKey, appKeyAuth: keys.app ?? sim.appKey },
    enableRetry: false,
    baseServer: new client.BaseServerConfiguration(sim.url, {}),
  });
}

let users: v2.UsersApi;
let keys: v2.KeyManagementApi;
beforeEach(() => {
  sim.clear();
  users = new v2.UsersApi(configuration());
  keys = new v2.KeyManagementApi(configuration());
});

/** The status and body of a call that must fail, as the client surfaces them. */
async function failure(call: Promise<unknown>): Promise<{ code: number; body: unknown }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof client.ApiException) return { code: error.code, body: error.body };
    throw error;
  }
  throw new Error('the call succeeded');
}

function operationOf(request: SimRequest): ContainmentOperation {
  const { method, path } = request;
  if (path === '/api/v2/users' && method === 'GET') return 'listUsers';
  if (/^\/api\/v2\/users\/[^/]+$/.test(path)) return ({ GET: 'getUser', PATCH: 'updateUser', DELETE: 'disableUser' } as const)[method as 'GET']!;
  if (/^\/api\/v2\/api_keys\/[^/]+$/.test(path)) return method === 'GET' ? 'getAPIKey' : 'deleteAPIKey';
  if (path === '/api/v2/current_user/application_keys') return 'listCurrentUserApplicationKeys';
  if (/^\/api\/v2\/current_user\/application_keys\/[^/]+$/.test(path)) return method === 'GET' ? 'getCurrentUserApplicationKey' : 'deleteCurrentUserApplicationKey';
  if (/^\/api\/v2\/application_keys\/[^/]+$/.test(path)) return method === 'GET' ? 'getApplicationKey' : 'deleteApplicationKey';
  throw new Error(`not a containment request: ${method} ${path}`);
}

/** Every problem with what was sent and answered so far (empty when all of it holds to the spec). */
function contractProblems(): string[] {
  const problems: string[] = [];
  for (const request of sim.requests) {
    const where = `${request.method} ${request.path} → ${request.status}`;
    const operation = operationOf(request);
    if (request.headers['dd-api-key'] !== '<redacted>' || request.headers['dd-application-key'] !== '<redacted>') problems.push(`${where}: DD-API-KEY and DD-APPLICATION-KEY are both required`);
    if (operation === 'updateUser') {
      const body = DisableUserRequestSchema.safeParse(request.body);
      if (!body.success) problems.push(`${where}: request body ${JSON.stringify(body.error.issues)}`);
    }
    const response = request.response!;
    let schema;
    try {
      // The spec declares no 5xx; a server failure (the fault knob) still answers an APIErrorResponse.
      schema = response.status >= 500 ? APIErrorResponseSchema : containmentResponseSchema(operation, response.status);
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message}`);
      continue;
    }
    if (schema === null) {
      if (response.body !== '') problems.push(`${where}: a 204 has no body`);
      continue;
    }
    if (response.headers['content-type'] !== 'application/json') problems.push(`${where}: content-type ${response.headers['content-type']}`);
    const parsed = schema.safeParse(JSON.parse(response.body));
    if (!parsed.success) problems.push(`${where}: ${JSON.stringify(parsed.error.issues)}`);
  }
  return problems;
}

afterEach(() => {
  expect(contractProblems()).toEqual([]);
});

test('the burst actor is found by email, and the keys minted in the burst are live keys', async () => {
  const { apiKeyIds, appKeyIds } = seedBurst();
  const found = await users.listUsers({ filter: 'mallory@example.com' });
  expect(found.data?.map((user) => [user.id, user.attributes?.email, user.attributes?.status])).toEqual([[malloryId, 'mallory@example.com', 'Active']]);
  expect(found.meta?.page?.totalFilteredCount).toBe(1);

  expect(sim.apiKeys.map((key) => key.id)).toEqual(expect.arrayContaining(apiKeyIds));
  expect(sim.applicationKeys.map((key) => key.id)).toEqual(expect.arrayContaining(appKeyIds));
  const apiKey = await keys.getAPIKey({ apiKeyId: apiKeyIds[0] });
  expect(apiKey.data?.relationships?.createdBy?.data.id).toBe(malloryId);
  const appKey = await keys.getApplicationKey({ appKeyId: appKeyIds[0] });
  expect(appKey.data?.relationships?.ownedBy?.data.id).toBe(malloryId);
  // The org-wide read never shows the secret; the current user's read of its own key does (the recordings).
  expect(appKey.data?.attributes?.key).toBeUndefined();

  // page[size] is bounded by the spec's PageSize (at most 100).
  expect(await failure(users.listUsers({ pageSize: 101 }))).toMatchObject({ code: 400 });
});

test('the sample day seeds its actors as users and every key it mints as a live key', async () => {
  const events = sampleDay({ end: new Date(), noiseEvents: 200 });
  sim.addEvents(events);
  const minted = events
    .map((event) => event.attributes.attributes as { action: string; asset: { type: string; id: string } })
    .filter((attributes) => attributes.action === 'created' && ['api_key', 'application_key'].includes(attributes.asset.type));
  expect(minted.length).toBeGreaterThan(3);
  const live = new Set([...sim.apiKeys, ...sim.applicationKeys].map((key) => key.id));
  expect(minted.filter((attributes) => !live.has(attributes.asset.id))).toEqual([]);
  const mallory = (await users.getUser({ userId: datadogUserIdFor(SAMPLE_ACTORS.mallory.email) })).data;
  expect(mallory?.attributes).toMatchObject({ email: 'mallory@example.com', name: 'Mallory', disabled: false });
});

test('disable by PATCH: the user is Disabled, a second disable is allowed, DELETE then says not found, re-enable works', async () => {
  seedBurst();
  const disable = (disabled: boolean) => users.updateUser({ userId: malloryId, body: { data: { type: 'users', id: malloryId, attributes: { disabled } } } });
  const first = await disable(true);
  expect(first.data?.attributes).toMatchObject({ disabled: true, status: 'Disabled' });
  expect(sim.users.find((user) => user.id === malloryId)?.disabled).toBe(true);
  // Unrecorded, and no rule against it in the spec: setting disabled on a disabled user answers 200 and changes nothing.
  expect((await disable(true)).data?.attributes?.disabled).toBe(true);
  expect((await users.getUser({ userId: malloryId })).data?.attributes?.status).toBe('Disabled');
  // Recorded (Update-a-user-returns-OK-response): DELETE on a user already disabled is a 404.
  expect(await failure(users.disableUser({ userId: malloryId }))).toEqual({ code: 404, body: { errors: [`${malloryId} not found`] } });
  expect((await users.listUsers({ filterStatus: 'Disabled' })).data?.map((user) => user.id)).toEqual([malloryId]);
  expect((await disable(false)).data?.attributes).toMatchObject({ disabled: false, status: 'Active' });
});

test('disable by DELETE: 204 once, 404 the second time (as recorded)', async () => {
  seedBurst();
  await expect(users.disableUser({ userId: malloryId })).resolves.toBeUndefined();
  expect(sim.users.find((user) => user.id === malloryId)?.disabled).toBe(true);
  expect(await failure(users.disableUser({ userId: malloryId }))).toEqual({ code: 404, body: { errors: [`${malloryId} not found`] } });
  expect(sim.requests.at(-1)!.response!.body).toBe(`{"errors": ["${malloryId} not found"]}`);
});

test('PATCH: a body id other than the path is 422, an unknown user is 404', async () => {
  seedBurst();
  const other = datadogUserIdFor('ana0@example.com');
  expect(await failure(users.updateUser({ userId: malloryId, body: { data: { type: 'users', id: other, attributes: { disabled: true } } } })))
    .toEqual({ code: 422, body: { errors: ["UUID's in the URL and request body do not match"] } });
  expect(sim.users.find((user) => user.id === malloryId)?.disabled).toBe(false);
  const unknown = '00000000-dead-beef-dead-ffffffffffff';
  expect(await failure(users.updateUser({ userId: unknown, body: { data: { type: 'users', id: unknown, attributes: { disabled: true } } } })))
    .toEqual({ code: 404, body: { errors: [`${unknown} not found`] } });
  expect(await failure(users.getUser({ userId: unknown }))).toMatchObject({ code: 404 });
});

test('revoking an API key: 204, then 404 "API key not found" on a second DELETE and on GET', async () => {
  const { apiKeyIds } = seedBurst();
  await expect(keys.deleteAPIKey({ apiKeyId: apiKeyIds[1] })).resolves.toBeUndefined();
  expect(sim.apiKeys.map((key) => key.id)).not.toContain(apiKeyIds[1]);
  expect(sim.apiKeys.map((key) => key.id)).toContain(apiKeyIds[0]);
  expect(await failure(keys.deleteAPIKey({ apiKeyId: apiKeyIds[1] }))).toEqual({ code: 404, body: { errors: ['API key not found'] } });
  expect(await failure(keys.getAPIKey({ apiKeyId: apiKeyIds[1] }))).toEqual({ code: 404, body: { errors: ['API key not found'] } });
});

test('revoking an application key org-wide; the current user\'s path reaches only its own keys', async () => {
  const { appKeyIds } = seedBurst();
  // Mallory's key is not the simulator's current user's: the current_user path does not find it.
  expect(await failure(keys.getCurrentUserApplicationKey({ appKeyId: appKeyIds[0] }))).toEqual({ code: 404, body: { errors: ['Application key not found'] } });
  expect(await failure(keys.deleteCurrentUserApplicationKey({ appKeyId: appKeyIds[0] }))).toMatchObject({ code: 404 });
  expect(sim.applicationKeys.map((key) => key.id)).toContain(appKeyIds[0]);

  await expect(keys.deleteApplicationKey({ appKeyId: appKeyIds[0] })).resolves.toBeUndefined();
  expect(sim.requests.at(-1)!.response!.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(sim.applicationKeys.map((key) => key.id)).not.toContain(appKeyIds[0]);
  expect(await failure(keys.deleteApplicationKey({ appKeyId: appKeyIds[0] }))).toEqual({ code: 404, body: { errors: ['Application key not found'] } });

  const own = sim.org.addAppKey({ name: 'mine', ownedBy: sim.org.currentUserId });
  expect((await keys.getCurrentUserApplicationKey({ appKeyId: own.id })).data?.attributes?.key).toBe(own.key);
  await expect(keys.deleteCurrentUserApplicationKey({ appKeyId: own.id })).resolves.toBeUndefined();
  expect(await failure(keys.getApplicationKey({ appKeyId: own.id }))).toMatchObject({ code: 404 });
});

test("the current user's application keys: the worker's own identity (#17), the keys its service account owns, never a secret", async () => {
  seedBurst();
  const listed = await keys.listCurrentUserApplicationKeys({ pageSize: 100 });
  expect((listed.data ?? []).map((key) => [key.id, key.relationships?.ownedBy?.data?.id])).toEqual([[SIM_OWN_APP_KEY_ID, datadogUserIdFor(SIM_SERVICE_ACCOUNT_EMAIL)]]);
  expect(JSON.stringify(sim.requests.at(-1)!.response!.body)).not.toContain(sim.appKey);
  // Mallory's keys are not the current user's.
  const { appKeyIds } = seedBurst();
  expect((await keys.listCurrentUserApplicationKeys()).data?.map((key) => key.id)).not.toContain(appKeyIds[0]);
});

test('the same keys as the audit endpoints: 403 with Datadog\'s body, and a revoked own key locks the caller out', async () => {
  seedBurst();
  const stranger = new v2.KeyManagementApi(configuration({ app: 'not-the-app-key' }));
  expect(await failure(stranger.getAPIKey({ apiKeyId: SIM_OWN_API_KEY_ID }))).toEqual({ code: 403, body: { errors: ['Forbidden'] } });
  const strangerUsers = new v2.UsersApi(configuration({ api: 'not-the-api-key' }));
  expect(await failure(strangerUsers.disableUser({ userId: malloryId }))).toEqual({ code: 403, body: { errors: ['Forbidden'] } });
  expect(sim.users.find((user) => user.id === malloryId)?.disabled).toBe(false);

  await keys.deleteAPIKey({ apiKeyId: SIM_OWN_API_KEY_ID });
  expect(await failure(users.getUser({ userId: malloryId }))).toEqual({ code: 403, body: { errors: ['Forbidden'] } });
});

test('fault knob: the next matching request fails with the status asked for, then the service answers again', async () => {
  const { apiKeyIds } = seedBurst();
  sim.failContainmentNext(429, 1, { route: '^DELETE /api/v2/api_keys/' });
  await expect(users.getUser({ userId: malloryId })).resolves.toBeDefined();
  expect(await failure(keys.deleteAPIKey({ apiKeyId: apiKeyIds[0] }))).toEqual({ code: 429, body: { errors: ['Too many requests'] } });
  expect(sim.requests.at(-1)!.response!.headers['x-ratelimit-reset']).toMatch(/^\d+$/);
  expect(sim.apiKeys.map((key) => key.id)).toContain(apiKeyIds[0]);
  await expect(keys.deleteAPIKey({ apiKeyId: apiKeyIds[0] })).resolves.toBeUndefined();
  sim.failContainmentNext(503);
  expect(await failure(users.listUsers({ filter: 'mallory' }))).toMatchObject({ code: 503 });
});
