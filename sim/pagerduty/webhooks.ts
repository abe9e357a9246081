import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { SERVICE, type SimUser } from './account';
import type { SimIncident } from './store';

/**
 * PagerDuty's outbound v3 webhooks, as far as a person approving containment from an incident needs them (#17).
 *
 * Sources (PagerDuty/developer-docs @ 94224391aa3eac8fa73ea6a6af542dee0613d3e8):
 *  - docs/webhooks/04-Signatures.md: "When a webhook subscription is created, a strong unique secret is generated";
 *    `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the body>`, several comma-separated during a secret rotation;
 *  - docs/webhooks/01-Overview.md: the envelope `{event: {id, event_type, resource_type, occurred_at, agent, client,
 *    data}}`, and the event types a v3 subscription can receive;
 *  - docs/webhooks/02-Behavior.md: an `X-Webhook-Id` header unique to the webhook (repeated on retries); a 2xx is
 *    expected within 5 seconds (16 for webhooks from Custom Incident Actions).
 *
 * The event type: neither 01-Overview.md nor api-schema reference/REST/openapiv3.json @ 91a06fb3 lists a v3 event type
 * for Custom Incident Actions (those are a service extension; the docs describe no v3 payload for them). The documented,
 * signed v3 event for "a person ran an action on this incident" is an incident workflow started by hand:
 * `incident.workflow.started`, `data.type` `incident_workflow_instance` (its `incident_workflow`, `workflow_trigger`,
 * `incident` and `service` references), with the person as `agent`. That is what `fireCustomIncidentAction` sends, the
 * action's name standing as the workflow's and the trigger's name. Change `CUSTOM_ACTION_EVENT_TYPE` if PagerDuty
 * documents another.
 */

export const CUSTOM_ACTION_EVENT_TYPE = 'incident.workflow.started';
/** "a 2xx response within 5 seconds for Generic Webhooks and within 16 seconds for webhooks generated from Custom Incident Actions" */
const DELIVERY_TIMEOUT_MS = 16_000;

export interface WebhookSubscription {
  id: string;
  url: string;
  /** Signing secrets, newest first: two while a rotation is under way. */
  secrets: string[];
  events: string[];
}

export interface WebhookDelivery {
  at: string;
  subscriptionId: string;
  url: string;
  /** The headers sent, the signature included (a signature is no secret). */
  headers: Record<string, string>;
  /** The body exactly as sent. */
  body: string;
  /** The receiver's status; 0 when the connection failed or timed out. */
  status: number;
  /** The signature was made with a wrong secret (the forgery knob). */
  forged: boolean;
  error?: string;
}

let subscriptionCount = 0;

export function newSubscription(url: string, events: string[], secret?: string): WebhookSubscription {
  // "a strong unique secret": 32 random bytes, base64 (PagerDuty does not document the secret's form). A given secret
  // stands for one generated earlier and kept in a secret store (the compose stack's fixed dev secret).
  return { id: `PWSUB${String(++subscriptionCount).padStart(3, '0')}`, url, secrets: [secret ?? randomBytes(32).toString('base64')], events };
}

export function signatureHeader(body: string, secrets: readonly string[]): string {
  return secrets.map((secret) => `v1=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`).join(',');
}

const apiUrl = (path: string) => `https://api.pagerduty.com/${path}`;
const webUrl = (path: string) => `https://sim.pagerduty.local/${path}`;

/** The v3 envelope of an incident workflow started by `agent` on `incident` (docs/webhooks/01-Overview.md). */
export function workflowStartedEvent(incident: SimIncident, actionName: string, agent: SimUser, occurredAt: string) {
  const workflowId = `PWF${Buffer.from(actionName).toString('hex').slice(0, 4).toUpperCase().padEnd(4, '0')}`;
  const triggerId = randomUUID();
  return {
    event: {
      id: randomUUID(),
      event_type: CUSTOM_ACTION_EVENT_TYPE,
      resource_type: 'incident',
      occurred_at: occurredAt,
      agent: { html_url: webUrl(`users/${agent.id}`), id: agent.id, self: apiUrl(`users/${agent.id}`), summary: agent.name, type: 'user_reference' },
      client: null,
      data: {
        id: `PWI${incident.number.toString().padStart(4, '0')}`,
        type: 'incident_workflow_instance',
        summary: `${actionName} on ${incident.id}`,
        incident_workflow: { html_url: webUrl(`incident-workflows/workflows/${workflowId}`), id: workflowId, self: apiUrl(`incident_workflows/${workflowId}`), summary: actionName, type: 'incident_workflow_reference' },
        workflow_trigger: { html_url: null, id: triggerId, self: apiUrl(`incident_workflows/triggers/${triggerId}`), summary: actionName, type: 'workflow_trigger_reference' },
        incident: { html_url: webUrl(`incidents/${incident.id}`), id: incident.id, self: apiUrl(`incidents/${incident.id}`), summary: incident.title, type: 'incident_reference' },
        service: { html_url: webUrl(`service-directory/${SERVICE.id}`), id: SERVICE.id, self: apiUrl(`services/${SERVICE.id}`), summary: SERVICE.name, type: 'service_reference' },
      },
    },
  };
}

/** POSTs one signed webhook and records what was sent and how the receiver answered. No retries. */
export async function deliver(subscription: WebhookSubscription, payload: unknown, options: { forged: boolean }): Promise<WebhookDelivery> {
  const body = JSON.stringify(payload);
  const secrets = options.forged ? [randomBytes(32).toString('base64')] : subscription.secrets;
  const headers = {
    'content-type': 'application/json',
    'x-pagerduty-signature': signatureHeader(body, secrets),
    'x-webhook-id': randomUUID(),
  };
  const delivery: WebhookDelivery = { at: new Date().toISOString(), subscriptionId: subscription.id, url: subscription.url, headers, body, status: 0, forged: options.forged };
  try {
    const response = await fetch(subscription.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
    delivery.status = response.status;
    await response.arrayBuffer();
  } catch (error) {
    delivery.error = (error as Error).message;
  }
  return delivery;
}
