import type { Detector } from '../src/detection/detector';
import { eventTimestamp } from '../src/detection/event-fields';
import { eventIdHash } from '../src/detection/hash';
import type { AuditEventLike } from '../src/detection/types';
import { nowMs } from './stats';

/**
 * A diagnosis of what the core's ratio to the floor can reach: the least a detection core does with each event,
 * written plainly. Each event's timestamp (as the floor reads it) and the catalog's classification (the shipped
 * matcher); for a sensitive event, its actor (the raw `usr.email`, else `usr.id`, unchecked), its id's hash, and for
 * each rule it counts toward, its time and hash appended and the hits in the rule's window (a binary search) counted
 * against its lowest tier.
 *
 * Left out, though the tool must do them: de-duplication of re-read events, the incident lifecycle, evidence,
 * summaries, suppression, the state carried from run to run, and every memory cap. So a core that does its job
 * cannot be faster than this; the ratio of this to the floor bounds the core's.
 *
 * Returns the milliseconds of one pass over the events, and the crossings seen (so that the work cannot be dropped).
 */
export function bareCorePass(detector: Detector, events: readonly AuditEventLike[]): { ms: number; crossings: number } {
  const { rules } = detector.rules;
  const actors = new Map<string, Map<string, number[]>>();
  let crossings = 0;
  const start = nowMs();
  for (let j = 0; j < events.length; j++) {
    const event = events[j];
    const ts = eventTimestamp(event);
    if (ts !== ts) continue;
    const inner = event.attributes?.attributes as Record<string, unknown> | undefined;
    if (inner === undefined) continue;
    const matched = detector.rules.match(inner);
    if (matched === undefined) continue;
    const usr = inner.usr as { email?: unknown; id?: unknown } | undefined;
    const actor = String(usr?.email ?? usr?.id ?? 'unknown');
    let hitsByRule = actors.get(actor);
    if (hitsByRule === undefined) actors.set(actor, (hitsByRule = new Map()));
    const idHash = eventIdHash(String(event.id));
    for (let m = 0; m < matched.length; m++) {
      const rule = rules[matched[m]];
      let hits = hitsByRule.get(rule.id);
      if (hits === undefined) hitsByRule.set(rule.id, (hits = []));
      hits.push(ts, idHash);
      // The hits in the window ending here, by a binary search for its first (events come in time order).
      const since = ts - rule.windowMs;
      let low = 0;
      let high = hits.length >> 1;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (hits[2 * mid] > since) high = mid;
        else low = mid + 1;
      }
      const count = (hits.length >> 1) - low;
      if (rule.tiers.length > 0 && count >= rule.tiers[0].count) crossings++;
    }
  }
  return { ms: nowMs() - start, crossings };
}
