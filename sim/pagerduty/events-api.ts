import { randomBytes } from 'node:crypto';
import { SEVERITIES, urgencyFor, type Severity } from './account';
import { Reply, invalidEvent } from './http';
import type { IncidentStore } from './store';

/**
 * `POST /v2/enqueue` as the Events API v2 documents it. Limits from developer-docs docs/events-API-v2/02-Trigger-Events.md
 * @ d5d64571 (https://developer.pagerduty.com/docs/send-alert-event): a 32-character routing key, `dedup_key` at most 255
 * characters, `payload.summary` at most 1024 characters; 01-Overview.md @ 94224391: payloads at most 512 KB.
 */
export const EVENTS_LIMITS = { routingKeyLength: 32, dedupKeyMax: 255, summaryMax: 1024, payloadMaxBytes: 512 * 1024 } as const;

const accepted = (dedupKey: string) => new Reply(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });

/**
 * The per-routing-key limit ("approximately 120 calls/minute per integration key ... over a 60 second window looking back
 * from the current time", docs/events-API-v2/05-Rate-Limits.md @ dd5097c1). Off (undefined) unless a test sets it.
 */
export class EventsRateLimiter {
  perMinute: number | undefined;
  /** The 429 body is undocumented; `empty` answers with no body, which makes pdjs reject with a JSON parse error. */
  throttleBody: 'json' | 'empty' = 'json';
  private readonly recent = new Map<string, number[]>();

  /** Counts this call; a 429 reply when the key is over its limit (a refused call is not ingested, but still counts). */
  admit(routingKey: string, now: number): Reply | undefined {
    if (this.perMinute === undefined) return undefined;
    const times = (this.recent.get(routingKey) ?? []).filter((t) => t > now - 60_000);
    times.push(now);
    this.recent.set(routingKey, times);
    return times.length > this.perMinute ? throttled(this.throttleBody) : undefined;
  }

  reset(): void {
    this.recent.clear();
  }
}

export function throttled(body: 'json' | 'empty', headers: Record<string, string> = {}): Reply {
  return body === 'empty'
    ? new Reply(429, undefined, headers)
    : new Reply(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.', errors: ['Enhance Your Calm.'] }, headers);
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function payloadErrors(payload: unknown): string[] {
  if (!payload || typeof payload !== 'object') return ["'payload' is missing or not an object"];
  const { summary, source, severity } = payload as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof summary !== 'string' || !summary.trim()) errors.push("'payload.summary' is missing or blank");
  else if (codePoints(summary) > EVENTS_LIMITS.summaryMax) errors.push(`'payload.summary' is too long (${codePoints(summary)} characters; at most ${EVENTS_LIMITS.summaryMax})`);
  if (typeof source !== 'string' || !source.trim()) errors.push("'payload.source' is missing or blank");
  if (!SEVERITIES.includes(severity as Severity)) errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
  return errors;
}

export function enqueue(store: IncidentStore, routingKeys: readonly string[], body: unknown, bodyBytes: number, limiter: EventsRateLimiter): Reply {
  if (bodyBytes > EVENTS_LIMITS.payloadMaxBytes) return invalidEvent(`Event object is too large (${bodyBytes} bytes; at most ${EVENTS_LIMITS.payloadMaxBytes})`);
  const event = (body && typeof body === 'object' ? body : {}) as { routing_key?: unknown; event_action?: unknown; dedup_key?: unknown; payload?: unknown; links?: unknown };
  if (typeof event.routing_key !== 'string') return invalidEvent("'routing_key' is missing");
  if (event.routing_key.length !== EVENTS_LIMITS.routingKeyLength) return invalidEvent("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!routingKeys.includes(event.routing_key)) return invalidEvent('Invalid routing key');
  const limited = limiter.admit(event.routing_key, store.now());
  if (limited) return limited;
  const action = event.event_action;
  if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') {
    return invalidEvent("'event_action' is missing or invalid (must be one of: trigger, acknowledge, resolve)");
  }
  if (event.dedup_key !== undefined && (typeof event.dedup_key !== 'string' || codePoints(event.dedup_key) > EVENTS_LIMITS.dedupKeyMax)) {
    return invalidEvent(`'dedup_key' must be a string of at most ${EVENTS_LIMITS.dedupKeyMax} characters`);
  }
  const now = store.nowIso();
  const givenKey = typeof event.dedup_key === 'string' && event.dedup_key ? event.dedup_key : undefined;

  if (action !== 'trigger') {
    if (!givenKey) return invalidEvent(`'dedup_key' is missing or blank (required for ${action})`);
    // "Acknowledge or resolve events without a currently open alert will not create a new one": accepted, dropped.
    const open = store.openIncident(givenKey);
    if (open) {
      if (action === 'resolve') store.setStatus(open, 'resolved', 'events');
      else if (open.status === 'triggered') store.setStatus(open, 'acknowledged', 'events');
      open.alerts.push({ at: now, event_action: action, payload: event.payload ?? null });
    }
    return accepted(givenKey);
  }

  const errors = payloadErrors(event.payload);
  if (errors.length) return invalidEvent(...errors);
  const payload = event.payload as { summary: string; severity: Severity };
  const dedupKey = givenKey ?? randomBytes(16).toString('hex');
  const alert = { at: now, event_action: 'trigger', payload: event.payload, ...(event.links !== undefined ? { links: event.links } : {}) };
  // "Once the alert is resolved, any further events with the same dedup_key will create a new alert": only an open
  // incident takes the trigger; a key whose incidents are all resolved opens a new one (and pages again).
  const open = store.openIncident(dedupKey);
  if (open) {
    open.alerts.push(alert);
    open.updatedAt = now;
    if (SEVERITIES.indexOf(payload.severity) > SEVERITIES.indexOf(open.severity ?? 'info')) {
      open.severity = payload.severity;
      if (urgencyFor(store.serviceUrgency, payload.severity) === 'high') open.urgency = 'high';
    }
    return accepted(dedupKey);
  }
  const onCall = store.firstOnCall();
  const incident = store.open({
    source: 'events', dedupKey, title: payload.summary, severity: payload.severity, urgency: urgencyFor(store.serviceUrgency, payload.severity),
    status: 'triggered', assignees: onCall, notified: [...onCall],
  });
  incident.alerts.push(alert);
  return accepted(dedupKey);
}
