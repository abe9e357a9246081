import { globMatcher } from './glob';
import { scalarText, valueAt } from './event-fields';
import type { MatchClause, RuleSpec } from './types';

interface CompiledCondition {
  segments: string[];
  exact: Set<string>;
  patterns: Array<(text: string) => boolean>;
}

type CompiledClause = CompiledCondition[];

function compileClause(clause: MatchClause): CompiledClause {
  return clause.all.map((condition) => {
    const exact = new Set<string>();
    const patterns: Array<(text: string) => boolean> = [];
    for (const value of condition.values) {
      if (value.includes('*')) patterns.push(globMatcher(value));
      else exact.add(value.toLowerCase());
    }
    return { segments: condition.path.split('.'), exact, patterns };
  });
}

function conditionHolds(condition: CompiledCondition, inner: Record<string, unknown>): boolean {
  const raw = valueAt(inner, condition.segments);
  const candidates = Array.isArray(raw) ? raw : [raw];
  for (const candidate of candidates) {
    const text = scalarText(candidate);
    if (text === undefined) continue;
    if (condition.exact.has(text)) return true;
    for (const pattern of condition.patterns) if (pattern(text)) return true;
  }
  return false;
}

function clauseHolds(clause: CompiledClause, inner: Record<string, unknown>): boolean {
  for (const condition of clause) if (!conditionHolds(condition, inner)) return false;
  return true;
}

/** A predicate over an event's inner attributes that holds when any clause holds, with the rules' matching semantics. */
export function compileMatch(clauses: MatchClause[]): (inner: Record<string, unknown>) => boolean {
  const compiled = clauses.map(compileClause);
  return (inner) => compiled.some((clause) => clauseHolds(clause, inner));
}

/**
 * The enabled rules, compiled. Base rules come first (indexes 0..baseCount-1), combined rules after.
 * `match` returns the indexes of every rule an event counts toward, or undefined for none.
 */
export class CompiledRules {
  readonly rules: RuleSpec[];
  readonly baseCount: number;
  private readonly clauses: CompiledClause[][];
  private readonly feeds: number[][];
  private readonly readOnly: Set<string>;

  constructor(allRules: RuleSpec[], readOnlyActions: string[]) {
    const enabled = allRules.filter((rule) => rule.enabled);
    const base = enabled.filter((rule) => !rule.combines);
    const combined = enabled.filter((rule) => rule.combines);
    this.rules = [...base, ...combined];
    this.baseCount = base.length;
    this.clauses = base.map((rule) => rule.anyOf.map(compileClause));
    this.feeds = base.map((rule) =>
      combined
        .map((c, i) => (c.combines!.includes('*') || c.combines!.includes(rule.id) ? base.length + i : -1))
        .filter((index) => index >= 0),
    );
    this.readOnly = new Set(readOnlyActions.map((action) => action.toLowerCase()));
  }

  match(inner: Record<string, unknown>): number[] | undefined {
    const action = scalarText(inner.action);
    if (action !== undefined && this.readOnly.has(action)) return undefined;
    let matched: number[] | undefined;
    for (let i = 0; i < this.baseCount; i++) {
      const clauses = this.clauses[i];
      for (const clause of clauses) {
        if (clauseHolds(clause, inner)) {
          (matched ??= []).push(i);
          break;
        }
      }
    }
    if (matched === undefined || this.rules.length === this.baseCount) return matched;
    const combinedHit = new Set<number>();
    for (const index of matched) for (const target of this.feeds[index]) combinedHit.add(target);
    for (const target of combinedHit) matched.push(target);
    return matched;
  }

  get maxWindowMs(): number {
    return this.rules.reduce((max, rule) => Math.max(max, rule.windowMs), 0);
  }
}
