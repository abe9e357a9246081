import { conditionHolds, LONGEST_TEXT_KEPT, textsOf, type CompiledClause } from './conditions';
import type { Getter } from './event-fields';

/** Returned by `decide` when the memo cannot say: the caller matches the event condition by condition. */
export const UNDECIDED = Symbol('undecided');

/**
 * Distinct values one step remembers (a path with more, such as an id, is matched without the memo past them), and
 * steps in all before the memo starts over. A catalog reads a few paths whose values repeat (actions, asset types,
 * event names): the default catalog's memo holds a few dozen steps.
 */
const VALUES_PER_STEP = 256;
const STEPS_KEPT = 4_096;
/** A catalog reading more paths than this is matched without the memo (a walk, and each step built, cost its depth). */
const MOST_PATHS = 32;
/**
 * The memo must pay for itself: over each CHECKED_WALKS events, at most one in MIN_REUSE may build a step (a memo
 * just started may build up to COLD_STEPS in its first). Paths of many values read early (a watchlist of emails…)
 * would otherwise build steps for most events, each costing a pass over the open clauses; past that budget the memo
 * stands aside at once for PAUSED_WALKS events, then tries again from scratch.
 */
const CHECKED_WALKS = 1_024;
const MIN_REUSE = 8;
const COLD_STEPS = 1_024;
const PAUSED_WALKS = 1 << 20;

/** What is known about an event once the paths on the way to this step were read. */
interface Step {
  /** The path to read next; -1 once the outcome is known. */
  slot: number;
  /** Clauses whose conditions on the paths read so far held, with conditions left on paths not read yet. */
  open: CompiledClause[];
  /** The paths read on the way here. */
  read: readonly number[];
  /** Base rules with a clause that held. */
  held: readonly number[];
  /** The step after each value read at `slot`, by the raw value (a string, number or boolean; undefined for anything else). */
  next: Map<unknown, Step>;
  /** At a leaf: the matched rules, as `CompiledRules.match` returns them (shared: callers get a copy). */
  outcome: readonly number[] | undefined;
}

/**
 * A memo of matching decisions, by the raw values an event holds at the paths the rules read, in the order the rules
 * need them: most events match nothing, and the few paths the catalog reads repeat a handful of values, so an
 * event's outcome is a walk of a few map lookups on the strings as parsed, without lower-casing them or checking a
 * condition again. Each step is worked out once, with the conditions' own semantics, the first time its value is seen.
 *
 * Values that are arrays or long texts, and paths with too many distinct values, are left to the caller (`UNDECIDED`).
 */
export class MatchDecisions {
  private root!: Step;
  private steps = 0;
  private walks = 0;
  private built = 0;
  /** Steps the current CHECKED_WALKS events may build. */
  private buildBudget = COLD_STEPS;
  /** Events still to leave to the caller before the memo tries again; -1 when it never does. */
  private paused: number;

  constructor(
    private readonly clauses: CompiledClause[],
    private readonly getters: Getter[],
    private readonly actionSlot: number,
    private readonly readOnly: ReadonlySet<string>,
    /** The outcome for the base rules that held (ascending order and the combined rules they feed), or undefined. */
    private readonly outcomeFor: (held: number[]) => number[] | undefined,
  ) {
    const paths = new Set(clauses.flatMap((clause) => clause.conditions.map((condition) => condition.slot)));
    this.paused = paths.size > MOST_PATHS ? -1 : 0;
    this.reset();
  }

  decide(inner: Record<string, unknown>): readonly number[] | undefined | typeof UNDECIDED {
    if (this.paused !== 0) {
      if (this.paused > 0 && --this.paused === 0) this.reset();
      return UNDECIDED;
    }
    if (++this.walks === CHECKED_WALKS) {
      this.walks = 0;
      this.built = 0;
      this.buildBudget = CHECKED_WALKS / MIN_REUSE;
    }
    let step = this.root;
    while (step.slot >= 0) {
      // The root reads the action, as every event does first: a plain property read, where the call of a path's own
      // getter (a different function at each step) is most of the cost of a read-only event.
      const raw = step === this.root ? inner.action : this.getters[step.slot](inner);
      let key: unknown;
      if (typeof raw === 'string') {
        if (raw.length > LONGEST_TEXT_KEPT) return UNDECIDED;
        key = raw;
      } else if (typeof raw === 'number' || typeof raw === 'boolean') key = raw;
      else if (Array.isArray(raw)) return UNDECIDED;
      let next = step.next.get(key);
      if (next === undefined) {
        if (step.next.size >= VALUES_PER_STEP) return UNDECIDED;
        if (this.built >= this.buildBudget) {
          this.paused = PAUSED_WALKS;
          return UNDECIDED;
        }
        if (this.steps >= STEPS_KEPT) {
          this.reset();
          return UNDECIDED;
        }
        next = this.after(step, raw);
        step.next.set(key, next);
        this.steps++;
        this.built++;
      }
      step = next;
    }
    return step.outcome;
  }

  private reset(): void {
    this.steps = 1;
    this.walks = 0;
    this.built = 0;
    this.buildBudget = COLD_STEPS;
    this.root = { slot: this.actionSlot, open: this.clauses, read: [], held: [], next: new Map(), outcome: undefined };
  }

  /** The step once `raw` is read at `step.slot`. */
  private after(step: Step, raw: unknown): Step {
    const text = textsOf(raw);
    const read = [...step.read, step.slot];
    if (step === this.root && typeof text === 'string' && this.readOnly.has(text)) return this.leaf(read, []);
    const held = [...step.held];
    const stillOpen: CompiledClause[] = [];
    for (const clause of step.open) {
      let holds = true;
      let unread = false;
      for (const condition of clause.conditions) {
        if (condition.slot === step.slot) {
          if (!conditionHolds(condition, text)) {
            holds = false;
            break;
          }
        } else if (!read.includes(condition.slot)) unread = true;
      }
      if (!holds) continue;
      if (unread) stillOpen.push(clause);
      else if (!held.includes(clause.rule)) held.push(clause.rule);
    }
    // A clause of a rule that already matched decides nothing more.
    const open = stillOpen.filter((clause) => !held.includes(clause.rule));
    if (open.length === 0) return this.leaf(read, held);
    return { slot: nextSlot(open, read), open, read, held, next: new Map(), outcome: undefined };
  }

  private leaf(read: readonly number[], held: number[]): Step {
    return { slot: -1, open: [], read, held, next: new Map(), outcome: held.length > 0 ? this.outcomeFor([...held]) : undefined };
  }
}

/** The unread path the most open clauses have a condition on (the lowest on a tie): it settles the most clauses at once. */
function nextSlot(open: CompiledClause[], read: readonly number[]): number {
  const clausesOn = new Map<number, number>();
  for (const clause of open) {
    for (const slot of new Set(clause.conditions.map((condition) => condition.slot))) {
      if (!read.includes(slot)) clausesOn.set(slot, (clausesOn.get(slot) ?? 0) + 1);
    }
  }
  let best = -1;
  for (const [slot, count] of clausesOn) {
    if (best < 0 || count > clausesOn.get(best)! || (count === clausesOn.get(best)! && slot < best)) best = slot;
  }
  return best;
}
