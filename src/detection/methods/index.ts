import { pathGetter, type Getter } from '../event-fields';
import { compileMatch } from '../rules';
import type { RuleSpec } from '../types';
import { BASELINE_LIMITS, Baselines } from './baseline';
import { ImpossibleTravelMethod } from './impossible-travel';
import type { Firing } from './method';
import { MultiRuleMethod } from './multi-rule';
import { NewValueMethod } from './new-value';
import { COUNTRY_FIELD, isLearningAction, personOf, placeOf, type Place } from './person';

export * from './baseline';
export * from './geo';
export * from './impossible-travel';
export * from './method';
export * from './multi-rule';
export * from './new-value';
export * from './person';
export * from './threshold';

export { isDerivedRule } from './derived';

/** A derived rule that fired on an event: its index in the compiled catalog and what it saw. */
export interface MethodHit {
  index: number;
  firing: Firing;
}

interface EventRule<M> {
  index: number;
  method: M;
  /** A custom rule's own `match`, narrowing the events it fires on. */
  applies?: (inner: Record<string, unknown>) => boolean;
}

/**
 * The catalog's derived rules, compiled once, and the two steps the scan takes with them:
 * - `observe`: one event of the learning set or a sensitive event, by a person: the new-value and impossible-travel
 *   rules look at it against the person's baseline as it stood before it, then the baseline learns from it;
 * - `correlate`: an event that crossed rules: the multi-rule rules look at the actor's other crossings.
 * Pure: the baseline is handed in (held by the replay between its runs, or loaded by the live scan from its store).
 */
export class MethodSet {
  private readonly newValue: Array<EventRule<NewValueMethod>> = [];
  private readonly travel: Array<EventRule<ImpossibleTravelMethod>> = [];
  private readonly multi: Array<{ index: number; method: MultiRuleMethod }> = [];
  /** The fields the baseline learns, with how each is read. */
  private readonly fields: Array<{ field: string; read: Getter }> = [];
  /** The longest forget-after of the baseline rules: nothing older is of use. */
  readonly forgetAfterMs: number;

  constructor(rules: readonly RuleSpec[]) {
    const learned = new Set<string>();
    let forget = 0;
    rules.forEach((rule, index) => {
      const method = rule.method;
      if (method === undefined || method.kind === 'threshold') return;
      const applies = rule.anyOf.length > 0 ? compileMatch(rule.anyOf) : undefined;
      if (method.kind === 'new_value') {
        this.newValue.push({ index, method: new NewValueMethod(rule), ...(applies ? { applies } : {}) });
        learned.add(method.field);
        forget = Math.max(forget, method.forgetAfterMs, method.learningMs);
      } else if (method.kind === 'impossible_travel') {
        this.travel.push({ index, method: new ImpossibleTravelMethod(rule), ...(applies ? { applies } : {}) });
        learned.add(COUNTRY_FIELD);
        forget = Math.max(forget, method.forgetAfterMs, method.learningMs);
      } else {
        this.multi.push({ index, method: new MultiRuleMethod(rule, rules) });
      }
    });
    for (const field of learned) this.fields.push({ field, read: pathGetter(field.split('.')) });
    this.forgetAfterMs = forget;
  }

  /** Whether any rule needs a baseline (then the scan reads the learning set and carries baselines). */
  get learns(): boolean {
    return this.fields.length > 0;
  }

  get correlates(): boolean {
    return this.multi.length > 0;
  }

  /** The longest span a correlation rule looks back over (the scan keeps crossing times that long). */
  get correlationMs(): number {
    return this.multi.reduce((max, { method }) => Math.max(max, method.withinMs), 0);
  }

  /** The learned fields (their server-side query needs them to exist). */
  get learnedFields(): string[] {
    return this.fields.map(({ field }) => field);
  }

  private valueOf(field: string, read: Getter, inner: Record<string, unknown>, place: Place | undefined): string | undefined {
    if (field === COUNTRY_FIELD) return place?.country;
    const raw = read(inner);
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return undefined;
    const text = String(raw).trim();
    return text === '' ? undefined : text;
  }

  /**
   * One event (`sensitive`: it counted toward a threshold rule). Returns the derived rules that fired on it, or
   * undefined; the baseline learns from it either way (learning-set events, and a new value that fired).
   */
  observe(inner: Record<string, unknown>, ts: number, sensitive: boolean, baselines: Baselines): MethodHit[] | undefined {
    if (this.fields.length === 0) return undefined;
    const learning = isLearningAction(inner);
    if (!learning && !sensitive) return undefined;
    const person = personOf(inner);
    if (person === undefined) return undefined;
    const place = placeOf(inner);
    let values: Array<string | undefined> | undefined;
    let any = place !== undefined;
    for (let i = 0; i < this.fields.length; i++) {
      const value = this.valueOf(this.fields[i].field, this.fields[i].read, inner, place);
      (values ??= []).push(value);
      if (value !== undefined) any = true;
    }
    if (!any) return undefined;
    const baseline = baselines.get(person);
    let fired: MethodHit[] | undefined;
    for (const { index, method, applies } of this.newValue) {
      if (applies && !applies(inner)) continue;
      const value = values![this.fields.findIndex((f) => f.field === method.field)];
      const firing = method.check({ person, ts, value, sensitive, baseline });
      if (firing) (fired ??= []).push({ index, firing });
    }
    if (place !== undefined) {
      for (const { index, method, applies } of this.travel) {
        if (applies && !applies(inner)) continue;
        const firing = method.check({ person, ts, place, baseline });
        if (firing) (fired ??= []).push({ index, firing });
      }
    }
    // Learning comes after every rule has looked: an event never counts as its own baseline.
    for (let i = 0; i < this.fields.length; i++) {
      const value = values![i];
      if (value === undefined) continue;
      const newHere = fired?.some((hit) => hit.firing.newValue?.field === this.fields[i].field);
      if (learning || newHere) baselines.learn(person, ts, this.fields[i].field, value);
    }
    if (place !== undefined) baselines.locate(person, ts, place);
    return fired;
  }

  /** An event that crossed `crossing` (rule ids): the correlation rules that fire, or undefined. */
  correlate(crossed: Readonly<Record<string, number>>, ts: number, crossing: string[]): MethodHit[] | undefined {
    let fired: MethodHit[] | undefined;
    for (const { index, method } of this.multi) {
      const firing = method.check({ crossed, ts, crossing });
      if (firing) (fired ??= []).push({ index, firing });
    }
    return fired;
  }

  /** A baseline store sized for this catalog. */
  newBaselines(maxPersons: number = BASELINE_LIMITS.persons): Baselines {
    return new Baselines(maxPersons);
  }
}
