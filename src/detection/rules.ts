import { globMatcher } from './glob';
import { isDerivedRule } from './methods/derived';
import { MatchDecisions, UNDECIDED } from './match-decisions';
import { conditionHolds, LONGEST_TEXT_KEPT, textsOf, type CompiledClause, type CompiledCondition, type PathText } from './conditions';
import { pathGetter, type Getter } from './event-fields';
import type { MatchClause, RuleSpec } from './types';

/** Distinct sets of base rules whose id lists are kept (see `baseRuleIds`). */
const RULE_ID_LISTS_KEPT = 1_024;

/** Paths shared by every condition that reads them, so each is read and lower-cased once per event. */
class PathTable {
  readonly segments: string[][] = [];
  readonly getters: Getter[] = [];
  private readonly slots = new Map<string, number>();

  slot(path: string): number {
    let slot = this.slots.get(path);
    if (slot === undefined) {
      slot = this.segments.length;
      this.slots.set(path, slot);
      this.segments.push(path.split('.'));
      this.getters.push(pathGetter(path.split('.')));
    }
    return slot;
  }
}

/** Lower-cased texts of the values events repeat (actions, asset types…), so each is lower-cased once, not per event. */
class LowerCaseCache {
  private readonly lowered = new Map<string, string>();

  constructor(private readonly capacity = 4096) {}

  of(text: string): string {
    // Long texts are not kept (a few ids or names of kilobytes each would hold megabytes), only lower-cased.
    if (text.length > LONGEST_TEXT_KEPT) return text.toLowerCase();
    let lowered = this.lowered.get(text);
    if (lowered === undefined) {
      // High-cardinality values (ids, emails) would grow the map without end: start over when full.
      if (this.lowered.size >= this.capacity) this.lowered.clear();
      lowered = text.toLowerCase();
      this.lowered.set(text, lowered);
    }
    return lowered;
  }
}

function compileConditions(clause: MatchClause, paths: PathTable): CompiledCondition[] {
  return clause.all.map((condition) => {
    const exact = new Set<string>();
    const patterns: Array<(text: string) => boolean> = [];
    for (const value of condition.values) {
      if (value.includes('*')) patterns.push(globMatcher(value));
      else exact.add(value.toLowerCase());
    }
    return { slot: paths.slot(condition.path), exact, patterns };
  });
}

/** A predicate over an event's inner attributes that holds when any clause holds, with the rules' matching semantics. */
export function compileMatch(clauses: MatchClause[]): (inner: Record<string, unknown>) => boolean {
  const paths = new PathTable();
  const compiled = clauses.map((clause) => compileConditions(clause, paths));
  return (inner) => compiled.some((conditions) => conditions.every((c) => conditionHolds(c, textsOf(paths.getters[c.slot](inner)))));
}

/**
 * The enabled rules, compiled. Base rules come first (indexes 0..baseCount-1), combined rules after, then derived rules
 * (methods other than threshold, which `match` never returns).
 * `match` returns the indexes of every rule an event counts toward, in ascending order, or undefined for none.
 *
 * Most events match nothing, so matching is built for the miss: every clause is filed under one of its exact-valued
 * conditions (by path, then value), each path the index uses is read once per event, and only the clauses filed under
 * that value are checked further. An everyday event costs a few lookups whatever the size of the catalog.
 * Most events also repeat the values of the paths the catalog reads: the outcome for those values is remembered
 * (MatchDecisions), and the index only decides the events the memo leaves undecided (arrays, values past its caps).
 */
export class CompiledRules {
  readonly rules: RuleSpec[];
  readonly baseCount: number;
  /** Base and combined rules (indexes 0..matchableCount-1); derived rules come after. */
  readonly matchableCount: number;
  readonly ruleIds: ReadonlySet<string>;
  private readonly feeds: number[][];
  private readonly readOnly: Set<string>;
  private readonly paths = new PathTable();
  private readonly lowerCase = new LowerCaseCache();
  private readonly actionSlot: number;
  /** Per indexed path slot: lower-cased value → the clauses filed under it. */
  private readonly index: Array<{ slot: number; byValue: Map<string, CompiledClause[]> }> = [];
  /** Clauses with no exact-valued condition (only wildcards): checked for every event. */
  private readonly unindexed: CompiledClause[] = [];
  // Per-event scratch (matching is synchronous, so one set per instance is safe): the text at each path, read lazily.
  private readonly texts: PathText[] = [];
  private readonly readAt: number[] = [];
  private readonly ruleSeen: number[] = [];
  private stamp = 0;
  private readonly ruleIdLists = new Map<number | string, readonly string[]>();
  private readonly decisions: MatchDecisions;

