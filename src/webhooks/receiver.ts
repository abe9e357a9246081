import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import { z } from 'zod';
import { approveUpdate, incidentResolvedSignal, type ActionReport, type ApproveRequest } from '../response/messages';
import { responseWorkflowId } from '../response/plan';
import type { IncidentFacts } from './incident-key';
import { PAGERDUTY_SIGNATURE_HEADER, verifyPagerDutyWebhook } from './pagerduty-signature';

/**
 * `audit-spike webhooks`: PagerDuty v3 webhooks in, approvals of containment plans out (#17).
 * A person runs the approve action on an incident; PagerDuty posts a signed `incident.workflow.started` (see
 * sim/pagerduty/webhooks.ts for why that event type). The receiver verifies the signature on the raw body and the age,
 * de-duplicates on X-Webhook-Id (PagerDuty delivers at least once; the Update id is derived from it too, so Temporal
 * de-duplicates as well), finds the incident's dedup key, and sends the response workflow the `approve` Update with the
 * person as the approver. It answers within the 5 s PagerDuty allows: 200 with what was done, or 202 once the Update is
 * accepted and still running.
 */

export const APPROVE_EVENT_TYPE = 'incident.workflow.started';
const MAX_BODY_BYTES = 1024 * 1024;

/** The part of `incident.workflow.started`'s data the receiver reads. */
const WorkflowStartedDataSchema = z.looseObject({
  incident: z.looseObject({ id: z.string().min(1) }),
  incident_workflow: z.looseObject({ summary: z.string().nullable().optional() }).optional(),
  workflow_trigger: z.looseObject({ summary: z.string().nullable().optional() }).optional(),
});

export interface ReceiverOptions {
  client: Client;
  /** Signing secrets of the subscription (two during a rotation); a function when they are known only later. */
  secrets: string[] | (() => string[]);
  toleranceMs: number;
  /** The names of the PagerDuty action that approves a plan; other workflows' webhooks are acknowledged and ignored. */
  approveActions: string[];
  /** A PagerDuty incident's key (its dedup key) and status, or undefined when unknown. */
  incident(incidentId: string): Promise<IncidentFacts | undefined>;
  port?: number;
  host?: string;
  /** How long a request may take before the receiver answers 202 (PagerDuty's limit is 5 s). */
  answerWithinMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startWebhookReceiver(options: ReceiverOptions): Promise<WebhookReceiver> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const answerWithinMs = options.answerWithinMs ?? 4_000;
  /** X-Webhook-Id → the answer given (a redelivery gets the same); bounded. */
  const seen = new Map<string, Answer>();
  const remember = (id: string, answer: Answer) => {
    if (seen.size >= 10_000) seen.delete(seen.keys().next().value!);
    seen.set(id, answer);
  };

