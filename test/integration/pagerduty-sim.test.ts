import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent, get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, event } from '@pagerduty/pdjs';
import { PagerDutySimulator } from '../../sim/pagerduty-sim';
import { ensureLocalTls } from '../../sim/tls';

// pdjs' own types omit the fetch options it forwards (agent, signal, retryTimeout, requestTimeout); the product code
// (src/activities/pagerduty.ts) passes them the same way.
type EventParams = Parameters<typeof event>[0] & { agent?: Agent; retryTimeout?: number; requestTimeout?: number };
type ApiResponse = { status: number; data: any; headers: { get(name: string): string | null } };
const callApi = api as unknown as (params: Record<string, unknown>) => Promise<ApiResponse>;
/** The account's bot user (the compose stack's `fromEmail`): a known user, on call nowhere. */
const BOT = 'audit-spike@example.com';

describe('local TLS for the simulators', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sim-tls-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a CA and a localhost / 127.0.0.1 server certificate, reused while valid', async () => {
    const first = await ensureLocalTls(dir);
    const ca = new X509Certificate(first.ca);
    const leaf = new X509Certificate(first.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(leaf.subjectAltName).toMatch(/DNS:localhost.*IP Address:127\.0\.0\.1/);
    expect(statSync(first.keyFile).mode & 0o077).toBe(0);

    const again = await ensureLocalTls(dir);
    expect(again).toEqual(first);
    const wider = await ensureLocalTls(dir, ['pagerduty-sim']);
    expect(wider.ca).toBe(first.ca);
    expect(new X509Certificate(wider.cert).checkHost('pagerduty-sim')).toBe('pagerduty-sim');
  });
});