  constructor(allRules: RuleSpec[], readOnlyActions: string[]) {
    const enabled = allRules.filter((rule) => rule.enabled);
    // Derived rules (catalog v3: new value, impossible travel, correlation) match nothing themselves: they come last,
    // and fire through the detector's methods (src/detection/methods/).
    const derived = enabled.filter(isDerivedRule);
    const base = enabled.filter((rule) => !rule.combines && !isDerivedRule(rule));
    const combined = enabled.filter((rule) => rule.combines && !isDerivedRule(rule));
    this.rules = [...base, ...combined, ...derived];
    this.baseCount = base.length;
    this.matchableCount = base.length + combined.length;
    this.ruleIds = new Set(this.rules.map((rule) => rule.id));
    this.feeds = base.map((rule) =>
      combined
        .map((c, i) => (c.combines!.includes('*') || c.combines!.includes(rule.id) ? base.length + i : -1))
        .filter((index) => index >= 0),
    );
    this.readOnly = new Set(readOnlyActions.map((action) => action.toLowerCase()));
    this.actionSlot = this.paths.slot('action');

    const clauses: CompiledClause[] = [];
    base.forEach((rule, ruleIndex) => {
      for (const clause of rule.anyOf) clauses.push({ rule: ruleIndex, conditions: compileConditions(clause, this.paths), key: -1 });
    });
    this.buildIndex(clauses);
    this.decisions = new MatchDecisions(clauses, this.paths.getters, this.actionSlot, this.readOnly, (held) => this.outcome(held));
    for (let slot = 0; slot < this.paths.segments.length; slot++) {
      this.texts.push(undefined);
      this.readAt.push(0);
    }
    for (let i = 0; i < base.length; i++) this.ruleSeen.push(0);
  }

  /** Files each clause under the exact-valued path that the most clauses share (fewest paths to read per event). */
  private buildIndex(clauses: CompiledClause[]): void {
    const sharedBy = new Map<number, number>();
    for (const clause of clauses) {
      for (const slot of new Set(clause.conditions.filter((c) => c.patterns.length === 0).map((c) => c.slot))) {
        sharedBy.set(slot, (sharedBy.get(slot) ?? 0) + 1);
      }
    }
    const bySlot = new Map<number, Map<string, CompiledClause[]>>();
    for (const clause of clauses) {
      let best = -1;
      clause.conditions.forEach((condition, i) => {
        if (condition.patterns.length > 0) return;
        if (best < 0 || sharedBy.get(condition.slot)! > sharedBy.get(clause.conditions[best].slot)!) best = i;
      });
      clause.key = best;
      if (best < 0) {
        this.unindexed.push(clause);
        continue;
      }
      const keyCondition = clause.conditions[best];
      let byValue = bySlot.get(keyCondition.slot);
      if (!byValue) bySlot.set(keyCondition.slot, (byValue = new Map()));
      for (const value of keyCondition.exact) {
        const filed = byValue.get(value);
        if (filed) filed.push(clause);
        else byValue.set(value, [clause]);
      }
    }
    for (const [slot, byValue] of bySlot) this.index.push({ slot, byValue });
  }

  private text(inner: Record<string, unknown>, slot: number): PathText {
    if (this.readAt[slot] === this.stamp) return this.texts[slot];
    this.readAt[slot] = this.stamp;
    const raw = this.paths.getters[slot](inner);
    const value = typeof raw === 'string' ? this.lowerCase.of(raw) : textsOf(raw);
    this.texts[slot] = value;
    return value;
  }

