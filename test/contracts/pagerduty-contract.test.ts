import { api, event } from '@pagerduty/pdjs';
import { Agent } from 'node:https';
import { requestProblems, responseProblems } from './support/pagerduty-routes';
import * as S from './support/pagerduty-schemas';
import { burstSummary, withPagerDutyHarness, type PagerDutyHarness } from './support/pagerduty-harness';

/**
 * PagerDuty contracts (schemas in support/pagerduty-schemas.ts, each naming its spec file and commit): every request the
 * product sends, as it leaves the real pdjs client, and every answer the simulator gives, on the success and error paths.
 */
describe('PagerDuty contracts', () => {
  let h: PagerDutyHarness;
  withPagerDutyHarness((ready) => (h = ready));
  beforeEach(() => {
    h.sim.clear();
    h.sim.resetFaults();
  });

  /** Every path of the product's incident activity, in both modes, including what a person does in between. */
  async function driveTheProduct(): Promise<void> {
    // REST: open, grow, raise urgency, a person acknowledges, quiet → left to them.
    const acked = burstSummary({ severity: 'warning' });
    await h.send(h.rest, 'trigger', acked);
    await h.send(h.rest, 'update', { ...acked, severity: 'error' }, 'warning');
    h.sim.personAcknowledges(acked.dedupKey);
    await h.send(h.rest, 'update', { ...acked, severity: 'error', events: 9 }, 'error');
    await h.send(h.rest, 'resolve', acked);
    // REST: a person resolves; the same severity is skipped, a rise opens a new incident; our own resolve.
    const resolved = burstSummary();
    await h.send(h.rest, 'trigger', resolved);
    h.sim.personResolves(resolved.dedupKey);
    await h.send(h.rest, 'update', resolved, 'error');
    await h.send(h.rest, 'update', { ...resolved, severity: 'critical', title: `[critical] ${'\u{1F6A8}'.repeat(2000)}` }, 'error');
    await h.send(h.rest, 'resolve', resolved);
    await h.send(h.rest, 'resolve', resolved);
    // REST: the From user is the only first-level on-call → handed to the escalation policy.
    await h.send({ ...h.rest, fromEmail: 'ada@example.com' }, 'trigger', burstSummary());
    // REST: a retried trigger whose incident is already open.
    const retried = burstSummary();
    await h.send(h.rest, 'trigger', retried);
    await h.send(h.rest, 'trigger', retried);
    // Events: open, rise, resolve; an oversized one is cut to fit.
    const viaEvents = burstSummary({ severity: 'warning' });
    await h.send(h.events, 'trigger', viaEvents);
    await h.send(h.events, 'update', { ...viaEvents, severity: 'critical' }, 'warning');
    await h.send(h.events, 'update', { ...viaEvents, severity: 'critical', events: 30 }, 'critical');
    await h.send(h.events, 'resolve', viaEvents);
    await h.send(h.events, 'trigger', burstSummary({ title: '\u{1F6A8}'.repeat(3000), body: 'x'.repeat(600 * 1024) }));
  }

  test('every request the product sends keeps to PagerDuty\'s request schemas, and PagerDuty takes it', async () => {
    await driveTheProduct();
    const requests = h.sim.requests;
    expect(new Set(requests.map((r) => `${r.method} ${r.path.replace(/\/Q\w+/, '/{id}')}`))).toEqual(new Set([
      'GET /oncalls', 'POST /incidents', 'GET /incidents', 'POST /incidents/{id}/notes', 'PUT /incidents/{id}', 'POST /v2/enqueue',
    ]));
    expect(requests.flatMap(requestProblems)).toEqual([]);
    // Taken: 2xx, or the documented "already open" 400 of a retried create.
    const refused = requests.filter((r) => r.status >= 300 && !(r.status === 400 && JSON.stringify(r.response?.body).includes('matching dedup key')));
    expect(refused.map((r) => `${r.method} ${r.path} ${r.status} ${JSON.stringify(r.response?.body)}`)).toEqual([]);
    expect(requests.filter((r) => r.path !== '/v2/enqueue').every((r) => /^pdjs\//.test(r.headers['user-agent'] ?? ''))).toBe(true);
  });

  test('every answer the simulator gives keeps to PagerDuty\'s response schemas, errors included', async () => {
    await driveTheProduct();
    type Params = Record<string, unknown>;
    const rest = (params: Params) =>
      (api as unknown as (p: Params) => Promise<unknown>)({ token: h.sim.apiToken, headers: { From: 'audit-spike@example.com' }, retryTimeout: 10, requestTimeout: 0, ...params }).catch(() => undefined);
    const url = (path: string) => `${h.sim.httpUrl}${path}`;
    const send = (data: Params) =>
      event({ server: h.sim.eventsServer, retryTimeout: 10, requestTimeout: 0, data: { routing_key: h.sim.routingKeys[0], ...data }, ...agentFor(h) } as unknown as Parameters<typeof event>[0]).catch(() => undefined);
    const id = h.sim.incidents.find((i) => i.status === 'resolved' && i.source === 'rest')!.id;

    // Reads the product does not send but the simulator serves.
    for (const path of ['/services', '/services/PSEC001', '/escalation_policies', `/incidents/${id}`, `/incidents/${id}/notes`, '/users']) await rest({ url: url(path) });
    // REST errors: 401, 400 (2011 no From, 1008 unknown From, 2001 two assignees, 1001 already resolved, 2004 bad time), 404, 429, 5xx.
    await rest({ url: url('/incidents'), token: 'wrong' });
    await rest({ url: url('/incidents'), method: 'POST', headers: {}, data: { incident: { type: 'incident', title: 't', service: { id: 'PSEC001', type: 'service_reference' } } } });
    await rest({ url: url('/incidents'), method: 'POST', headers: { From: 'nobody@example.com' }, data: {} });
    await rest({ url: url('/incidents'), method: 'POST', data: { incident: { type: 'incident', title: 't', service: { id: 'PSEC001', type: 'service_reference' }, assignments: [{ assignee: { id: 'PUSR001', type: 'user_reference' } }, { assignee: { id: 'PUSR002', type: 'user_reference' } }] } } });
    await rest({ url: url(`/incidents/${id}`), method: 'PUT', data: { incident: { type: 'incident_reference', status: 'resolved' } } });
    await rest({ url: url('/incidents'), queryParameters: { since: 'not a time' } });
    await rest({ url: url('/incidents/QNOPE00') });
    h.sim.failNext(429, 4, { resetS: 3 });
    await rest({ url: url('/oncalls') });
    h.sim.failNext(503, 1);
    await rest({ url: url('/oncalls') });
    // Events errors: 400 (routing key length, summary length, payload size), 429, 5xx.
    await send({ routing_key: 'short', event_action: 'trigger' });
    await send({ event_action: 'trigger', payload: { summary: 'x'.repeat(1025), source: 's', severity: 'info' } });
    await send({ event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'info', custom_details: { pad: 'x'.repeat(513 * 1024) } } });
    h.sim.setEventsRateLimit(0);
    await send({ event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'info' } });
    h.sim.setEventsRateLimit(undefined);
    h.sim.failNext(502, 1);
    await send({ event_action: 'resolve', dedup_key: 'k' });

    const answered = h.sim.requests;
    const statuses = new Set(answered.map((r) => `${r.path === '/v2/enqueue' ? 'events' : 'rest'} ${r.status}`));
    for (const expected of ['rest 200', 'rest 201', 'rest 400', 'rest 401', 'rest 404', 'rest 429', 'rest 503', 'events 202', 'events 400', 'events 429', 'events 502']) {
      expect(statuses).toContain(expected);
    }
    const codes = new Set(answered.map((r) => (r.response?.body as { error?: { code?: number } } | undefined)?.error?.code).filter((c) => c !== undefined));
    for (const code of [1001, 1008, 2001, 2004, 2006, 2011, 2020, 2100]) expect(codes).toContain(code);
    expect(answered.flatMap(responseProblems)).toEqual([]);
  });

  test('the schemas refuse what PagerDuty refuses, so a drifting product or simulator fails these tests', () => {
    const create = (incident: Record<string, unknown>) => ({ incident: { type: 'incident', title: 't', service: { id: 'P', type: 'service_reference' }, ...incident } });
    const assignee = (id: string) => ({ assignee: { id, type: 'user_reference' } });
    expect(S.CreateIncidentRequest.safeParse(create({ assignments: [assignee('A')] })).success).toBe(true);
    expect(S.CreateIncidentRequest.safeParse(create({ assignments: [assignee('A'), assignee('B')] })).success).toBe(false);
    expect(S.CreateIncidentRequest.safeParse(create({ assignments: [assignee('A')], escalation_policy: { id: 'E', type: 'escalation_policy_reference' } })).success).toBe(false);
    const headers = { authorization: 'Token token=[redacted]', accept: 'application/vnd.pagerduty+json;version=2', from: 'a@example.com', 'content-type': 'application/json; charset=utf-8' };
    expect(S.RestRequestHeaders.safeParse(headers).success).toBe(true);
    expect(S.RestRequestHeaders.safeParse({ ...headers, from: undefined }).success).toBe(false);
    expect(S.RestRequestHeaders.safeParse({ ...headers, authorization: 'Bearer [redacted]' }).success).toBe(false);
    expect(S.RestRequestHeaders.safeParse({ ...headers, accept: 'application/json' }).success).toBe(false);
    const trigger = (summary: string) => ({ routing_key: '[redacted]', event_action: 'trigger', dedup_key: 'k', payload: { summary, source: 's', severity: 'error' } });
    expect(S.EventsEnqueueRequest.safeParse(trigger('\u{1F6A8}'.repeat(1024))).success).toBe(true);
    expect(S.EventsEnqueueRequest.safeParse(trigger('\u{1F6A8}'.repeat(1025))).success).toBe(false);
    expect(S.EventsEnqueueRequest.safeParse({ routing_key: '[redacted]', event_action: 'resolve' }).success).toBe(false);
    expect(S.ListIncidentsQuery.safeParse({ incident_key: 'k', 'service_ids[]': ['S'], 'statuses[]': ['open'] }).success).toBe(false);
    expect(S.ListIncidentsQuery.safeParse({ incident_key: 'k', 'service_ids[]': ['S'], limit: '101' }).success).toBe(false);
    expect(S.RestError.safeParse({ error: { message: 'Incident Already Resolved', code: 1001, errors: ['Incident Already Resolved'] } }).success).toBe(true);
    expect(S.RestError.safeParse({ message: 'Incident Already Resolved' }).success).toBe(false);
    expect(S.RestThrottledHeaders.safeParse({ 'retry-after': '1' }).success).toBe(false);
    const resolvedWithAssignee = { id: 'Q1', type: 'incident', status: 'resolved', urgency: 'high', title: 't', created_at: '2026-12-01T00:00:00Z',
      service: { id: 'S', type: 'service_reference' }, assignments: [{ at: '2026-12-01T00:00:00Z', assignee: { id: 'U', type: 'user_reference' } }], html_url: 'https://x.pagerduty.com/incidents/Q1' };
    expect(S.Incident.safeParse(resolvedWithAssignee).success).toBe(false);
  });
});

/** The Events side is HTTPS with the simulator's CA, as the product reaches it. */
function agentFor(h: PagerDutyHarness): { agent: Agent } {
  return { agent: new Agent({ ca: h.sim.ca }) };
}
