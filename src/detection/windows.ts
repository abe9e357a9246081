import type { Severity, Tier } from './types';

/** A matched event as kept in the carried state: [epoch ms, hash of the event id]. */
export type Hit = [number, string];

function firstAtOrAfter(hits: Hit[], ts: number): number {
  let lo = 0;
  let hi = hits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hits[mid][0] < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts in timestamp order. Returns false, and changes nothing, when the same event is already there. */
export function insertHit(hits: Hit[], ts: number, idHash: string): boolean {
  const last = hits.length - 1;
  if (last < 0 || hits[last][0] < ts) {
    hits.push([ts, idHash]);
    return true;
  }
  let index = firstAtOrAfter(hits, ts);
  for (let i = index; i < hits.length && hits[i][0] === ts; i++) {
    if (hits[i][1] === idHash) return false;
    index = i + 1;
  }
  hits.splice(index, 0, [ts, idHash]);
  return true;
}

export interface WindowCount {
  count: number;
  /** Timestamp of the earliest hit of that span. */
  start: number;
}

/**
 * The largest number of hits in any span [s, s + windowMs) that contains `ts` (a hit's own time).
 * Appends (ts is the newest hit) take the fast path: the best span is the one ending at ts.
 */
export function busiestSpanContaining(hits: Hit[], ts: number, windowMs: number): WindowCount {
  const firstCandidate = firstAtOrAfter(hits, ts - windowMs + 1);
  if (hits[hits.length - 1][0] === ts) {
    return { count: hits.length - firstCandidate, start: hits[firstCandidate][0] };
  }
  let best: WindowCount = { count: 0, start: ts };
  for (let i = firstCandidate; i < hits.length && hits[i][0] <= ts; i++) {
    const end = firstAtOrAfter(hits, hits[i][0] + windowMs);
    if (end - i > best.count) best = { count: end - i, start: hits[i][0] };
  }
  return best;
}

/** The severity of the highest tier that `count` reaches, or undefined below the threshold. */
export function tierFor(tiers: Tier[], count: number): Severity | undefined {
  let reached: Severity | undefined;
  for (const tier of tiers) if (count >= tier.count) reached = tier.severity;
  return reached;
}

export function countSince(hits: Hit[], ts: number): number {
  return hits.length - firstAtOrAfter(hits, ts);
}

export function dropBefore(hits: Hit[], ts: number): void {
  const cut = firstAtOrAfter(hits, ts);
  if (cut === 0) return;
  // In place, without splice's array of removed elements: this runs for most actors at the end of every run.
  if (cut < hits.length) hits.copyWithin(0, cut);
  hits.length -= cut;
}
