import type { RuleSpec } from '../types';
import type { DetectionMethod, Firing } from './method';

export interface CrossingInput {
  /** When the actor last crossed each rule (ActorState.crossed), this event's crossings included. */
  crossed: Readonly<Record<string, number>>;
  ts: number;
  /** The rules this event crossed (any method but multi_rule). */
  crossing: string[];
}

type MultiSpec = Extract<NonNullable<RuleSpec['method']>, { kind: 'multi_rule' }>;

/**
 * Correlation (Elastic's multi-rule, UEBA): an actor crossing a rule while they have crossed other distinct rules within
 * `withinMs`, `minRules` rules in all (the one being crossed included). Rules of any method count but correlation rules
 * themselves. Reads when the actor last crossed each rule (the scan keeps those times for `withinMs`, in the carried
 * state, rather than the hits, which go after the rules' own windows).
 */
export class MultiRuleMethod implements DetectionMethod<CrossingInput> {
  readonly kind = 'multi_rule' as const;
  private readonly spec: MultiSpec;
  private readonly correlationRules: Set<string>;

  constructor(readonly rule: RuleSpec, catalog: readonly RuleSpec[]) {
    if (rule.method?.kind !== 'multi_rule') throw new Error(`rule ${rule.id} is not a multi_rule rule`);
    this.spec = rule.method;
    this.correlationRules = new Set(catalog.filter((r) => r.method?.kind === 'multi_rule').map((r) => r.id));
  }

  get withinMs(): number {
    return this.spec.withinMs;
  }

  /** The distinct rules the actor crossed in (ts − within, ts], the event's own crossings included. */
  crossedWithin({ crossed, ts, crossing }: CrossingInput): string[] {
    const within = new Set(crossing.filter((id) => !this.correlationRules.has(id)));
    for (const id of Object.keys(crossed)) {
      if (!this.correlationRules.has(id) && crossed[id] > ts - this.spec.withinMs && crossed[id] <= ts) within.add(id);
    }
    return [...within];
  }

  check(input: CrossingInput): Firing | undefined {
    if (input.crossing.length === 0) return undefined;
    const crossed = this.crossedWithin(input);
    if (crossed.length < this.spec.minRules) return undefined;
    return { rule: this.rule.id, count: crossed.length };
  }
}
