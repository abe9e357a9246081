import type { MatchClause, RuleSpec } from '../../detection/types';

export const TEN_MINUTES = 10 * 60_000;

/** A default rule and, beside it, its tests as a person would write them under `tests:` (validated when loaded). */
export interface DefaultRule {
  rule: RuleSpec;
  tests: unknown[];
}

export function clause(conditions: Record<string, string | string[]>): MatchClause {
  return { all: Object.entries(conditions).map(([path, value]) => ({ path, values: Array.isArray(value) ? value : [value] })) };
}

/** A test's compact event: `repeat` events by one actor, 30 seconds apart. */
export function events(attributes: Record<string, unknown>, repeat = 1, actor = 'mallory@example.com'): Record<string, unknown> {
  return { actor, attributes, repeat, every: '30s' };
}
