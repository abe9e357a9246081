import type { MethodKind, RuleSpec, Severity } from '../types';

/**
 * The detection methods (catalog v3) behind one small interface, as ElastAlert2 has one class per rule type: a method
 * is built from its rule once, then asked whether the rule fires on one input. Each method reads its own input (hits
 * for `threshold` and `multi_rule`, a person's event and baseline for `new_value` and `impossible_travel`) and never
 * changes it: learning is the baseline's own step, after every method has looked (src/detection/methods/index.ts).
 */
export interface DetectionMethod<Input> {
  readonly kind: MethodKind;
  readonly rule: RuleSpec;
  check(input: Input): Firing | undefined;
}

/** A value a person was not seen with (design.md: `evidence.newValues`). */
export interface NewValueEvidence {
  rule: string;
  field: string;
  value: string;
  /** The values the baseline held for the field, most recently seen first. */
  seenBefore: string[];
}

export interface TravelEnd {
  country: string;
  city?: string;
  timestamp: string;
}

/** Two located events too far apart for the time between them (design.md: `evidence.travel`). */
export interface TravelEvidence {
  from: TravelEnd;
  to: TravelEnd;
  km: number;
  kmh: number;
}

export interface Firing {
  rule: string;
  /** `threshold`: the tier reached and the count in the busiest span. */
  severity?: Severity;
  count?: number;
  newValue?: NewValueEvidence;
  travel?: TravelEvidence;
}
