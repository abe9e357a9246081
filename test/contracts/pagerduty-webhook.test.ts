import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CUSTOM_ACTION_EVENT_TYPE, PagerDutySimulator } from '../../sim/pagerduty-sim';
import { verifyPagerDutyWebhook } from '../../src/webhooks/pagerduty-signature';
import { IncidentWorkflowInstanceSchema, V3WebhookHeadersSchema, V3WebhookSchema } from './support/pagerduty-webhook-schemas';

/**
 * The simulator's outbound v3 webhook (a person running an action on an incident) as a receiver sees it: headers and
 * body against the schemas from PagerDuty's docs (test/contracts/support/pagerduty-webhook-schemas.ts), the signature
 * recomputed here from the raw bytes, and the product's verifier (src/webhooks/pagerduty-signature.ts) on what arrived.
 */

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

let dir: string;
let sim: PagerDutySimulator;
let receiver: Server;
let receiverUrl: string;
let received: Received[] = [];
let answer = 202;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pd-webhook-'));
  sim = await PagerDutySimulator.start({ tlsDir: dir });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/pagerduty/webhook`;
});

afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  sim.clear();
  sim.clearWebhookSubscriptions();
  sim.resetFaults();
  received = [];
  answer = 202;
});

/** An incident opened the way audit-spike opens one in Events mode. */
async function openIncident(): Promise<string> {
  const response = await fetch(`${sim.httpUrl}/v2/enqueue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ routing_key: sim.routingKeys[0], event_action: 'trigger', dedup_key: `audit-spike:${Date.now()}`, payload: { summary: 'mallory@example.com: burst of admin actions', severity: 'critical', source: 'audit-spike' } }),
  });
  expect(response.status).toBe(202);
  return sim.incidents.at(-1)!.id;
}

const hmac = (raw: Buffer, secret: string) => createHmac('sha256', secret).update(raw).digest('hex');

test('a person running the action: one signed v3 webhook, headers and body as PagerDuty documents them', async () => {
  const { secret } = sim.addWebhookSubscription(receiverUrl);
  const incidentId = await openIncident();
  const [delivery] = await sim.fireCustomIncidentAction(incidentId, 'Contain: disable user, revoke keys', 'ada@example.com');

  expect(received).toHaveLength(1);
  const [{ headers, raw }] = received;
  const headerCheck = V3WebhookHeadersSchema.safeParse(headers);
  expect(headerCheck.success ? [] : headerCheck.error.issues).toEqual([]);
  const body = V3WebhookSchema.safeParse(JSON.parse(raw.toString('utf8')));
  expect(body.success ? [] : body.error.issues).toEqual([]);
  const data = IncidentWorkflowInstanceSchema.safeParse(body.data?.event.data);
  expect(data.success ? [] : data.error.issues).toEqual([]);
  expect(body.data?.event).toMatchObject({ event_type: CUSTOM_ACTION_EVENT_TYPE, resource_type: 'incident', agent: { id: 'PUSR001', summary: 'Ada Secure' } });
  expect(data.data).toMatchObject({ incident: { id: incidentId }, incident_workflow: { summary: 'Contain: disable user, revoke keys' } });

  // The signature is the hex HMAC-SHA256 of exactly the bytes that arrived.
  expect(headers['x-pagerduty-signature']).toBe(`v1=${hmac(raw, secret)}`);
  expect(raw.toString('utf8')).toBe(delivery.body);
  expect(delivery).toMatchObject({ status: 202, forged: false, url: receiverUrl });
  expect(sim.webhookDeliveries).toHaveLength(1);

  const verdict = verifyPagerDutyWebhook({ rawBody: raw, signatureHeader: headers['x-pagerduty-signature'], secrets: secret, now: Date.now(), toleranceMs: 60_000 });
  expect(verdict).toMatchObject({ ok: true, webhook: { event: { event_type: CUSTOM_ACTION_EVENT_TYPE } } });
});

