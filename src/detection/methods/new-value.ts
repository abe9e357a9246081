import type { RuleSpec } from '../types';
import type { PersonBaseline } from './baseline';
import type { DetectionMethod, Firing } from './method';

/** One event of a person as the baseline methods see it, with the baseline as it stood before the event. */
export interface PersonEventInput {
  person: string;
  ts: number;
  /** The event's value of the rule's field (new value), normalized; undefined when the event has none. */
  value?: string;
  /** The event counted toward some threshold rule of the catalog (a sensitive event). */
  sensitive: boolean;
  baseline: PersonBaseline | undefined;
}

type NewValueSpec = Extract<NonNullable<RuleSpec['method']>, { kind: 'new_value' }>;

/** Whether the person's warm-up is over at `ts`: their first learning-set event is at least `learningMs` old. */
export function warmedUp(baseline: PersonBaseline | undefined, ts: number, learningMs: number): baseline is PersonBaseline {
  return baseline !== undefined && ts - baseline.first >= learningMs;
}

/** The values of `field` the baseline still holds at `ts` (seen less than `forgetAfterMs` ago), most recently seen first. */
export function valuesKnown(baseline: PersonBaseline | undefined, field: string, ts: number, forgetAfterMs: number): string[] {
  const values = baseline?.values[field];
  if (!values) return [];
  return values.filter(([, lastSeen]) => ts - lastSeen < forgetAfterMs).sort((a, b) => b[1] - a[1]).map(([value]) => value);
}

/**
 * New value (Datadog Cloud SIEM's method, ElastAlert2's `new_term`): a person's sensitive event whose value of `field`
 * is not in their baseline, once their warm-up is over. A value seen `forgetAfterMs` ago or more has left the baseline
 * (so exactly 28 days later it is new again). The value then joins the baseline (the learning step, not this check).
 */
export class NewValueMethod implements DetectionMethod<PersonEventInput> {
  readonly kind = 'new_value' as const;
  private readonly spec: NewValueSpec;

  constructor(readonly rule: RuleSpec) {
    if (rule.method?.kind !== 'new_value') throw new Error(`rule ${rule.id} is not a new_value rule`);
    this.spec = rule.method;
  }

  get field(): string {
    return this.spec.field;
  }

  check({ ts, value, sensitive, baseline }: PersonEventInput): Firing | undefined {
    if (!sensitive || value === undefined || !warmedUp(baseline, ts, this.spec.learningMs)) return undefined;
    const known = valuesKnown(baseline, this.spec.field, ts, this.spec.forgetAfterMs);
    if (known.includes(value)) return undefined;
    return { rule: this.rule.id, newValue: { rule: this.rule.id, field: this.spec.field, value, seenBefore: known } };
  }
}
