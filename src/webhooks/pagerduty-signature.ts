import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Verifies a PagerDuty v3 webhook before anything acts on it (#17: containment approved from PagerDuty).
 *
 * Sources (PagerDuty/developer-docs @ 94224391aa3eac8fa73ea6a6af542dee0613d3e8):
 *  - docs/webhooks/04-Signatures.md: `X-PagerDuty-Signature` holds one or more signatures separated by `,` ("Multiple
 *    signatures may be present to allow for a zero-downtime secret rotation"); version `v1` is the HMAC-SHA256 of the
 *    raw body keyed by the subscription's secret, Base16 (hex); keep only `v1` entries; "If at least one of the signatures
 *    matches" the webhook is authentic; compare in constant time; verify the unaltered raw body, UTF-8.
 *  - docs/webhooks/01-Overview.md: the payload is `{event: {id, event_type, resource_type, occurred_at, agent, client,
 *    data}}`, one event per webhook; `agent` and `client` may be null.
 *  - docs/webhooks/02-Behavior.md: deliveries are retried for up to 48 hours and are at-least-once (de-duplicate on
 *    `X-Webhook-Id`), so a retried delivery carries an old `occurred_at`: the staleness tolerance bounds replays and
 *    late retries alike, and the caller chooses it knowing that.
 * PagerDuty's own verifier (PagerDuty/go-pagerduty webhookv3/webhookv3.go @ 142eaffc) does the same and skips `v1=`
 * entries that are not hex. Nothing here returns or logs a secret or a computed signature.
 */

export const PAGERDUTY_SIGNATURE_HEADER = 'x-pagerduty-signature';

const isoDateTime = z.string().refine((text) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text) && !Number.isNaN(Date.parse(text)), 'an ISO 8601 date-time');

/** A PagerDuty reference (`user_reference`, `service_reference`, …): id and type always, the rest when PagerDuty sends it. */
export const PagerDutyReferenceSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  summary: z.string().nullable().optional(),
  self: z.string().nullable().optional(),
  html_url: z.string().nullable().optional(),
});

/** The v3 webhook envelope of docs/webhooks/01-Overview.md ("Webhook Payload"); `data` depends on `event_type`. */
export const PagerDutyWebhookV3Schema = z.strictObject({
  event: z.strictObject({
    id: z.string().min(1),
    event_type: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'an event type such as incident.triggered'),
    resource_type: z.string().min(1),
    occurred_at: isoDateTime,
    agent: PagerDutyReferenceSchema.nullable(),
    client: z.looseObject({ name: z.string().optional() }).nullable(),
    data: z.looseObject({ type: z.string().min(1) }),
  }),
});

export type PagerDutyWebhookV3 = z.infer<typeof PagerDutyWebhookV3Schema>;

export type RejectionReason = 'unsigned' | 'malformed_signature' | 'signature_mismatch' | 'malformed_body' | 'stale' | 'from_the_future';

export type VerificationResult =
  | { ok: true; webhook: PagerDutyWebhookV3; ageMs: number }
  | { ok: false; reason: RejectionReason; message: string };

export interface VerificationInput {
  /** The request body exactly as received (bytes, or the string decoded as UTF-8), before any JSON parsing. */
  rawBody: Buffer | string;
  /** The `X-PagerDuty-Signature` header as Node gives it (undefined when absent). */
  signatureHeader: string | string[] | undefined;
  /** The subscription's secret; several while this side rotates it (any may match). */
  secrets: string | readonly string[];
  /** The verifier's clock, epoch milliseconds. */
  now: number;
  /** How old (or how far ahead of `now`) `event.occurred_at` may be. */
  toleranceMs: number;
}

const V1_SIGNATURE = /^v1=([0-9a-f]{64})$/i;

function reject(reason: RejectionReason, message: string): VerificationResult {
  return { ok: false, reason, message };
}

function minutes(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** The `v1` signatures of the header, as bytes; entries of other versions are ignored, as the docs say. */
function v1Signatures(header: string): { signatures: Buffer[]; malformedV1: number } {
  const signatures: Buffer[] = [];
  let malformedV1 = 0;
  for (const entry of header.split(',').map((part) => part.trim())) {
    const match = V1_SIGNATURE.exec(entry);
    if (match) signatures.push(Buffer.from(match[1], 'hex'));
    else if (/^v1=/i.test(entry)) malformedV1++;
  }
  return { signatures, malformedV1 };
}

/** Authenticates a v3 webhook, then checks its envelope and its age. Pure: no I/O, the clock is an argument. */
export function verifyPagerDutyWebhook(input: VerificationInput): VerificationResult {
  const header = Array.isArray(input.signatureHeader) ? input.signatureHeader.join(',') : input.signatureHeader;
  if (header === undefined || header.trim() === '') {
    return reject('unsigned', 'The request has no X-PagerDuty-Signature header: it is not a signed PagerDuty v3 webhook (check that the subscription is a v3 webhook subscription and that no proxy strips the header).');
  }
  const { signatures, malformedV1 } = v1Signatures(header);
  if (signatures.length === 0) {
    return reject('malformed_signature', `X-PagerDuty-Signature holds no usable v1 signature (expected "v1=" and 64 hex digits, comma-separated${malformedV1 ? `; ${malformedV1} v1 entr${malformedV1 === 1 ? 'y was' : 'ies were'} not 64 hex digits` : ''}).`);
  }
  const secrets = typeof input.secrets === 'string' ? [input.secrets] : [...input.secrets];
  if (secrets.length === 0 || secrets.some((secret) => secret.length === 0)) {
    return reject('signature_mismatch', 'No webhook secret is configured to verify against: set the subscription\'s secret (PagerDuty shows it once, when the subscription is created).');
  }
  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  const matched = secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(body).digest();
    // Every signature is compared (no early exit on the first), each in constant time.
    return signatures.map((signature) => timingSafeEqual(expected, signature)).includes(true);
  });
  if (!matched) {
    return reject('signature_mismatch', `None of the ${signatures.length} v1 signature(s) matches the body under the ${secrets.length} configured secret(s): the secret is wrong or was rotated, or the body was changed on the way (verify the raw bytes, before any JSON parsing or re-encoding).`);
  }

  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return reject('malformed_body', 'The signature matches but the body is not JSON: this is not a PagerDuty v3 webhook payload.');
  }
  const parsed = PagerDutyWebhookV3Schema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    return reject('malformed_body', `The signature matches but the body is not a v3 webhook envelope {event: {id, event_type, resource_type, occurred_at, agent, client, data}}: ${where}.`);
  }
  const occurredAt = Date.parse(parsed.data.event.occurred_at);
  const ageMs = input.now - occurredAt;
  if (ageMs > input.toleranceMs) {
    return reject('stale', `Event ${parsed.data.event.id} occurred at ${parsed.data.event.occurred_at}, ${minutes(ageMs)} ago, past the ${minutes(input.toleranceMs)} tolerance: a replay, or a delivery PagerDuty retried late (it retries for up to 48 hours). Ask the responder to act again from the incident.`);
  }
  if (-ageMs > input.toleranceMs) {
    return reject('from_the_future', `Event ${parsed.data.event.id} claims to occur at ${parsed.data.event.occurred_at}, ${minutes(-ageMs)} ahead of this clock (tolerance ${minutes(input.toleranceMs)}): check this host's clock (NTP).`);
  }
  return { ok: true, webhook: parsed.data, ageMs };
}
