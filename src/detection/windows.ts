import type { Severity, Tier } from './types';

/**
 * One actor's matched events for one rule, in time order, flattened as `[ts0, id0, ts1, id1, …]`: epoch ms and the
 * 52-bit hash of the event id (`eventIdHash`). A flat array of numbers is one object per actor and rule instead of two
 * per event, so a burst of hundreds of thousands of events folds without feeding the garbage collector.
 */
export type Hits = number[];

/** How many events `hits` holds. */
export function hitCount(hits: Hits): number {
  return hits.length >> 1;
}

/** The timestamp of the i-th event. */
export function hitTime(hits: Hits, i: number): number {
  return hits[i << 1];
}

/** The id hash of the i-th event. */
export function hitId(hits: Hits, i: number): number {
  return hits[(i << 1) + 1];
}

/** Index (in events) of the first hit at or after ts. */
function firstAtOrAfter(hits: Hits, ts: number): number {
  let lo = 0;
  let hi = hits.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hits[mid << 1] < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts in timestamp order. Returns false, and changes nothing, when the same event is already there. */
export function insertHit(hits: Hits, ts: number, id: number): boolean {
  const n = hits.length;
  if (n === 0 || hits[n - 2] < ts) {
    hits.push(ts, id);
    return true;
  }
  let index = firstAtOrAfter(hits, ts) << 1;
  for (; index < n && hits[index] === ts; index += 2) if (hits[index + 1] === id) return false;
  hits.splice(index, 0, ts, id);
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
export function busiestSpanContaining(hits: Hits, ts: number, windowMs: number): WindowCount {
  const count = hits.length >> 1;
  const firstCandidate = firstAtOrAfter(hits, ts - windowMs + 1);
  if (hits[hits.length - 2] === ts) {
    return { count: count - firstCandidate, start: hits[firstCandidate << 1] };
  }
  let best: WindowCount = { count: 0, start: ts };
  for (let i = firstCandidate; i < count && hits[i << 1] <= ts; i++) {
    const end = firstAtOrAfter(hits, hits[i << 1] + windowMs);
    if (end - i > best.count) best = { count: end - i, start: hits[i << 1] };
  }
  return best;
}

/** The severity of the highest tier that `count` reaches, or undefined below the threshold. */
export function tierFor(tiers: Tier[], count: number): Severity | undefined {
  let reached: Severity | undefined;
  for (const tier of tiers) if (count >= tier.count) reached = tier.severity;
  return reached;
}

export function countSince(hits: Hits, ts: number): number {
  return (hits.length >> 1) - firstAtOrAfter(hits, ts);
}

export function dropBefore(hits: Hits, ts: number): void {
  dropOldest(hits, firstAtOrAfter(hits, ts));
}

/** Removes the `count` oldest hits, in place: this runs for most actors at the end of every run. */
export function dropOldest(hits: Hits, count: number): void {
  if (count <= 0) return;
  const cut = count << 1;
  if (cut < hits.length) hits.copyWithin(0, cut);
  hits.length = Math.max(0, hits.length - cut);
}
