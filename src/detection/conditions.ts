import { scalarText } from './event-fields';

/**
 * Values longer than this are matched but never kept by the matcher's caches (the memo of outcomes, the lower-case
 * cache): each holds a few thousand values, so at most a few MB whatever events carry.
 */
export const LONGEST_TEXT_KEPT = 256;

/** One compiled condition of a clause: the lower-cased values it accepts exactly, and its `*` patterns. */
export interface CompiledCondition {
  /** Index of the condition's path in the rules' path table. */
  slot: number;
  exact: Set<string>;
  patterns: Array<(text: string) => boolean>;
}

export interface CompiledClause {
  rule: number;
  conditions: CompiledCondition[];
  /** The condition the clause is filed under in the index (its other conditions are checked after a lookup); -1 if none. */
  key: number;
}

/** The lower-cased text(s) at a path: one string, the scalars of an array, or undefined. */
export type PathText = string | string[] | undefined;

export function textsOf(raw: unknown): PathText {
  if (!Array.isArray(raw)) return scalarText(raw);
  const texts: string[] = [];
  for (const item of raw) {
    const text = scalarText(item);
    if (text !== undefined) texts.push(text);
  }
  return texts;
}

function textHolds(condition: CompiledCondition, text: string): boolean {
  if (condition.exact.has(text)) return true;
  for (const pattern of condition.patterns) if (pattern(text)) return true;
  return false;
}

export function conditionHolds(condition: CompiledCondition, value: PathText): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') return textHolds(condition, value);
  for (const text of value) if (textHolds(condition, text)) return true;
  return false;
}
