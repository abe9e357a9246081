import type { Detector } from '../detection/detector';
import { eventId } from '../detection/event-fields';
import {
  COUNTRY_FIELD, haversineKm, ImpossibleTravelMethod, isLearningAction, NewValueMethod, personOf, placeOf, valuesKnown, warmedUp,
  type Baselines, type PersonBaseline, type Place,
} from '../detection/methods';
import { compileMatch } from '../detection/rules';
import type { ScanWindow } from '../detection/scan';
import type { AuditEventLike, RuleSpec } from '../detection/types';
import { pathGetter } from '../detection/event-fields';

/**
 * Why a catalog v3 baseline rule fired or not on one event of the actor, with the baseline as it stood before the event
 * (the scan looks before it learns):
 * - `fired`: a new value, or impossible travel;
 * - `warm-up`: the person's first learning-set event is younger than the rule's `learning` (or there is none yet);
 * - `known`: the value is in the baseline (new value);
 * - `no-value`: the event has no value of the rule's field (no geoip country, for the default catalog);
 * - `no-previous-location`, `no-coordinates`: impossible travel has nothing to measure from;
 * - `near`, `slow`: the distance or the speed is under `minKm` or `minKmh`;
 * - `both-countries-known`: both ends are countries of the baseline.
 */
export type DerivedOutcome =
  | 'fired' | 'warm-up' | 'known' | 'no-value' | 'no-previous-location' | 'no-coordinates' | 'near' | 'slow' | 'both-countries-known';

export interface DerivedCheck {
  rule: string;
  kind: 'new_value' | 'impossible_travel';
  outcome: DerivedOutcome;
  /** The event's value (new value) or country (impossible travel). */
  value?: string;
  /** The values the baseline held (most recently seen first). */
  seenBefore?: string[];
  /** When the person's warm-up is (or was) over: their first learning-set event plus the rule's `learning`. */
  warmUpEndsAt?: number;
  /** Impossible travel: from where, how far and how fast. */
  from?: string;
  km?: number;
  kmh?: number;
}

/** One event by the actor, counted once (an event read again in the lateness overlap is the same event). */
export interface ActorEvent {
  ts: number;
  /** The index (in `ActorFacts.runs`) of the run that first read it. */
  run: number;
  /** The rules it counted toward: matched, combined, and the baseline rules that fired on it. */
  rules: string[];
  derived: DerivedCheck[];
}

export interface RunSeen {
  scheduledAt: number;
  window: ScanWindow;
  /** The actor's events this run read for the first time, and read again (the lateness overlap). */
  events: number;
  reread: number;
  /** Of `events`, those that counted toward some rule. */
  sensitive: number;
}

/** What the replay showed of one actor: the input of `explainActor` (explain.ts). */
export interface ActorFacts {
  actor: string;
  /** The actor's events, in the order the runs read them (at most MAX_EVENTS; `eventsLeftOut` counts the rest). */
  events: ActorEvent[];
  eventsLeftOut: number;
  /** Only the runs that read an event of the actor. */
  runs: RunSeen[];
  /** The actor is a person (catalog v3: only persons have baselines), when any of their events said. */
  person?: boolean;
  /** The person's baseline at their last event (catalog v3), as it stood before it. */
  baseline?: { since: number; countries: string[] };
  /** Actors seen whose id contains the one asked for (when it was not seen itself: a typo, another spelling). */
  similar: string[];
  /** The baseline rules ran (the catalog has one and the replay carried baselines). */
  baselineRules: boolean;
}

/** Enough events to explain any tier of the catalog many times over; beyond it only the count grows. */
const MAX_EVENTS = 100_000;
const MAX_SIMILAR = 5;

interface DerivedRule {
  rule: RuleSpec;
  applies?: (inner: Record<string, unknown>) => boolean;
  newValue?: NewValueMethod;
  travel?: ImpossibleTravelMethod;
  read?: (inner: Record<string, unknown>) => unknown;
}

/**
 * Watches a replay (the dry run's or the backtest's scans, through ScanContext.watch) for one actor's events. No I/O:
 * fed by the replay, it only keeps facts, bounded by MAX_EVENTS.
 */