  private clauseHolds(clause: CompiledClause, inner: Record<string, unknown>): boolean {
    const { conditions, key } = clause;
    for (let i = 0; i < conditions.length; i++) {
      if (i !== key && !conditionHolds(conditions[i], this.text(inner, conditions[i].slot))) return false;
    }
    return true;
  }

  private consider(clauses: CompiledClause[], inner: Record<string, unknown>, matched: number[] | undefined): number[] | undefined {
    for (const clause of clauses) {
      if (this.ruleSeen[clause.rule] === this.stamp || !this.clauseHolds(clause, inner)) continue;
      this.ruleSeen[clause.rule] = this.stamp;
      (matched ??= []).push(clause.rule);
    }
    return matched;
  }

  match(inner: Record<string, unknown>): number[] | undefined {
    if (inner === null || typeof inner !== 'object') return this.matchEach(inner);
    const decided = this.decisions.decide(inner);
    if (decided !== UNDECIDED) return decided === undefined ? undefined : decided.slice();
    return this.matchEach(inner);
  }

  /** `match` condition by condition, for the events the memo of decisions leaves undecided. */
  private matchEach(inner: Record<string, unknown>): number[] | undefined {
    // A new stamp forgets the previous event's texts; wrapping after 2^31 events just restarts the count.
    this.stamp = this.stamp === 0x7fffffff ? 1 : this.stamp + 1;
    if (this.stamp === 1) {
      this.readAt.fill(0);
      this.ruleSeen.fill(0);
    }
    const action = this.text(inner, this.actionSlot);
    if (typeof action === 'string' && this.readOnly.has(action)) return undefined;

    let matched: number[] | undefined;
    for (const { slot, byValue } of this.index) {
      const value = this.text(inner, slot);
      if (value === undefined) continue;
      if (typeof value === 'string') {
        const filed = byValue.get(value);
        if (filed) matched = this.consider(filed, inner, matched);
      } else {
        for (const text of value) {
          const filed = byValue.get(text);
          if (filed) matched = this.consider(filed, inner, matched);
        }
      }
    }
    if (this.unindexed.length > 0) matched = this.consider(this.unindexed, inner, matched);
    return matched === undefined ? undefined : this.outcome(matched);
  }

  /** The base rules that held, in ascending order, followed by the combined rules they feed. Sorts `matched` in place. */
  private outcome(matched: number[]): number[] {
    if (matched.length > 1) matched.sort((a, b) => a - b);
    if (this.matchableCount === this.baseCount) return matched;
    const combinedHit = new Set<number>();
    for (const index of matched) for (const target of this.feeds[index]) combinedHit.add(target);
    for (const target of [...combinedHit].sort((a, b) => a - b)) matched.push(target);
    return matched;
  }

  /**
   * The ids of the base rules among `matched` (the indexes `match` returned, with any combined or derived rule after
   * them), as one shared array per distinct set. Each pending evidence record holds its event's list for thousands of
   * events; an array per event was promoted and died old: in a busy window where actors interleave, about half of the
   * scan's promoted bytes (#22). A catalog has few distinct sets in practice; the cache starts over when full.
   */
  baseRuleIds(matched: readonly number[]): readonly string[] {
    const key = this.baseSetKey(matched);
    let ruleIds = this.ruleIdLists.get(key);
    if (ruleIds === undefined) {
      if (this.ruleIdLists.size >= RULE_ID_LISTS_KEPT) this.ruleIdLists.clear();
      const ids: string[] = [];
      for (const index of matched) if (index < this.baseCount) ids.push(this.rules[index].id);
      ruleIds = Object.freeze(ids);
      this.ruleIdLists.set(key, ruleIds);
    }
    return ruleIds;
  }

  /** A key per set of base rules: a bit per rule up to 52 of them (exact in a double), their indexes as text beyond. */
  private baseSetKey(matched: readonly number[]): number | string {
    if (this.baseCount <= 52) {
      let bits = 0;
      for (const index of matched) if (index < this.baseCount) bits += 2 ** index;
      return bits;
    }
    return matched.filter((index) => index < this.baseCount).join(',');
  }

  get maxWindowMs(): number {
    return this.rules.reduce((max, rule) => Math.max(max, rule.windowMs), 0);
  }
}