test('the forgery knob signs with another secret once: the verifier refuses it, the next delivery verifies', async () => {
  const { secret } = sim.addWebhookSubscription(receiverUrl);
  const incidentId = await openIncident();
  sim.forgeWebhookSignatures(1);
  await sim.fireCustomIncidentAction(incidentId, 'Contain', 'ada@example.com');
  await sim.fireCustomIncidentAction(incidentId, 'Contain', 'ada@example.com');
  const verdicts = received.map(({ raw, headers }) => verifyPagerDutyWebhook({ rawBody: raw, signatureHeader: headers['x-pagerduty-signature'], secrets: secret, now: Date.now(), toleranceMs: 60_000 }));
  expect(verdicts.map((v) => (v.ok ? 'ok' : v.reason))).toEqual(['signature_mismatch', 'ok']);
  expect(sim.webhookDeliveries.map((d) => d.forged)).toEqual([true, false]);
  // A forged signature still has the documented form: only the secret behind it is wrong.
  expect(V3WebhookHeadersSchema.safeParse(received[0].headers).success).toBe(true);
});

test('during a secret rotation both signatures are sent; either secret verifies; after it, only the new one', async () => {
  const { id, secret: old } = sim.addWebhookSubscription(receiverUrl);
  const incidentId = await openIncident();
  const fresh = sim.rotateWebhookSecret(id);
  expect(fresh).not.toBe(old);
  await sim.fireCustomIncidentAction(incidentId, 'Contain', 'bo@example.com');
  const rotating = received[0];
  expect(rotating.headers['x-pagerduty-signature']).toBe(`v1=${hmac(rotating.raw, fresh)},v1=${hmac(rotating.raw, old)}`);
  for (const secret of [old, fresh]) {
    expect(verifyPagerDutyWebhook({ rawBody: rotating.raw, signatureHeader: rotating.headers['x-pagerduty-signature'], secrets: secret, now: Date.now(), toleranceMs: 60_000 }).ok).toBe(true);
  }
  sim.completeWebhookSecretRotation(id);
  await sim.fireCustomIncidentAction(incidentId, 'Contain', 'bo@example.com');
  const after = received[1];
  expect(verifyPagerDutyWebhook({ rawBody: after.raw, signatureHeader: after.headers['x-pagerduty-signature'], secrets: old, now: Date.now(), toleranceMs: 60_000 })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  expect(verifyPagerDutyWebhook({ rawBody: after.raw, signatureHeader: after.headers['x-pagerduty-signature'], secrets: fresh, now: Date.now(), toleranceMs: 60_000 }).ok).toBe(true);
});

test('deliveries record the receiver\'s answer, only subscribers to the event type receive it, and the agent must be a user', async () => {
  sim.addWebhookSubscription(receiverUrl);
  sim.addWebhookSubscription(`${receiverUrl}/triggers-only`, ['incident.triggered']);
  const incidentId = await openIncident();
  answer = 500;
  const deliveries = await sim.fireCustomIncidentAction(incidentId, 'Contain', 'ada@example.com');
  expect(deliveries.map((d) => [d.url, d.status])).toEqual([[receiverUrl, 500]]);
  await expect(sim.fireCustomIncidentAction(incidentId, 'Contain', 'mallory@example.com')).rejects.toThrow(/not a user/);
  await expect(sim.fireCustomIncidentAction('QNOSUCH', 'Contain', 'ada@example.com')).rejects.toThrow(/no incident/);
});

test('an action replayed long after it happened verifies as authentic but is refused as stale', async () => {
  const { secret } = sim.addWebhookSubscription(receiverUrl);
  const incidentId = await openIncident();
  await sim.fireCustomIncidentAction(incidentId, 'Contain', 'ada@example.com', { occurredAt: new Date(Date.now() - 3_600_000) });
  const [{ raw, headers }] = received;
  expect(verifyPagerDutyWebhook({ rawBody: raw, signatureHeader: headers['x-pagerduty-signature'], secrets: secret, now: Date.now(), toleranceMs: 10 * 60_000 })).toMatchObject({ ok: false, reason: 'stale' });
});
