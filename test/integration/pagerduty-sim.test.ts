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
    callApi({ token: sim.apiToken, url: `${sim.httpUrl}${path}`, method, headers: { From: 'bot@example.com' }, retryTimeout: 20, requestTimeout: 0, ...options });
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
    const badKey = await send({ routing_key: 'nope', event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'error' } });
    expect(badKey.status).toBe(400);
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

  test('REST refuses a wrong or missing token (401) and a missing From header (400)', async () => {
    const wrong = await callApi({ token: 'wrong', url: `${sim.httpUrl}/services`, requestTimeout: 0 });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ error: { message: 'Authentication failed', code: 2006 } });
    const missing = await fetch(`${sim.httpUrl}/incidents`);
    expect(missing.status).toBe(401);
    const noFrom = await rest('POST', '/incidents', { headers: {}, data: newIncident('x') });
    expect(noFrom.status).toBe(400);
    expect(noFrom.data.error).toMatchObject({ code: 2008 });
    expect(sim.incidents).toHaveLength(0);
  });

  test('REST lookup by incident_key, service and status; update; notes', async () => {
    const created = await rest('POST', '/incidents', { data: newIncident('r1') });
    const id: string = created.data.incident.id;
    await rest('POST', '/incidents', { data: newIncident('r2') });

    const found = await rest('GET', '/incidents', { queryParameters: { incident_key: 'r1', 'service_ids[]': ['PSEC001'] } });
    expect(found.data).toMatchObject({ more: false, total: 1, offset: 0 });
    expect(found.data.incidents.map((i: { id: string }) => i.id)).toEqual([id]);
    expect(sim.requests.at(-1)!.query).toEqual({ incident_key: 'r1', 'service_ids[]': ['PSEC001'] });
    expect((await rest('GET', '/incidents', { queryParameters: { incident_key: 'other' } })).data.incidents).toEqual([]);
    expect((await rest('GET', '/incidents', { queryParameters: { 'service_ids[]': ['PNOPE'] } })).data.incidents).toEqual([]);
    expect((await rest('GET', `/incidents/${id}`)).data.incident).toMatchObject({ id, incident_key: 'r1' });
    expect((await rest('GET', '/incidents/QNOPE00')).status).toBe(404);

    const note = await rest('POST', `/incidents/${id}/notes`, { data: { note: { content: 'still going' } } });
    expect(note.status).toBe(201);
    expect(note.data.note).toMatchObject({ content: 'still going', user: { summary: 'bot@example.com' } });
    expect((await rest('GET', `/incidents/${id}/notes`)).data.notes.map((n: { content: string }) => n.content)).toEqual(['still going']);
    expect((await rest('POST', `/incidents/${id}/notes`, { headers: {}, data: { note: { content: 'x' } } })).status).toBe(400);

    const raised = await rest('PUT', `/incidents/${id}`, { data: { incident: { type: 'incident_reference', urgency: 'low' } } });
    expect(raised.data.incident.urgency).toBe('low');
    const resolved = await rest('PUT', `/incidents/${id}`, { data: { incident: { type: 'incident_reference', status: 'resolved' } } });
    expect(resolved.data.incident.status).toBe('resolved');
    const open = await rest('GET', '/incidents', { queryParameters: { 'statuses[]': ['triggered', 'acknowledged'] } });
    expect(open.data.incidents.map((i: { incident_key: string }) => i.incident_key)).toEqual(['r2']);
    expect(sim.incidents[0]).toMatchObject({ id, status: 'resolved', urgency: 'low', notes: [expect.objectContaining({ content: 'still going', from: 'bot@example.com' })] });

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
    expect((await rest('GET', '/users')).data.users.map((u: { email: string }) => u.email)).toEqual(['ada@example.com', 'bo@example.com']);
    const unknown = await rest('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.data).toEqual({ error: { message: 'Not Found', code: 2100 } });
  });

  test('a 429 is retried by pdjs itself after retryTimeout (Retry-After is ignored); 5xx comes back as is', async () => {
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
    expect(throttled.headers.get('retry-after')).toBe('1');
    sim.resetFaults();

    sim.failNext(429, 1);
    const restThrottled = await callApi({ token: sim.apiToken, url: `${sim.httpUrl}/services`, retryTimeout: 20, requestTimeout: 0 });
    expect(restThrottled.status).toBe(200);
    sim.failNext(429, 4);
    const restGaveUp = await callApi({ token: sim.apiToken, url: `${sim.httpUrl}/services`, retryTimeout: 20, requestTimeout: 0 });
    expect(restGaveUp.data).toEqual({ error: { message: 'Rate Limit Exceeded', code: 2020 } });

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
    expect(recorded).not.toMatch(/authorization/i);
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