export class ActorWatch {
  private readonly facts: ActorFacts;
  private readonly wanted: string;
  private readonly seenIds = new Set<string>();
  private readonly similar = new Set<string>();
  private readonly derivedRules: DerivedRule[] = [];
  private current: RunSeen | undefined;
  private baselines: Baselines | undefined;

  constructor(private readonly detector: Detector, actor: string) {
    this.wanted = actor.trim().toLowerCase();
    this.facts = { actor: actor.trim(), events: [], eventsLeftOut: 0, runs: [], similar: [], baselineRules: false };
    for (const rule of detector.rules.rules) {
      const method = rule.method;
      if (method?.kind !== 'new_value' && method?.kind !== 'impossible_travel') continue;
      const applies = rule.anyOf.length > 0 ? compileMatch(rule.anyOf) : undefined;
      this.derivedRules.push({
        rule,
        ...(applies ? { applies } : {}),
        ...(method.kind === 'new_value'
          ? { newValue: new NewValueMethod(rule), read: pathGetter(method.field.split('.')) }
          : { travel: new ImpossibleTravelMethod(rule) }),
      });
    }
  }

  /** Forgets what was watched: a replay that started over (a file found out of order is replayed again from its index). */
  reset(): void {
    this.facts.events = [];
    this.facts.eventsLeftOut = 0;
    this.facts.runs = [];
    delete this.facts.person;
    delete this.facts.baseline;
    this.seenIds.clear();
    this.similar.clear();
    this.current = undefined;
  }

  /** A scan starts: the run it belongs to and the baselines it reads (the same object across the replay's runs). */
  run(scheduledAt: number, window: ScanWindow, baselines: Baselines | undefined): void {
    if (this.current && this.current.scheduledAt === scheduledAt) {
      this.current.window = { ...this.current.window, to: window.to };
    } else this.current = { scheduledAt, window: { ...window }, events: 0, reread: 0, sensitive: 0 };
    this.baselines = baselines;
    this.facts.baselineRules = baselines !== undefined && this.derivedRules.length > 0;
  }

  /** For ScanContext.watch: called with each event of the window before the scan folds it. */
  readonly watch = (event: AuditEventLike, inner: Record<string, unknown>, ts: number): void => {
    const actor = this.detector.actors.resolve(inner).id;
    const lower = actor.toLowerCase();
    if (lower !== this.wanted) {
      if (this.similar.size < MAX_SIMILAR && this.wanted.length >= 3 && lower.includes(this.wanted.split('@')[0])) this.similar.add(actor);
      return;
    }
    if (this.facts.actor !== actor) this.facts.actor = actor;
    const run = this.current;
    if (!run) return;
    if (!this.facts.runs.includes(run)) this.facts.runs.push(run);
    const id = eventId(event) ?? `${ts}|${JSON.stringify(inner).slice(0, 200)}`;
    if (this.seenIds.has(id)) {
      run.reread++;
      return;
    }
    this.seenIds.add(id);
    run.events++;
    const matched = this.detector.rules.match(inner);
    const rules = (matched ?? []).map((index) => this.detector.rules.rules[index].id);
    const derived = this.checkDerived(inner, ts, matched !== undefined);
    for (const check of derived) if (check.outcome === 'fired') rules.push(check.rule);
    if (rules.length > 0) run.sensitive++;
    if (this.facts.events.length >= MAX_EVENTS) {
      this.facts.eventsLeftOut++;
      return;
    }
    this.facts.events.push({ ts, run: this.facts.runs.indexOf(run), rules, derived });
  };