describe('PagerDuty simulator through @pagerduty/pdjs', () => {
  let sim: PagerDutySimulator;
  let dir: string;
  let agent: Agent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pd-sim-'));
    sim = await PagerDutySimulator.start({ tlsDir: dir });
    agent = new Agent({ ca: sim.ca, keepAlive: true });
  });
  afterAll(async () => {
    agent.destroy();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    sim.clear();
    sim.resetFaults();
  });

  const send = (data: Record<string, unknown>, extra: Partial<EventParams> = {}) =>
    event({ server: sim.eventsServer, agent, retryTimeout: 20, requestTimeout: 0, data: { routing_key: sim.routingKeys[0], ...data }, ...extra } as EventParams);
  const trigger = (dedupKey: string, severity = 'error', summary = 'burst') =>
    send({ event_action: 'trigger', dedup_key: dedupKey, payload: { summary, source: 'test', severity } });
  const rest = (method: string, path: string, options: Record<string, unknown> = {}) =>
    callApi({ token: sim.apiToken, url: `${sim.httpUrl}${path}`, method, headers: { From: BOT }, retryTimeout: 20, requestTimeout: 0, ...options });
  const newIncident = (key: string, extra: Record<string, unknown> = {}) => ({
    incident: { type: 'incident', title: `Burst ${key}`, service: { id: 'PSEC001', type: 'service_reference' }, incident_key: key, ...extra },
  });

  test('the HTTPS side is trusted only through the CA handed to pdjs as an agent', async () => {
    expect(sim.eventsServer).toMatch(/^127\.0\.0\.1:\d+$/);
    await expect(event({ server: sim.eventsServer, requestTimeout: 0, data: { routing_key: 'x', event_action: 'trigger' } } as EventParams)).rejects.toThrow(
      /self[- ]signed|unable to verify|local issuer/i,
    );
    const viaLocalhost = await event({
      server: sim.eventsServer.replace('127.0.0.1', 'localhost'),
      agent: new Agent({ ca: sim.ca }),
      requestTimeout: 0,
      data: { routing_key: sim.routingKeys[0], event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'info' } },
    } as EventParams);
    expect(viaLocalhost.status).toBe(202);
    // api() forwards the agent as well, so REST works over the HTTPS side too.
    const services = await callApi({ token: sim.apiToken, url: `${sim.httpsUrl}/services`, agent, requestTimeout: 0 });
    expect(services.data.services[0]).toMatchObject({ id: 'PSEC001', name: 'Datadog audit (security)' });
  });

  test('a trigger opens one incident for the first-level on-call; the same dedup key appends and raises severity', async () => {
    const first = await trigger('k1', 'warning', 'first title');
    expect(first.status).toBe(202);
    expect(first.data).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'k1' });
    await trigger('k1', 'critical', 'second title');
    await trigger('k1', 'info', 'third title');
    const incidents = sim.incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      source: 'events', dedupKey: 'k1', title: 'first title', severity: 'critical', urgency: 'high', status: 'triggered', serviceId: 'PSEC001', assignees: ['PUSR001'],
    });
    expect(incidents[0].id).toMatch(/^Q[0-9A-Z]{7}$/);
    expect(incidents[0].alerts.map((a) => a.event_action)).toEqual(['trigger', 'trigger', 'trigger']);
  });

  test('a trigger without a dedup key gets one; warning and info open low urgency', async () => {
    const sent = await send({ event_action: 'trigger', payload: { summary: 's', source: 'test', severity: 'warning' } });
    expect(sent.data.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    expect(sim.incidents[0]).toMatchObject({ dedupKey: sent.data.dedup_key, urgency: 'low' });
  });

  test('acknowledge and resolve act on the open incident; after a resolve the key opens a new incident', async () => {
    await trigger('k2');
    expect((await send({ event_action: 'acknowledge', dedup_key: 'k2' })).status).toBe(202);
    expect(sim.incidents[0].status).toBe('acknowledged');
    expect((await send({ event_action: 'resolve', dedup_key: 'k2' })).status).toBe(202);
    expect((await send({ event_action: 'resolve', dedup_key: 'nothing-open' })).status).toBe(202);
    await trigger('k2');
    const incidents = sim.incidents;
    expect(incidents.map((i) => [i.dedupKey, i.status])).toEqual([['k2', 'resolved'], ['k2', 'triggered']]);
    expect(incidents[0].id).not.toBe(incidents[1].id);
  });

  test('invalid events are refused like the real API', async () => {
    const shortKey = await send({ routing_key: 'nope', event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'error' } });
    expect(shortKey.status).toBe(400);
    expect(shortKey.data).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"] });
    const badKey = await send({ routing_key: 'x'.repeat(32), event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'error' } });
    expect(badKey.data).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] });
    const badSeverity = await send({ event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'loud' } });
    expect(badSeverity.status).toBe(400);
    expect(badSeverity.data.errors.join(' ')).toMatch(/severity/);
    const noSummary = await send({ event_action: 'trigger', payload: { source: 's', severity: 'error' } });
    expect(noSummary.data.errors.join(' ')).toMatch(/summary/);
    expect((await send({ event_action: 'resolve' })).status).toBe(400);
    expect((await send({ event_action: 'acknowledge' })).status).toBe(400);
    expect(sim.incidents).toHaveLength(0);
  });

  test('REST: create with token and From; a duplicate open incident_key is refused', async () => {
    const created = await rest('POST', '/incidents', { data: newIncident('r1', { urgency: 'low', body: { type: 'incident_body', details: 'who did what' } }) });
    expect(created.status).toBe(201);
    expect(created.data.incident).toMatchObject({
      type: 'incident', incident_key: 'r1', urgency: 'low', status: 'triggered', service: { id: 'PSEC001', type: 'service_reference' },
      assignments: [{ assignee: { id: 'PUSR001', type: 'user_reference', summary: 'Ada Secure' } }],
    });
    expect(created.data.incident.html_url).toContain(created.data.incident.id);
    expect(sim.incidents[0]).toMatchObject({ source: 'rest', body: 'who did what', assignees: ['PUSR001'] });

    const duplicate = await rest('POST', '/incidents', { data: newIncident('r1') });
    expect(duplicate.status).toBe(400);
    expect(JSON.stringify(duplicate.data)).toMatch(/matching dedup key/);

    const assigned = await rest('POST', '/incidents', { data: newIncident('r2', { assignments: [{ assignee: { id: 'PUSR002', type: 'user_reference' } }] }) });
    expect(assigned.data.incident.assignments.map((a: { assignee: { id: string } }) => a.assignee.id)).toEqual(['PUSR002']);
    expect((await rest('POST', '/incidents', { data: newIncident('r3', { service: { id: 'PNOPE', type: 'service_reference' } }) })).status).toBe(404);
  });

  test('REST refuses a wrong or missing token (401) and a missing From header (400, code 2011)', async () => {
    const wrong = await callApi({ token: 'wrong', url: `${sim.httpUrl}/services`, requestTimeout: 0 });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ error: { message: 'Authentication failed', code: 2006 } });
    const missing = await fetch(`${sim.httpUrl}/incidents`);
    expect(missing.status).toBe(401);
    const noFrom = await rest('POST', '/incidents', { headers: {}, data: newIncident('x') });
    expect(noFrom.status).toBe(400);
    expect(noFrom.data.error).toMatchObject({ code: 2011, message: 'You must specify a requester_id to perform this action' });
    expect(sim.incidents).toHaveLength(0);
  });

  test('REST lookup by incident_key, service and status; update; notes', async () => {
    const created = await rest('POST', '/incidents', { data: newIncident('r1') });
    const id: string = created.data.incident.id;
    await rest('POST', '/incidents', { data: newIncident('r2') });

    const found = await rest('GET', '/incidents', { queryParameters: { incident_key: 'r1', 'service_ids[]': ['PSEC001'] } });
    // `total` is null unless asked for (docs/REST-API/09-Pagination.md).
    expect(found.data).toMatchObject({ more: false, total: null, offset: 0 });
    expect(found.data.incidents.map((i: { id: string }) => i.id)).toEqual([id]);
    expect(sim.requests.at(-1)!.query).toEqual({ incident_key: 'r1', 'service_ids[]': ['PSEC001'] });
    expect((await rest('GET', '/incidents', { queryParameters: { incident_key: 'r1', total: 'true' } })).data.total).toBe(1);
    expect((await rest('GET', '/incidents', { queryParameters: { incident_key: 'other' } })).data.incidents).toEqual([]);
    expect((await rest('GET', '/incidents', { queryParameters: { 'service_ids[]': ['PNOPE'] } })).data.incidents).toEqual([]);
    expect((await rest('GET', `/incidents/${id}`)).data.incident).toMatchObject({ id, incident_key: 'r1' });
    expect((await rest('GET', '/incidents/QNOPE00')).status).toBe(404);

    const note = await rest('POST', `/incidents/${id}/notes`, { data: { note: { content: 'still going' } } });
    expect(note.status).toBe(200);
    expect(note.data.note).toMatchObject({ content: 'still going', user: { id: 'PUSRBOT', type: 'user_reference', summary: 'audit-spike' } });
    expect((await rest('GET', `/incidents/${id}/notes`)).data.notes.map((n: { content: string }) => n.content)).toEqual(['still going']);
    expect((await rest('POST', `/incidents/${id}/notes`, { headers: {}, data: { note: { content: 'x' } } })).status).toBe(400);

    const raised = await rest('PUT', `/incidents/${id}`, { data: { incident: { type: 'incident_reference', urgency: 'low' } } });
    expect(raised.data.incident.urgency).toBe('low');
    const resolved = await rest('PUT', `/incidents/${id}`, { data: { incident: { type: 'incident_reference', status: 'resolved' } } });
    expect(resolved.data.incident.status).toBe('resolved');
    const open = await rest('GET', '/incidents', { queryParameters: { 'statuses[]': ['triggered', 'acknowledged'] } });
    expect(open.data.incidents.map((i: { incident_key: string }) => i.incident_key)).toEqual(['r2']);
    expect(sim.incidents[0]).toMatchObject({ id, status: 'resolved', urgency: 'low', notes: [expect.objectContaining({ content: 'still going', from: BOT })] });

    // A resolved incident's key may be used again.
    expect((await rest('POST', '/incidents', { data: newIncident('r1') })).status).toBe(201);
  });

  test('REST on-calls, services, escalation policies, users; unknown routes', async () => {
    const oncalls = await rest('GET', '/oncalls', { queryParameters: { 'escalation_policy_ids[]': ['PSECEP1'], earliest: 'true' } });
    expect(oncalls.status).toBe(200);
    expect(oncalls.data.oncalls.map((o: { escalation_level: number; user: { id: string } }) => [o.escalation_level, o.user.id])).toEqual([[1, 'PUSR001'], [2, 'PUSR002']]);
    expect(oncalls.data.oncalls[0]).toMatchObject({ user: { type: 'user_reference', summary: 'Ada Secure' }, escalation_policy: { id: 'PSECEP1' }, schedule: null });
    expect((await rest('GET', '/oncalls', { queryParameters: { 'escalation_policy_ids[]': ['PNOPE'] } })).data.oncalls).toEqual([]);
    expect((await rest('GET', '/services/PSEC001')).data.service).toMatchObject({ id: 'PSEC001', escalation_policy: { id: 'PSECEP1' } });
    expect((await rest('GET', '/escalation_policies')).data.escalation_policies[0]).toMatchObject({ id: 'PSECEP1', name: 'Security on-call' });
    expect((await rest('GET', '/users')).data.users.map((u: { email: string }) => u.email)).toEqual(['ada@example.com', 'bo@example.com', BOT]);
    const unknown = await rest('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.data).toEqual({ error: { message: 'Not Found', code: 2100 } });
  });

  test('a 429 is retried by pdjs itself after retryTimeout (its headers are ignored); 5xx comes back as is', async () => {
    sim.failNext(429, 2, { retryAfterS: 30 });
    const started = Date.now();
    expect((await trigger('k3')).status).toBe(202);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 429, 202]);

    // pdjs gives up after 3 retries and hands back the last 429.
    sim.failNext(429, 10);
    const throttled = await trigger('k4');
    expect(throttled.status).toBe(429);
    expect(throttled.data).toMatchObject({ status: 'throttle event' });
    // The Events API documents no header on a 429; the simulator sends Retry-After only when a test asks for one.
    expect(throttled.headers.get('retry-after')).toBeNull();
    sim.resetFaults();

    sim.failNext(429, 1);
    const restThrottled = await callApi({ token: sim.apiToken, url: `${sim.httpUrl}/services`, retryTimeout: 20, requestTimeout: 0 });
    expect(restThrottled.status).toBe(200);
    sim.failNext(429, 4);
    const restGaveUp = await callApi({ token: sim.apiToken, url: `${sim.httpUrl}/services`, retryTimeout: 20, requestTimeout: 0 });
    expect(restGaveUp.data).toEqual({ error: { message: 'Rate Limit Exceeded', code: 2020 } });
    expect(['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].map((h) => restGaveUp.headers.get(h))).toEqual(['960', '0', '1']);

    sim.failNext(503, 1);
    expect((await trigger('k5')).status).toBe(503);
    expect((await trigger('k5')).status).toBe(202);
    expect(sim.incidents.map((i) => i.dedupKey)).toEqual(['k3', 'k5']);
  });

  test('an outage drops connections; the control API still answers and ends it', async () => {
    sim.outage(true);
    await expect(trigger('k6')).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expect(rest('GET', '/services')).rejects.toThrow();
    expect(await (await fetch(`${sim.httpUrl}/_sim/faults`)).json()).toMatchObject({ outage: true });
    const off = await fetch(`${sim.httpUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify({ outage: false, failNext: { status: 500, count: 1 } }) });
    expect(await off.json()).toMatchObject({ outage: false, failures: [{ status: 500, remaining: 1 }] });
    expect((await trigger('k6')).status).toBe(500);
    expect((await trigger('k6')).status).toBe(202);
    expect(sim.requests.map((r) => r.status)).toEqual([0, 0, 500, 202]);
  });

  test('the control API lists incidents and requests and clears them', async () => {
    await trigger('k7');
    const listed = (await (await fetch(`${sim.httpUrl}/_sim/incidents`)).json()) as Array<{ dedupKey: string }>;
    expect(listed.map((i) => i.dedupKey)).toEqual(['k7']);
    const requests = (await (await fetch(`${sim.httpUrl}/_sim/requests`)).json()) as Array<{ path: string }>;
    expect(requests.map((r) => r.path)).toEqual(['/v2/enqueue']);
    await fetch(`${sim.httpUrl}/_sim/clear`, { method: 'POST' });
    expect(sim.incidents).toEqual([]);
    expect(sim.requests).toEqual([]);
  });

  test('bodies over 1 MB are refused', async () => {
    const big = await fetch(`${sim.httpUrl}/v2/enqueue`, { method: 'POST', body: JSON.stringify({ routing_key: sim.routingKeys[0], pad: 'x'.repeat(1_100_000) }) });
    expect(big.status).toBe(413);
  });

  test('what it records never holds the routing key or the token', async () => {
    await trigger('k8');
    await send({ event_action: 'resolve', dedup_key: 'k8' });
    await rest('GET', '/services');
    await rest('POST', '/incidents', { data: newIncident('r9') });
    const recorded = JSON.stringify(sim.requests);
    expect(sim.requests).toHaveLength(4);
    expect(recorded).toContain('[redacted]');
    expect(recorded).not.toContain(sim.routingKeys[0]);
    expect(recorded).not.toContain(sim.apiToken);
    // Headers are kept for the contract tests with the token replaced: the scheme stays, the secret does not.
    expect(sim.requests.filter((r) => r.path !== '/v2/enqueue').map((r) => r.headers.authorization)).toEqual(['Token token=[redacted]', 'Token token=[redacted]']);
  });

  describe('strict REST, as PagerDuty documents it', () => {
    const statusesOf = async (query: Record<string, unknown>) =>
      (await rest('GET', '/incidents', { queryParameters: query })).data.incidents.map((i: { incident_key: string; status: string }) => `${i.incident_key}:${i.status}`);

    test('GET /incidents returns every status unless statuses[] is given; an unknown status is refused', async () => {
      await rest('POST', '/incidents', { data: newIncident('s1') });
      await rest('POST', '/incidents', { data: newIncident('s2') });
      await rest('POST', '/incidents', { data: newIncident('s3') });
      sim.personAcknowledges('s2');
      sim.personResolves('s3');
      expect(await statusesOf({})).toEqual(['s1:triggered', 's2:acknowledged', 's3:resolved']);
      expect(await statusesOf({ 'statuses[]': ['resolved'] })).toEqual(['s3:resolved']);
      expect(await statusesOf({ 'statuses[]': ['triggered', 'acknowledged'] })).toEqual(['s1:triggered', 's2:acknowledged']);
      const bad = await rest('GET', '/incidents', { queryParameters: { 'statuses[]': ['open'] } });
      expect(bad.status).toBe(400);
      expect(bad.data.error.code).toBe(2001);
    });

    test('GET /incidents searches the last month by default; since/until narrow it, date_range=all ignores it', async () => {
      await rest('POST', '/incidents', { data: newIncident('old') });
      sim.advanceClock(40 * 86_400_000);
      await rest('POST', '/incidents', { data: newIncident('new') });
      expect(await statusesOf({})).toEqual(['new:triggered']);
      expect(await statusesOf({ incident_key: 'old' })).toEqual([]);
      expect(await statusesOf({ incident_key: 'old', date_range: 'all' })).toEqual(['old:triggered']);
      const since = new Date(Date.now() - 86_400_000).toISOString();
      const until = new Date(Date.now() + 86_400_000).toISOString();
      expect(await statusesOf({ since, until })).toEqual(['old:triggered']);
      const badTime = await rest('GET', '/incidents', { queryParameters: { since: 'yesterday' } });
      expect([badTime.status, badTime.data.error.code]).toEqual([400, 2004]);
      const tooLong = await rest('GET', '/incidents', { queryParameters: { since: '2020-01-01T00:00:00Z', until: '2021-01-01T00:00:00Z' } });
      expect([tooLong.status, tooLong.data.error.code]).toEqual([400, 2005]);
      sim.advanceClock(-40 * 86_400_000);
    });

    test('updating or resolving a resolved incident answers 400 "Incident Already Resolved" (1001); reopening is allowed', async () => {
      const id: string = (await rest('POST', '/incidents', { data: newIncident('res') })).data.incident.id;
      sim.personResolves('res', 'bo@example.com');
      for (const change of [{ status: 'resolved' }, { urgency: 'high' }, { title: 'new title' }]) {
        const answer = await rest('PUT', `/incidents/${id}`, { data: { incident: { type: 'incident_reference', ...change } } });
        expect(answer.status).toBe(400);
        expect(answer.data).toEqual({ error: { message: 'Incident Already Resolved', code: 1001, errors: ['Incident Already Resolved'] } });
      }
      expect(sim.incidents[0].statusChanges.map((c) => [c.status, c.by])).toEqual([['resolved', 'person:bo@example.com']]);
      const reopened = await rest('PUT', `/incidents/${id}`, { data: { incident: { type: 'incident_reference', status: 'acknowledged' } } });
      expect(reopened.data.incident.status).toBe('acknowledged');
    });

    test('one assignee at most, not with an escalation policy, and a known one', async () => {
      const two = await rest('POST', '/incidents', {
        data: newIncident('a1', { assignments: ['PUSR001', 'PUSR002'].map((id) => ({ assignee: { id, type: 'user_reference' } })) }),
      });
      expect(two.status).toBe(400);
      expect(two.data.error).toEqual({ message: 'Invalid Input Provided', code: 2001, errors: ['Only one assignee is supported at this time.'] });
      const both = await rest('POST', '/incidents', {
        data: newIncident('a2', { assignments: [{ assignee: { id: 'PUSR001', type: 'user_reference' } }], escalation_policy: { id: 'PSECEP1', type: 'escalation_policy_reference' } }),
      });
      expect(both.status).toBe(400);
      const nobody = await rest('POST', '/incidents', { data: newIncident('a3', { assignments: [{ assignee: { id: 'PNOBODY', type: 'user_reference' } }] }) });
      expect([nobody.status, nobody.data.error.code]).toEqual([400, 1007]);
      expect(sim.incidents).toEqual([]);
    });

    test('From must be a known user (1008) on every write', async () => {
      const stranger = { From: 'stranger@example.com' };
      const created = await rest('POST', '/incidents', { headers: stranger, data: newIncident('f1') });
      expect([created.status, created.data.error.code, created.data.error.message]).toEqual([400, 1008, 'Requester User Not Found']);
      const id: string = (await rest('POST', '/incidents', { data: newIncident('f2') })).data.incident.id;
      expect((await rest('PUT', `/incidents/${id}`, { headers: stranger, data: { incident: { type: 'incident_reference', status: 'resolved' } } })).data.error.code).toBe(1008);
      expect((await rest('POST', `/incidents/${id}/notes`, { headers: stranger, data: { note: { content: 'x' } } })).data.error.code).toBe(1008);
      // Emails compare case-insensitively.
      expect((await rest('POST', `/incidents/${id}/notes`, { headers: { From: 'Audit-Spike@Example.com' }, data: { note: { content: 'x' } } })).status).toBe(200);
    });

    test('an incident assigned to the From user is created acknowledged and notifies no one; others notify their assignee', async () => {
      const self = await rest('POST', '/incidents', { headers: { From: 'ada@example.com' }, data: newIncident('me', { assignments: [{ assignee: { id: 'PUSR001', type: 'user_reference' } }] }) });
      expect(self.data.incident.status).toBe('acknowledged');
      await rest('POST', '/incidents', { data: newIncident('bo', { assignments: [{ assignee: { id: 'PUSR002', type: 'user_reference' } }] }) });
      await rest('POST', '/incidents', { data: newIncident('policy', { escalation_policy: { id: 'PSECEP1', type: 'escalation_policy_reference' } }) });
      expect(sim.incidents.map((i) => [i.dedupKey, i.status, i.notified])).toEqual([
        ['me', 'acknowledged', []],
        ['bo', 'triggered', ['PUSR002']],
        ['policy', 'triggered', ['PUSR001']],
      ]);
    });

    test('a REST 429 carries ratelimit-limit/-remaining/-reset and the 2020 error body', async () => {
      sim.failNext(429, 4, { resetS: 17 });
      const answer = await rest('GET', '/incidents');
      expect(answer.status).toBe(429);
      expect(answer.data).toEqual({ error: { message: 'Rate Limit Exceeded', code: 2020 } });
      expect(['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].map((h) => answer.headers.get(h))).toEqual(['960', '0', '17']);
      sim.failNext(429, 4, { emptyBody: true });
      // "a 429 response code without the rate limit headers or the response body": pdjs then rejects with the Response.
      const rejected = await rest('GET', '/incidents').then(() => undefined, (error: { status?: number; headers?: ApiResponse['headers'] }) => error);
      expect(rejected?.status).toBe(429);
      expect(rejected?.headers?.get('ratelimit-reset')).toBeNull();
    });

    test('GET /oncalls with include[]=users gives each on-call user with their email', async () => {
      const oncalls = await rest('GET', '/oncalls', { queryParameters: { 'escalation_policy_ids[]': ['PSECEP1'], 'include[]': ['users'] } });
      expect(oncalls.data.oncalls.map((o: { user: { email: string; type: string } }) => [o.user.type, o.user.email])).toEqual([['user', 'ada@example.com'], ['user', 'bo@example.com']]);
    });

    test('a body that is not declared JSON is refused; pdjs\' "application/json; charset=utf-8" is taken', async () => {
      const plain = await fetch(`${sim.httpUrl}/incidents`, {
        method: 'POST', body: JSON.stringify(newIncident('ct')), headers: { authorization: `Token token=${sim.apiToken}`, from: BOT, 'content-type': 'text/plain' },
      });
      expect(plain.status).toBe(415);
      expect((await rest('POST', '/incidents', { data: newIncident('ct') })).status).toBe(201);
      expect(sim.requests.at(-1)!.headers['content-type']).toBe('application/json; charset=utf-8');
    });
  });

  describe('strict Events API', () => {
    test('payload.summary is at most 1024 characters, counted as characters rather than UTF-16 units', async () => {
      const emoji = '\u{1F6A8}'.repeat(1024); // 2048 UTF-16 units, 1024 characters
      expect((await trigger('e1', 'error', emoji)).status).toBe(202);
      const long = await trigger('e2', 'error', 'x'.repeat(1025));
      expect(long.status).toBe(400);
      expect(long.data.errors.join(' ')).toMatch(/payload\.summary.*too long.*1024/);
      expect(sim.incidents.map((i) => i.dedupKey)).toEqual(['e1']);
    });

    test('a payload over 512 KB is refused; dedup_key is at most 255 characters', async () => {
      const big = await send({ event_action: 'trigger', dedup_key: 'e3', payload: { summary: 's', source: 's', severity: 'info', custom_details: { pad: 'x'.repeat(520 * 1024) } } });
      expect(big.status).toBe(400);
      expect(big.data.errors.join(' ')).toMatch(/too large.*524288/);
      const fits = await send({ event_action: 'trigger', dedup_key: 'e3', payload: { summary: 's', source: 's', severity: 'info', custom_details: { pad: 'x'.repeat(500 * 1024) } } });
      expect(fits.status).toBe(202);
      expect((await trigger('k'.repeat(256))).status).toBe(400);
      expect((await trigger('k'.repeat(255))).status).toBe(202);
    });

    test('the per-routing-key rate limit answers 429 (JSON, or an empty body that makes pdjs reject)', async () => {
      sim.setEventsRateLimit(2);
      expect((await trigger('r1')).status).toBe(202);
      expect((await trigger('r1')).status).toBe(202);
      // pdjs retries this 429 three times; every retry is within the same minute, so the last answer is a 429 too.
      const limited = await trigger('r1');
      expect(limited.status).toBe(429);
      expect(sim.requests.map((r) => r.status)).toEqual([202, 202, 429, 429, 429, 429]);
      sim.setEventsRateLimit(0, 'empty');
      await expect(trigger('r2')).rejects.toThrow(/JSON|Unexpected end/i);
      sim.setEventsRateLimit(undefined);
      expect((await trigger('r2')).status).toBe(202);
    });

    test('urgency follows severity only when the service uses severity-based urgency', async () => {
      await trigger('u1', 'info');
      sim.setServiceUrgency('high');
      await trigger('u2', 'info');
      sim.setServiceUrgency('low');
      await trigger('u3', 'critical');
      sim.setServiceUrgency('severity_based');
      await trigger('u4', 'critical');
      expect(sim.incidents.map((i) => [i.dedupKey, i.urgency])).toEqual([['u1', 'low'], ['u2', 'high'], ['u3', 'low'], ['u4', 'high']]);
      expect((await rest('GET', '/services/PSEC001')).data.service.incident_urgency_rule).toEqual({ type: 'constant', urgency: 'severity_based' });
    });

    test('a person resolves mid-burst: the next trigger with that key opens a new incident and notifies again', async () => {
      await trigger('p1', 'error');
      const resolved = sim.personResolves('p1');
      expect(resolved.statusChanges).toEqual([expect.objectContaining({ status: 'resolved', by: 'person:ada@example.com' })]);
      await trigger('p1', 'error');
      expect(sim.incidents.map((i) => [i.status, i.notified])).toEqual([['resolved', ['PUSR001']], ['triggered', ['PUSR001']]]);
      // Acknowledge and resolve without an open incident are accepted and dropped.
      sim.personResolves('p1');
      expect((await send({ event_action: 'acknowledge', dedup_key: 'p1' })).status).toBe(202);
      expect(sim.incidents.map((i) => i.status)).toEqual(['resolved', 'resolved']);
      expect(() => sim.personResolves('p1')).toThrow(/no open incident/);
    });
  });

  test('a person acts over HTTP too (/_sim/person/acknowledge, /_sim/person/resolve), for the dev stack', async () => {
    await trigger('h1');
    const post = (path: string, body: unknown) => fetch(`${sim.httpUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const acked = await post('/_sim/person/acknowledge', { dedupKey: 'h1', by: 'bo@example.com' });
    expect(acked.status).toBe(200);
    expect(((await acked.json()) as { status: string }).status).toBe('acknowledged');
    expect((await post('/_sim/person/resolve', { dedupKey: 'h1' })).status).toBe(200);
    expect((await post('/_sim/person/resolve', { dedupKey: 'h1' })).status).toBe(404);
    expect((await post('/_sim/service', { urgency: 'low' })).status).toBe(200);
    const faults = await post('/_sim/faults', { eventsRateLimit: { perMinute: 120 } });
    expect(await faults.json()).toMatchObject({ eventsRateLimit: { perMinute: 120, throttleBody: 'json' } });
    sim.setServiceUrgency('severity_based');
    expect(sim.incidents[0].statusChanges.map((c) => c.by)).toEqual(['person:bo@example.com', 'person:ada@example.com']);
  });

  test('stop() returns promptly with keep-alive connections open', async () => {
    const other = await PagerDutySimulator.start({ tlsDir: dir });
    const keepAlive = new Agent({ ca: other.ca, keepAlive: true });
    await new Promise<void>((resolve, reject) => httpsGet(`${other.httpsUrl}/_sim/health`, { agent: keepAlive }, (res) => res.resume().on('end', resolve)).on('error', reject));
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    keepAlive.destroy();
  });
});