  async function approve(rawBody: Buffer, headers: IncomingMessage['headers']): Promise<Answer> {
    const verified = verifyPagerDutyWebhook({ rawBody, signatureHeader: headers[PAGERDUTY_SIGNATURE_HEADER], secrets: typeof options.secrets === 'function' ? options.secrets() : options.secrets, now: now(), toleranceMs: options.toleranceMs });
    if (!verified.ok) {
      const status = verified.reason === 'malformed_body' ? 400 : 401;
      return { status, body: { error: verified.reason, message: verified.message } };
    }
    const { event } = verified.webhook;
    const webhookId = typeof headers['x-webhook-id'] === 'string' ? headers['x-webhook-id'] : event.id;
    const earlier = seen.get(webhookId);
    if (earlier) return { ...earlier, body: { ...earlier.body, duplicate: true } };
    if (event.event_type !== APPROVE_EVENT_TYPE) return { status: 200, body: { ignored: `event type ${event.event_type} approves nothing` } };
    const data = WorkflowStartedDataSchema.safeParse(event.data);
    if (!data.success) return { status: 400, body: { error: 'malformed_body', message: `${APPROVE_EVENT_TYPE} without an incident reference` } };
    const actionName = data.data.incident_workflow?.summary ?? data.data.workflow_trigger?.summary ?? '';
    if (!options.approveActions.includes(actionName)) return { status: 200, body: { ignored: `action "${actionName}" is not the approve action (${options.approveActions.join(', ')})` } };
    const incidentId = data.data.incident.id;
    const found = await options.incident(incidentId);
    if (!found) return { status: 404, body: { error: 'unknown_incident', message: `PagerDuty knows no incident key for ${incidentId}: not an audit-spike incident` } };
    const dedupKey = found.key;
    if (found.status === 'resolved') {
      // The scheduled runs cannot see a resolve in Events mode: tell the plan now, so it refuses every later approval too.
      const detail = `resolved in PagerDuty by a person (seen when ${event.agent?.summary ?? 'someone'} asked to approve)`;
      await options.client.workflow.getHandle(responseWorkflowId(dedupKey)).signal(incidentResolvedSignal, { detail }).catch(() => undefined);
      return { status: 409, body: { error: 'incident_resolved', message: `incident ${incidentId} is resolved in PagerDuty: the plan of a resolved incident cannot be approved`, dedupKey } };
    }
    const request: ApproveRequest = {
      all: true,
      by: { name: event.agent?.summary ?? event.agent?.id ?? 'PagerDuty (no agent)', ...(event.agent?.id ? { id: event.agent.id } : {}) },
      via: 'pagerduty',
      at: new Date(Date.parse(event.occurred_at)).toISOString(),
      incidentId,
    };
    const handle = options.client.workflow.getHandle(responseWorkflowId(dedupKey));
    const deadline = now() + answerWithinMs - 500;
    const timeLeft = () => new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), Math.max(0, deadline - now())).unref());
    try {
      const starting = handle.startUpdate(approveUpdate, { args: [request], updateId: `pagerduty-webhook-${webhookId}`.slice(0, 200), waitForStage: WorkflowUpdateStage.ACCEPTED });
      const update = await Promise.race([starting, timeLeft()]);
      if (update === 'late') {
        // Not yet accepted (the worker is busy or restarting): the Update stays with the workflow; PagerDuty is answered in time.
        starting.then(() => log(`audit-spike webhooks: the approval of ${incidentId} was accepted late`), (error: Error) => log(`audit-spike webhooks: the late approval of ${incidentId} failed: ${error.cause instanceof Error ? error.cause.message : error.message}`));
        return { status: 202, body: { accepted: 'pending', dedupKey, incidentId, approvedBy: request.by } };
      }
      const done = await Promise.race([update.result(), timeLeft()]);
      log(`audit-spike webhooks: ${request.by.name} approved the plan of ${incidentId} (${dedupKey})${done === 'late' ? ' (still running)' : ''}`);
      if (done === 'late') return { status: 202, body: { accepted: true, dedupKey, incidentId, approvedBy: request.by } };
      return { status: 200, body: { dedupKey, incidentId, report: done as ActionReport } };
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) return { status: 409, body: { error: 'refused', message: error.cause?.message ?? error.message, dedupKey } };
      const closed = await handle.describe().then((d) => (d.status.name === 'RUNNING' ? undefined : d.status.name), () => undefined);
      if (closed) return { status: 409, body: { error: 'plan_ended', message: `the containment plan of ${incidentId} has ended (${closed.toLowerCase()}): expired, contained, or its incident was resolved by a person`, dedupKey } };
      if (error instanceof WorkflowNotFoundError) return { status: 404, body: { error: 'no_plan', message: `no containment plan for ${incidentId} (${dedupKey}): containment is off for its org, the actor is protected, or the plan ended`, dedupKey } };
      throw error;
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (answer: Answer) => {
      const body = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/healthz') return send({ status: 200, body: { ok: true } });
    if (req.method !== 'POST') return send({ status: 405, body: { error: 'POST a PagerDuty v3 webhook' } });
    void (async () => {
      const raw = await readBody(req);
      if (!raw) return send({ status: 413, body: { error: 'body too large' } });
      const answer = await approve(raw, req.headers);
      const webhookId = req.headers['x-webhook-id'];
      if (typeof webhookId === 'string' && answer.status < 500 && answer.status !== 401 && !answer.body.duplicate) remember(webhookId, answer);
      if (answer.status >= 400) log(`audit-spike webhooks: refused (${answer.status}): ${String(answer.body.message ?? answer.body.error)}`);
      send(answer);
    })().catch((error: unknown) => {
      log(`audit-spike webhooks: failed: ${(error as Error).message}`);
      if (!res.headersSent) send({ status: 503, body: { error: 'unavailable', message: 'could not reach Temporal or PagerDuty; PagerDuty will retry' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
