import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, event } from '@pagerduty/pdjs';
import { PagerDutySimulator } from '../../sim/pagerduty-sim';

type EventParams = Parameters<typeof event>[0] & { agent?: Agent };

describe('PagerDuty simulator through @pagerduty/pdjs', () => {
  let sim: PagerDutySimulator;
  let dir: string;
  let agent: Agent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pd-sim-'));
    sim = await PagerDutySimulator.start({ tlsDir: dir });
    agent = new Agent({ ca: sim.ca });
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
    event({ server: sim.eventsServer, agent, retryTimeout: 50, requestTimeout: 0, data: { routing_key: sim.routingKeys[0], ...data }, ...extra } as EventParams);
  const trigger = (dedupKey: string, severity = 'error', summary = 'burst') =>
    send({ event_action: 'trigger', dedup_key: dedupKey, payload: { summary, source: 'test', severity } });
  const rest = (method: string, path: string, options: Record<string, unknown> = {}) =>
    (api as unknown as (p: Record<string, unknown>) => Promise<{ status: number; data: any }>)({
      token: sim.apiToken,
      url: `${sim.httpUrl}${path}`,
      method,
      headers: { From: 'bot@example.com' },
      requestTimeout: 0,
      ...options,
    });

  test('a trigger opens one incident assigned to the first-level on-call; the same dedup key appends', async () => {
    const first = await trigger('k1', 'error');
    expect(first.status).toBe(202);
    expect(first.data).toMatchObject({ status: 'success', dedup_key: 'k1' });
    await trigger('k1', 'critical');
    const incidents = sim.incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ source: 'events', dedupKey: 'k1', severity: 'critical', urgency: 'high', status: 'triggered', assignees: ['PUSR001'] });
    expect(incidents[0].alerts).toHaveLength(2);
  });

  test('after a resolve the same key opens a new incident', async () => {
    await trigger('k2');
    expect((await send({ event_action: 'resolve', dedup_key: 'k2' })).status).toBe(202);
    await trigger('k2');
    expect(sim.incidents.map((i) => i.status)).toEqual(['resolved', 'triggered']);
  });

  test('invalid events are refused like the real API', async () => {
    const badKey = await event({ server: sim.eventsServer, agent, requestTimeout: 0, data: { routing_key: 'nope', event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'error' } } } as EventParams);
    expect(badKey.status).toBe(400);
    expect(badKey.data.errors).toContain('Invalid routing key');
    const badSeverity = await send({ event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'loud' } });
    expect(badSeverity.status).toBe(400);
    expect((await send({ event_action: 'resolve' })).status).toBe(400);
    expect(sim.incidents).toHaveLength(0);
  });

  test('REST: create with token and From, duplicate open key refused, lookup, notes, on-calls', async () => {
    const created = await rest('POST', '/incidents', {
      data: { incident: { type: 'incident', title: 'Burst', service: { id: 'PSEC001', type: 'service_reference' }, incident_key: 'r1', urgency: 'low', assignments: [{ assignee: { id: 'PUSR002', type: 'user_reference' } }] } },
    });
    expect(created.status).toBe(201);
    expect(created.data.incident).toMatchObject({ incident_key: 'r1', urgency: 'low', status: 'triggered' });
    const duplicate = await rest('POST', '/incidents', { data: { incident: { type: 'incident', title: 'Again', service: { id: 'PSEC001', type: 'service_reference' }, incident_key: 'r1' } } });
    expect(duplicate.status).toBe(400);
    expect(JSON.stringify(duplicate.data)).toMatch(/matching dedup key/);

    const found = await rest('GET', '/incidents', { queryParameters: { incident_key: 'r1', 'service_ids[]': ['PSEC001'] } });
    expect(found.data.incidents.map((i: { id: string }) => i.id)).toEqual([created.data.incident.id]);
    expect((await rest('GET', '/incidents', { queryParameters: { incident_key: 'other' } })).data.incidents).toEqual([]);

    const note = await rest('POST', `/incidents/${created.data.incident.id}/notes`, { data: { note: { content: 'still going' } } });
    expect(note.status).toBe(201);
    const resolved = await rest('PUT', `/incidents/${created.data.incident.id}`, { data: { incident: { type: 'incident_reference', status: 'resolved' } } });
    expect(resolved.data.incident.status).toBe('resolved');
    expect(sim.incidents[0]).toMatchObject({ source: 'rest', assignees: ['PUSR002'], status: 'resolved', notes: [expect.objectContaining({ content: 'still going' })] });

    const oncalls = await rest('GET', '/oncalls', { queryParameters: { 'escalation_policy_ids[]': ['PSECEP1'], earliest: 'true' } });
    expect(oncalls.data.oncalls.map((o: { escalation_level: number; user: { id: string } }) => [o.escalation_level, o.user.id])).toEqual([[1, 'PUSR001'], [2, 'PUSR002']]);
  });

  test('REST refuses a missing token (401) and a missing From header (400)', async () => {
    const noToken = await (api as unknown as (p: Record<string, unknown>) => Promise<{ status: number }>)({ token: 'wrong', url: `${sim.httpUrl}/services`, requestTimeout: 0 });
    expect(noToken.status).toBe(401);
    const noFrom = await rest('POST', '/incidents', { headers: {}, data: { incident: { type: 'incident', title: 'x', service: { id: 'PSEC001', type: 'service_reference' } } } });
    expect(noFrom.status).toBe(400);
  });

  test('a 429 is retried by pdjs itself; 5xx is returned; an outage fails the request', async () => {
    sim.failNext(429, 1);
    expect((await trigger('k3')).status).toBe(202);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 202]);
    sim.failNext(503, 1);
    expect((await trigger('k4')).status).toBe(503);
    sim.outage(true);
    await expect(trigger('k5')).rejects.toThrow();
    sim.outage(false);
    expect((await trigger('k5')).status).toBe(202);
    expect(sim.incidents.map((i) => i.dedupKey)).toEqual(['k3', 'k5']);
  });

  test('what it records never holds the routing key or the token', async () => {
    await trigger('k6');
    await rest('GET', '/services');
    const recorded = JSON.stringify(sim.requests);
    expect(recorded).not.toContain(sim.routingKeys[0]);
    expect(recorded).not.toContain(sim.apiToken);
  });
});
