import type { RuleSpec } from '../types';
import { busiestSpanContaining, tierFor, type Hits } from '../windows';
import type { DetectionMethod, Firing } from './method';

export interface ThresholdInput {
  /** The actor's hits of this rule, the event at `ts` included. */
  hits: Hits;
  ts: number;
}

/** Today's method: at least `count` matching events by the actor inside some span of `window` containing `ts`. */
export class ThresholdMethod implements DetectionMethod<ThresholdInput> {
  readonly kind = 'threshold' as const;
  constructor(readonly rule: RuleSpec) {}

  check({ hits, ts }: ThresholdInput): (Firing & { start: number }) | undefined {
    if (hits === undefined || hits.length === 0) return undefined;
    const span = busiestSpanContaining(hits, ts, this.rule.windowMs);
    const severity = tierFor(this.rule.tiers, span.count);
    return severity === undefined ? undefined : { rule: this.rule.id, severity, count: span.count, start: span.start };
  }
}
