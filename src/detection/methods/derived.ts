import type { RuleSpec } from '../types';

/** Whether a rule decides by a method other than counting its own matches (it has no match of its own to count). */
export function isDerivedRule(rule: RuleSpec): boolean {
  return rule.method !== undefined && rule.method.kind !== 'threshold';
}
