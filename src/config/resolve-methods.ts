import { COUNTRY_FIELD } from '../detection/methods/person';
import type { MethodKind, RuleMethod } from '../detection/types';

const DAY_MS = 86_400_000;

/** Each method's options when a rule leaves them out (design.md "Default rule catalog v3"). */
export function defaultMethod(kind: MethodKind): RuleMethod {
  switch (kind) {
    case 'threshold': return { kind };
    case 'new_value': return { kind, field: COUNTRY_FIELD, learningMs: 7 * DAY_MS, forgetAfterMs: 28 * DAY_MS };
    case 'impossible_travel': return { kind, minKm: 500, minKmh: 1000, learningMs: 7 * DAY_MS, forgetAfterMs: 28 * DAY_MS };
    case 'multi_rule': return { kind, withinMs: 60 * 60_000, minRules: 3 };
  }
}

