import type { PagerDutyTarget } from '../../config/args-schema';
import type { IncidentSummary } from '../../detection/summary';
import { EVENTS_PAYLOAD_MAX_BYTES, EVENTS_SUMMARY_MAX_CHARS, cutToCharacters, jsonBytes } from './text-limits';

/** The burst's facts as PagerDuty custom details (Events) or the tail of the incident body (REST). */
export function customDetails(summary: IncidentSummary) {
  return {
    actor: summary.actor,
    ...(summary.actorName ? { actor_name: summary.actorName } : {}),
    org: summary.orgId,
    rules_crossed: summary.rules,
    counts: summary.counts,
    events: summary.events,
    first_seen: summary.firstSeen,
    last_seen: summary.lastSeen,
    late: summary.late,
    evidence: summary.evidence,
    links: summary.links,
    ...(summary.runbooks.length ? { runbooks: summary.runbooks } : {}),
    details: summary.body,
  };
}

/** Headroom for the envelope around custom details (routing key, links, JSON punctuation). */
const ENVELOPE_BYTES = 8 * 1024;

/**
 * An Events API v2 trigger for this burst that PagerDuty accepts: the summary cut to 1024 characters and the whole body
 * within 512 KB. Custom details go first when it is too big: the rendered body is cut, then only the facts are kept.
 */
export function triggerEvent(target: Extract<PagerDutyTarget, { mode: 'events' }>, routingKey: string, summary: IncidentSummary) {
  const details: Record<string, unknown> = customDetails(summary);
  const event = {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: summary.dedupKey,
    payload: {
      summary: cutToCharacters(summary.title, EVENTS_SUMMARY_MAX_CHARS),
      source: target.source,
      severity: summary.severity,
      timestamp: summary.lastSeen,
      component: 'datadog-audit-trail',
      group: summary.orgId,
      class: summary.rules.join(','),
      custom_details: details,
    },
    // The actor's events first (PagerDuty shows links in order), then one query per rule crossed and the settings pages.
    links: summary.links.length ? summary.links : [{ href: summary.link, text: 'Datadog Audit Trail for this actor' }],
  };
  const size = jsonBytes(event);
  if (size <= EVENTS_PAYLOAD_MAX_BYTES) return event;
  // Bytes over the limit, as characters of the body (a character is at least one byte, so this cut is enough or more).
  const bodyChars = Math.max(0, Array.from(summary.body).length - (size - EVENTS_PAYLOAD_MAX_BYTES) - ENVELOPE_BYTES);
  details.details = cutToCharacters(summary.body, bodyChars);
  details.truncated = 'details cut to fit PagerDuty\'s 512 KB event limit; the full text is in the Audit Trail link';
  if (jsonBytes(event) <= EVENTS_PAYLOAD_MAX_BYTES) return event;
  event.payload.custom_details = {
    actor: cutToCharacters(summary.actor, 1024), org: summary.orgId, events: summary.events, first_seen: summary.firstSeen, last_seen: summary.lastSeen,
    truncated: 'custom details dropped to fit PagerDuty\'s 512 KB event limit; see the Audit Trail link',
  };
  event.links = [{ href: cutToCharacters(summary.link, 8 * 1024), text: 'Datadog Audit Trail for this actor' }];
  return event;
}