  /** What the baseline rules saw in the event, as MethodSet.observe would (same conditions, same methods). */
  private checkDerived(inner: Record<string, unknown>, ts: number, sensitive: boolean): DerivedCheck[] {
    const baselines = this.baselines;
    if (baselines === undefined || this.derivedRules.length === 0) return [];
    const learning = isLearningAction(inner);
    if (!learning && !sensitive) return [];
    const person = personOf(inner);
    this.facts.person = person !== undefined;
    if (person === undefined) return [];
    const place = placeOf(inner);
    const baseline = baselines.get(person);
    if (baseline) this.facts.baseline = { since: baseline.first, countries: valuesKnown(baseline, COUNTRY_FIELD, ts, Infinity) };
    const checks: DerivedCheck[] = [];
    for (const derived of this.derivedRules) {
      if (derived.applies && !derived.applies(inner)) continue;
      if (derived.newValue && sensitive) checks.push(this.checkNewValue(derived, derived.newValue, inner, ts, place, baseline, person));
      if (derived.travel && place !== undefined) checks.push(this.checkTravel(derived.rule, derived.travel, ts, place, baseline, person));
    }
    return checks;
  }

  private checkNewValue(
    derived: DerivedRule, method: NewValueMethod, inner: Record<string, unknown>, ts: number, place: Place | undefined, baseline: PersonBaseline | undefined, person: string,
  ): DerivedCheck {
    const spec = derived.rule.method as Extract<RuleSpec['method'], { kind: 'new_value' }>;
    const raw = spec.field === COUNTRY_FIELD ? place?.country : derived.read!(inner);
    const value = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw).trim() || undefined : undefined;
    const base = { rule: derived.rule.id, kind: 'new_value' as const, ...(value !== undefined ? { value } : {}), ...warmUp(baseline, spec.learningMs) };
    const seenBefore = valuesKnown(baseline, spec.field, ts, spec.forgetAfterMs);
    if (method.check({ person, ts, ...(value !== undefined ? { value } : {}), sensitive: true, baseline })) return { ...base, outcome: 'fired', seenBefore };
    if (value === undefined) return { ...base, outcome: 'no-value' };
    if (!warmedUp(baseline, ts, spec.learningMs)) return { ...base, outcome: 'warm-up' };
    return { ...base, outcome: 'known', seenBefore };
  }

  private checkTravel(rule: RuleSpec, method: ImpossibleTravelMethod, ts: number, place: Place, baseline: PersonBaseline | undefined, person: string): DerivedCheck {
    const spec = rule.method as Extract<RuleSpec['method'], { kind: 'impossible_travel' }>;
    const base = { rule: rule.id, kind: 'impossible_travel' as const, value: place.country, ...warmUp(baseline, spec.learningMs) };
    const last = baseline?.last;
    const measured = last && last.lat !== undefined && last.lon !== undefined && place.lat !== undefined && place.lon !== undefined
      ? (() => {
          const km = haversineKm(last.lat!, last.lon!, place.lat!, place.lon!);
          return { from: last.city ? `${last.city}, ${last.country}` : last.country, km: Math.round(km), kmh: Math.round(km / (Math.max(ts - last.ts, 1000) / 3_600_000)) };
        })()
      : undefined;
    const withTrip = { ...base, ...(measured ?? {}) };
    if (method.check({ person, ts, place, baseline })) return { ...withTrip, outcome: 'fired' };
    if (!warmedUp(baseline, ts, spec.learningMs)) return { ...withTrip, outcome: 'warm-up' };
    if (last === undefined) return { ...base, outcome: 'no-previous-location' };
    if (measured === undefined) return { ...base, outcome: 'no-coordinates' };
    if (!(measured.km > spec.minKm)) return { ...withTrip, outcome: 'near' };
    if (!(measured.kmh > spec.minKmh)) return { ...withTrip, outcome: 'slow' };
    return { ...withTrip, outcome: 'both-countries-known', seenBefore: valuesKnown(baseline, COUNTRY_FIELD, ts, spec.forgetAfterMs) };
  }

  /** The facts gathered so far. */
  result(): ActorFacts {
    return { ...this.facts, similar: this.facts.events.length === 0 && this.facts.runs.length === 0 ? [...this.similar] : [] };
  }
}

function warmUp(baseline: PersonBaseline | undefined, learningMs: number): { warmUpEndsAt?: number } {
  return baseline ? { warmUpEndsAt: baseline.first + learningMs } : {};
}
