import type { RuleSpec } from '../types';
import type { Hits } from '../windows';
import type { DetectionMethod, Firing } from './method';

export interface CrossingInput {
  /** The actor's hits per rule id, the crossing event's included. */
  hits: Record<string, Hits>;
  ts: number;
  /** The rules this event crossed (any method but multi_rule). */
  crossing: string[];
}

type MultiSpec = Extract<NonNullable<RuleSpec['method']>, { kind: 'multi_rule' }>;

/** Index of the first hit at or after ts. */
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

/**
 * Whether the hits of `rule` reached its threshold at some hit in [from, to]: a hit there with at least the lowest tier's
 * count of hits in the window ending at it. Two pointers: linear in the hits of the span.
 */
export function crossedBetween(hits: Hits | undefined, rule: RuleSpec, from: number, to: number): boolean {
  if (hits === undefined || hits.length === 0 || rule.tiers.length === 0) return false;
  const threshold = rule.tiers[0].count;
  const n = hits.length >> 1;
  let j = firstAtOrAfter(hits, from);
  if (j >= n) return false;
  let i = firstAtOrAfter(hits, hits[j << 1] - rule.windowMs + 1);
  for (; j < n && hits[j << 1] <= to; j++) {
    const end = hits[j << 1];
    while (hits[i << 1] <= end - rule.windowMs) i++;
    if (j - i + 1 >= threshold) return true;
  }
  return false;
}

/**
 * Correlation (Elastic's multi-rule, UEBA): an actor crossing a rule while they have crossed other distinct rules within
 * `withinMs`, `minRules` rules in all (the one being crossed included). Rules of any method count but correlation
 * rules themselves. Reads the actor's hits, which the detector keeps for `withinMs` (Detector.horizonMs).
 */
export class MultiRuleMethod implements DetectionMethod<CrossingInput> {
  readonly kind = 'multi_rule' as const;
  private readonly spec: MultiSpec;

  constructor(readonly rule: RuleSpec, private readonly catalog: readonly RuleSpec[]) {
    if (rule.method?.kind !== 'multi_rule') throw new Error(`rule ${rule.id} is not a multi_rule rule`);
    this.spec = rule.method;
  }

  /** The distinct rules the actor crossed in (ts − within, ts], the event's own crossings included. */
  crossedWithin({ hits, ts, crossing }: CrossingInput): string[] {
    const crossed = new Set(crossing);
    for (const rule of this.catalog) {
      if (crossed.has(rule.id) || rule.method?.kind === 'multi_rule') continue;
      if (crossedBetween(hits[rule.id], rule, ts - this.spec.withinMs + 1, ts)) crossed.add(rule.id);
    }
    return [...crossed];
  }

  check(input: CrossingInput): Firing | undefined {
    if (input.crossing.length === 0) return undefined;
    const crossed = this.crossedWithin(input);
    if (crossed.length < this.spec.minRules) return undefined;
    return { rule: this.rule.id, count: crossed.length };
  }
}
