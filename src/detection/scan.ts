import { UNKNOWN_ACTOR } from './actor';
import type { Detector } from './detector';
import { eventId, eventTimestamp, innerAttributes, scalarText, valueAt } from './event-fields';
import { addEventEvidence, addFactsEvidence, emptyEvidence, eventFacts, type DerivedEvidence, type EvidenceState } from './evidence';
import { packPersons, unpackPersons, type Baselines, type MethodHit, type PackedBaselines } from './methods';
import { PendingEvidence } from './pending-evidence';
import { eventIdHash, hash64 } from './hash';
import { unpackState } from './packed-state';
import { isPackedState, upgradeState, type ActorState, type CarriedState, type IncidentState, type StoredState } from './state';
import { summarize, type IncidentSummary } from './summary';
import { suppressionFor } from './suppression';
import { higherSeverity, severityRank, type AuditEventLike, type Severity } from './types';
import { LargestValues } from './select';
import { busiestSpanContaining, countSince, dropBefore, dropOldest, hitCount, tierFor, type Hits } from './windows';
import { HitsPool } from './hits-pool';

/** The span one scan reads: [readFrom, to). Events in [readFrom, from) were read before and are re-read for late arrivals. */
export interface ScanWindow {
  readFrom: number;
  from: number;
  to: number;
}

export interface ScanContext {
  orgId: string;
  window: ScanWindow;
  /** When the run was due; with lateAfterMs, decides whether a burst is reported as late. */
  runAt: number;
  lateAfterMs: number;
  /**
   * Catalog v3: the persons' baselines, as they stand before this scan; the scan reads and teaches them in place (the
   * replay keeps one across its runs; the live scan loads the org's from its store and hands the changes back). Without
   * it the baseline rules (new value, impossible travel) never fire.
   */
  baselines?: Baselines;
  /**
   * Sees each event of the window before the scan folds it (and before the baselines learn from it): the dry run's and
   * the backtest's `--explain`. Never set live.
   */
  watch?: (event: AuditEventLike, inner: Record<string, unknown>, ts: number) => void;
}

export interface ScanCounters {
  read: number;
  matched: number;
  skipped: number;
  duplicates: number;
  unknownActor: number;
  outOfRange: number;
}

export interface ClosedIncident {
  actor: string;
  name?: string;
  incident: IncidentState;
}

/** Everything a scan needs to continue after a crash: small, JSON, and a consistent snapshot. */
export interface ScanProgress {
  state: StoredState;
  counters: ScanCounters;
  touched: string[];
  closed: ClosedIncident[];
  /**
   * Before #26, the actors whose suppressed burst this scan opened (only those were reported). Ignored now: the carried
   * incident's `reported` decides; kept optional so that a checkpoint of an earlier worker still resumes.
   */
  suppressed?: string[];
  /** Catalog v3: the persons this scan has taught so far, packed, so a resumed scan does not lose what it learned. */
  baselines?: PackedBaselines;
}

export interface IncidentAction {
  kind: 'trigger' | 'update' | 'resolve';
  summary: IncidentSummary;
  /**
   * The severity PagerDuty was told for this burst before this scan (absent when it was never told): a rise above it
   * pages again. On the action, so the workflow never reads the carried state (which crosses it packed).
   */
  notifiedSeverity?: Severity;
}

export interface SuppressedBurst {
  actor: string;
  /**
   * The burst's dedup key, as its incident would have: a burst spanning several runs is reported by each run that saw
   * it grow, and the reports of one burst merge by this key, the last wins (`mergeSuppressed`). Absent in the results
   * of scans before #26.
   */
  dedupKey?: string;
  reason: string;
  severity: Severity;
  events: number;
  firstSeen: string;
  lastSeen: string;
}

export interface ScanResult {
  state: CarriedState;
  counters: ScanCounters;
  actions: IncidentAction[];
  suppressed: SuppressedBurst[];
  /** Matched events whose evidence material a cap let go before their actor's burst opened (counts are unaffected). */
  evidenceEvicted: number;
}

export function zeroCounters(): ScanCounters {
  return { read: 0, matched: 0, skipped: 0, duplicates: 0, unknownActor: 0, outOfRange: 0 };
}

/**
 * Evidence material kept per actor without an open incident, for a burst that opens later in the scan (see
 * PendingEvidence): a few capped texts per event, never the event. The caps bound a scan's memory whatever the window
 * holds: at most 16 records per actor (a burst's first events before it crosses: the highest lowest tier of the
 * catalog is 5) and 5,000 in all, about 2.3 KB each as measured (bench/scan-profile, test/unit/pending-evidence), so at
 * most about 12 MB per scan.
 */
export const PENDING_LIMITS = { perActor: 16, perScan: 5_000 } as const;

/**
 * Pages come in timestamp order, so a hit older than the newest event read by more than the horizon can no longer
 * share a window with any event still to come: a scan drops such hits as it goes (and actors left with nothing),
 * rather than at its end, so a long window costs what its busiest horizon holds, not what the whole window held.
 * The margin tolerates events out of order by up to this much; `finish()` drops the same hits anyway.
 */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/**
 * Passes trimming expired hits per horizon of event time. Between two passes the hits of one more interval pile up, so
 * a scan holds at most horizon × (1 + 1 / TRIMS_PER_HORIZON) + margin of them: the one pass per horizon that also drops
 * actors held 25 minutes of a busy window's hits for the default catalog; with these in between, 17.5. A pass visits
 * each actor under watch once. Only that once-per-horizon pass removes actors and emptied rules, so the order in which
 * actors (and so a run's incidents) come is what it was.
 */
const TRIMS_PER_HORIZON = 4;

function fallbackEventId(ts: number, inner: Record<string, unknown>): string {
  const parts = [ts, scalarText(inner.action), scalarText(valueAt(inner, ['asset', 'type'])), scalarText(valueAt(inner, ['asset', 'id'])),
    scalarText(valueAt(inner, ['usr', 'id'])), scalarText(valueAt(inner, ['usr', 'email']))];
  return `synthetic:${parts.join('|')}`;
}

/**
 * Folds one window of audit events into the carried state, in any page order, and decides what to tell PagerDuty.
 * Pure: the same state and events give the same result, whether they come from Datadog, a file or a test.
 *
 * A scan takes over the state it starts from and changes it in place (a run costs what it reads, not a copy of what it
 * carries); the result's state is that same object. Whoever needs the state as it was keeps a copy.
 */
export class Scan {
  private readonly state: CarriedState;
  private readonly counters: ScanCounters;
  private readonly touched: Set<string>;
  private readonly closed: ClosedIncident[];
  private readonly pending = new PendingEvidence(PENDING_LIMITS);
  private readonly hitsPool = new HitsPool();
  /** Actors whose incident this scan opened: events read again in the overlap still belong to its evidence. */
  private readonly openedHere = new Set<string>();
  /** The newest event time folded, and the event times of the last passes dropping expired hits (see TRIMS_PER_HORIZON). */
  private newestTs = -Infinity;
  private sweptAt = -Infinity;
  private trimmedAt = -Infinity;
  /**
   * No hit the scan holds is older than this: the run before left none before its window's end minus the horizon (the
   * watermark this scan starts from; a horizon shortened since then only delays those hits' drop to the next sweep),
   * and this scan adds none before `readFrom`. A trim pass with a cutoff at or before it has nothing to drop, and is
   * skipped: with the default 5-minute interval, every pass of a scheduled run would be, yet each visited every actor.
   */
  private readonly noHitBefore: number;

  private constructor(private readonly detector: Detector, private readonly context: ScanContext, progress: ScanProgress) {
    this.state = isPackedState(progress.state) ? unpackState(progress.state) : upgradeState(progress.state);
    // Actor ids come from event data: with no prototype, a plain lookup is enough even for ids such as "constructor"
    // or "__proto__" (JSON and Temporal treat the object as before).
    if (Object.getPrototypeOf(this.state.actors) !== null) Object.setPrototypeOf(this.state.actors, null);
    this.counters = progress.counters;
    this.touched = new Set(progress.touched);
    this.closed = progress.closed;
    const watermark = this.state.watermark;
    this.noHitBefore = Number.isFinite(watermark) ? Math.min(watermark - detector.horizonMs, context.window.readFrom) : -Infinity;
    if (progress.baselines !== undefined && context.baselines !== undefined) context.baselines.mergeChanged(unpackPersons(progress.baselines));
  }

  /** Starts from the previous run's state, taking it over: the scan changes it in place. */
  static start(detector: Detector, context: ScanContext, state: StoredState): Scan {
    return new Scan(detector, context, { state, counters: zeroCounters(), touched: [], closed: [] });
  }

  /** Continues from a snapshot of `progress()`, taking it over (pass a fresh copy, e.g. just parsed). */
  static resume(detector: Detector, context: ScanContext, progress: ScanProgress): Scan {
    return new Scan(detector, context, progress);
  }

  /** A consistent snapshot to checkpoint with the page cursor. It is the scan's live state: serialize it before the next `add`. */
  progress(): ScanProgress & { state: CarriedState } {
    return {
      state: this.state,
      counters: this.counters,
      touched: [...this.touched],
      closed: this.closed,
      ...(this.context.baselines !== undefined ? { baselines: packPersons(this.context.baselines.peekDelta()) } : {}),
    };
  }

  /** Distinct events this scan has counted toward some rule (each holds at least one hit in the state). */
  get matchedSoFar(): number {
    return this.counters.matched;
  }

  private actor(id: string): ActorState {
    const actors = this.state.actors;
    const found = actors[id];
    if (found !== undefined) return found;
    return (actors[id] = { hits: {} });
  }

  add(event: AuditEventLike): void {
    this.counters.read++;
    const inner = innerAttributes(event);
    const ts = eventTimestamp(event);
    if (inner === undefined || ts !== ts) {
      this.counters.skipped++;
      return;
    }
    const window = this.context.window;
    if (ts < window.readFrom || ts >= window.to) {
      this.counters.outOfRange++;
      return;
    }
    this.context.watch?.(event, inner, ts);
    let matched = this.detector.rules.match(inner);
    // Catalog v3: a person's learning-set or sensitive event is looked at against their baseline, which then learns.
    const baselines = this.context.baselines;
    const derived = baselines !== undefined ? this.detector.methods.observe(inner, ts, matched !== undefined, baselines) : undefined;
    if (derived !== undefined) matched = withDerived(matched, derived);
    if (matched === undefined) return;
    if (ts > this.newestTs) {
      this.newestTs = ts;
      const horizonMs = this.detector.horizonMs;
      if (this.sweptAt === -Infinity) this.sweptAt = this.trimmedAt = ts;
      else if (ts - this.sweptAt > horizonMs) {
        this.sweptAt = this.trimmedAt = ts;
        this.dropExpired(ts - horizonMs - EXPIRY_MARGIN_MS, true);
      } else if (ts - this.trimmedAt > horizonMs / TRIMS_PER_HORIZON) {
        this.trimmedAt = ts;
        const cutoff = ts - horizonMs - EXPIRY_MARGIN_MS;
        if (cutoff > this.noHitBefore) this.dropExpired(cutoff, false);
      }
    }
    this.fold(event, inner, ts, matched, derived && derivedEvidence(derived));
  }

  /**
   * Drops hits before `cutoff` and, with `removeEmptied`, the rules and actors left with neither hits nor an incident:
   * what `finish()` would drop too (its cutoff, the window's end minus the horizon, is later). One pass over the actors.
   */
  private dropExpired(cutoff: number, removeEmptied: boolean): void {
    const actors = this.state.actors;
    for (const id in actors) {
      const actorState = actors[id];
      const hits = actorState.hits;
      let kept = false;
      for (const ruleId in hits) {
        const ruleHits = hits[ruleId];
        // The pool may put the hits left into another array (then read again).
        if (ruleHits.length > 0 && ruleHits[0] < cutoff) this.hitsPool.trim(hits, ruleId, cutoff);
        if (hits[ruleId].length > 0) kept = true;
        else if (removeEmptied) delete hits[ruleId];
      }
      if (removeEmptied && !kept && actorState.incident === undefined && !crossedSince(actorState, this.newestTs - this.detector.methods.correlationMs)) delete actors[id];
    }
  }

  private fold(event: AuditEventLike, inner: Record<string, unknown>, ts: number, matched: number[], derived?: DerivedEvidence): void {
    const { rules: compiled, actors, settings } = this.detector;
    const idHash = eventIdHash(eventId(event) ?? fallbackEventId(ts, inner));
    const actor = actors.resolve(inner);
    const actorState = this.actor(actor.id);
    // Most events repeat the name already kept: comparing is cheaper than storing the event's own copy in a long-lived object.
    if (actor.name && actorState.name !== actor.name) actorState.name = actor.name;

    let isNew = false;
    const expiredBefore = this.newestTs - this.detector.horizonMs - EXPIRY_MARGIN_MS;
    for (const index of matched) {
      const ruleId = compiled.rules[index].id;
      // An append drops the rule's expired hits as the periodic trims would (see dropExpired), in the copy it makes anyway.
      if (this.hitsPool.add(actorState.hits, ruleId, ts, idHash, expiredBefore)) isNew = true;
      const hits = actorState.hits[ruleId];
      const count = hitCount(hits);
      if (count > settings.limits.maxHitsPerRule * 1.25) dropOldest(hits, count - settings.limits.maxHitsPerRule);
    }
    if (!isNew) {
      this.counters.duplicates++;
      // Read again in the lateness overlap: its evidence was taken by the run that first read it, unless that run had
      // no incident open for the actor (then it was only pending, and is lost with that run).
      if (actorState.incident === undefined) this.keepPending(actor.id, event, inner, ts, matched, derived);
      else if (this.openedHere.has(actor.id)) this.addEvidence(actorState.incident.evidence, event, inner, ts, matched, derived);
      return;
    }
    this.counters.matched++;
    if (actor.id === UNKNOWN_ACTOR) this.counters.unknownActor++;
    const before = actorState.incident;
    this.evaluate(actor.id, actorState, ts, matched, idHash);
    const incident = actorState.incident;
    if (incident === undefined) this.keepPending(actor.id, event, inner, ts, matched, derived);
    else if (incident === before) this.addEvidence(incident.evidence, event, inner, ts, matched, derived);
    else this.takePending(actor.id, incident, event, inner, ts, matched, derived);
  }

  private keepPending(actor: string, event: AuditEventLike, inner: Record<string, unknown>, ts: number, matched: number[], derived?: DerivedEvidence): void {
    const facts = eventFacts(event, inner, ts);
    if (derived !== undefined) facts.derived = derived;
    this.pending.keep(actor, facts, this.detector.rules.baseRuleIds(matched));
  }

  /** A burst just opened: the events of this scan that belong to it (from its first event on) give its first evidence. */
  private takePending(
    actor: string, incident: IncidentState, event: AuditEventLike, inner: Record<string, unknown>, ts: number, matched: number[], derived?: DerivedEvidence,
  ): void {
    this.openedHere.add(actor);
    for (const { facts, rules } of this.pending.take(actor)) {
      if (facts.ts >= incident.firstSeen) addFactsEvidence(incident.evidence, facts, rules);
    }
    this.addEvidence(incident.evidence, event, inner, ts, matched, derived);
  }

  private addEvidence(evidence: EvidenceState, event: AuditEventLike, inner: Record<string, unknown>, ts: number, matched: number[], derived?: DerivedEvidence): void {
    addEventEvidence(evidence, event, inner, ts, this.detector.rules.baseRuleIds(matched), derived);
  }

  private evaluate(actor: string, actorState: ActorState, ts: number, matched: number[], idHash: number): void {
    const { rules: compiled, quietMs, methods } = this.detector;
    let incident = actorState.incident;
    if (incident && ts - incident.lastSeen >= quietMs) {
      this.closed.push({ actor, ...(actorState.name ? { name: actorState.name } : {}), incident });
      actorState.incident = incident = undefined;
    }

    let crossedSeverity: Severity | undefined;
    let crossedStart = ts;
    const crossedRules: string[] = [];
    for (const index of matched) {
      const rule = compiled.rules[index];
      const span = busiestSpanContaining(actorState.hits[rule.id], ts, rule.windowMs);
      const severity = tierFor(rule.tiers, span.count);
      if (severity === undefined) continue;
      crossedRules.push(rule.id);
      crossedSeverity = crossedSeverity ? higherSeverity(crossedSeverity, severity) : severity;
      crossedStart = Math.min(crossedStart, span.start);
    }
    // Catalog v3 (multi_rule): crossing a rule while other distinct rules were crossed within the span is one more rule
    // crossed, counted on this event like any other (so the incident lists it and takes its severity).
    if (crossedRules.length > 0 && methods.correlates) {
      const crossedAt = (actorState.crossed ??= {});
      for (const ruleId of crossedRules) if (!(crossedAt[ruleId] >= ts)) crossedAt[ruleId] = ts;
      for (const { index } of methods.correlate(crossedAt, ts, crossedRules) ?? []) {
        const rule = compiled.rules[index];
        this.hitsPool.add(actorState.hits, rule.id, ts, idHash);
        const hits = actorState.hits[rule.id];
        const severity = tierFor(rule.tiers, busiestSpanContaining(hits, ts, rule.windowMs).count);
        if (!matched.includes(index)) matched.push(index);
        if (severity === undefined) continue;
        crossedRules.push(rule.id);
        crossedSeverity = crossedSeverity ? higherSeverity(crossedSeverity, severity) : severity;
      }
    }

    if (incident) {
      incident.lastSeen = Math.max(incident.lastSeen, ts);
      incident.firstSeen = Math.min(incident.firstSeen, ts);
      incident.events++;
      for (const index of matched) {
        const ruleId = compiled.rules[index].id;
        incident.counts[ruleId] = (incident.counts[ruleId] ?? 0) + 1;
      }
      for (const ruleId of crossedRules) if (!incident.rules.includes(ruleId)) incident.rules.push(ruleId);
      if (crossedSeverity) incident.severity = higherSeverity(incident.severity, crossedSeverity);
      const exempted = incident.suppressedRules;
      if (exempted && crossedRules.some((ruleId) => !exempted.includes(ruleId))) {
        // The actor is exempted from some rules only, and crossed another: the burst pages after all.
        delete incident.suppressed;
        delete incident.suppressedRules;
        delete incident.reported;
      }
      this.touched.add(actor);
      return;
    }
    if (crossedSeverity === undefined) return;
    actorState.incident = this.open(actor, actorState, crossedStart, ts, crossedSeverity, crossedRules);
    this.touched.add(actor);
  }

  private open(actor: string, actorState: ActorState, start: number, ts: number, severity: Severity, rules: string[]): IncidentState {
    const counts: Record<string, number> = {};
    const distinct = new Set<number>();
    let lastSeen = ts;
    let firstSeen = start;
    // Each rule's own window ending at the crossing event belongs to the burst, even for rules that crossed later or
    // not at all: with late-indexed events the crossing rule's span may start after another rule's first events.
    for (const ruleId of Object.keys(actorState.hits)) {
      const hits = actorState.hits[ruleId];
      const windowMs = this.detector.rules.rules.find((rule) => rule.id === ruleId)?.windowMs ?? 0;
      const count = countSince(hits, Math.min(start, ts - windowMs + 1));
      if (count === 0) continue;
      counts[ruleId] = count;
      for (let i = hits.length - 2 * count; i < hits.length; i += 2) {
        distinct.add(hits[i + 1]);
        lastSeen = Math.max(lastSeen, hits[i]);
        firstSeen = Math.min(firstSeen, hits[i]);
      }
    }
    const { orgId, runAt, lateAfterMs } = this.context;
    const suppression = suppressionFor(this.detector.settings.suppress, actor, start, runAt, rules);
    const dedupKey = `audit-spike-${hash64(`${orgId}|${actor}|${start}`)}`;
    return {
      dedupKey,
      firstSeen,
      lastSeen,
      severity,
      rules,
      counts,
      events: distinct.size,
      late: runAt - lastSeen > lateAfterMs,
      ...(suppression ? { suppressed: suppression.reason } : {}),
      ...(suppression?.rules ? { suppressedRules: suppression.rules } : {}),
      evidence: emptyEvidence(),
    };
  }

  finish(): ScanResult {
    const { quietMs, latenessMs, horizonMs, settings, rules: compiled } = this.detector;
    const window = this.context.window;
    this.settleActors(window.to - latenessMs - quietMs, window.to - horizonMs, compiled.ruleIds);

    const actions: IncidentAction[] = [];
    const suppressed: SuppressedBurst[] = [];
    const describe = (actor: string, name: string | undefined, incident: IncidentState) =>
      summarize(incident, {
        orgId: this.context.orgId, actor, ...(name ? { actorName: name } : {}), appUrl: settings.appUrl, templates: settings.templates,
        actorQuery: this.detector.actors.queryFor(actor), rules: compiled.rules, actorFields: settings.actorFields,
      });
    const notify = (actor: string, name: string | undefined, incident: IncidentState) => {
      if (incident.suppressed) {
        // Reported whenever its count changed since a scan last reported it: a burst spanning runs is reported whole.
        if (incident.reported?.events === incident.events) return;
        suppressed.push({ actor, dedupKey: incident.dedupKey, reason: incident.suppressed, severity: incident.severity, events: incident.events,
          firstSeen: new Date(incident.firstSeen).toISOString(), lastSeen: new Date(incident.lastSeen).toISOString() });
        incident.reported = { events: incident.events };
        return;
      }
      const last = incident.notified;
      if (!last) actions.push({ kind: 'trigger', summary: describe(actor, name, incident) });
      else if (severityRank(incident.severity) > severityRank(last.severity) || incident.events > last.events) {
        actions.push({ kind: 'update', summary: describe(actor, name, incident), notifiedSeverity: last.severity });
      } else return;
      incident.notified = { severity: incident.severity, events: incident.events };
    };

    for (const { actor, name, incident } of this.closed) {
      const told = incident.notified?.severity;
      notify(actor, name, incident);
      if (settings.autoResolve && !incident.suppressed) {
        actions.push({ kind: 'resolve', summary: describe(actor, name, incident), ...(told ? { notifiedSeverity: told } : {}) });
      }
    }
    for (const actor of this.touched) {
      const actorState = this.state.actors[actor];
      if (actorState?.incident) notify(actor, actorState.name, actorState.incident);
    }

    this.state.watermark = window.to;
    return { state: this.state, counters: this.counters, actions, suppressed, evidenceEvicted: this.pending.evicted };
  }

  /**
   * One pass over the actors, a run's fixed cost: ends the bursts quiet for their window by the end of this scan, drops
   * hits older than the horizon or of rules no longer enabled, then the oldest hits beyond the total cap, and removes
   * actors with nothing left to carry (the state would otherwise grow with distinct actors).
   */
  private settleActors(quietBefore: number, horizon: number, liveRules: ReadonlySet<string>): void {
    const actors = this.state.actors;
    const cap = this.detector.settings.limits.maxHitsTotal;
    // What the hit cap needs, gathered in this pass so that it never walks the whole record again: the actors kept,
    // and the newest `cap` of the times of the hits they keep (a wide window's scan keeps hundreds of thousands: all
    // their times gathered were 10-15 MB of heap and Buffers at the end of a scan, its peak).
    const keptIds: string[] = [];
    const newestTimes = new LargestValues(cap);
    // The rules of the current actor to drop (reused from actor to actor).
    const dropped: string[] = [];
    // One walk over each actor's rules (this pass visits every carried actor at the end of every run): rules to drop
    // are noted, and only deleted once the actor is known to stay; an actor with nothing left goes with one delete.
    // Over the keys taken at once: `for…in` over this many-key (dictionary) object checks every key again as it goes.
    const ids = Object.keys(actors);
    for (let a = 0; a < ids.length; a++) {
      const id = ids[a];
      const actorState = actors[id];
      let incident = actorState.incident;
      if (incident !== undefined && incident.lastSeen < quietBefore) {
        this.closed.push({ actor: id, ...(actorState.name ? { name: actorState.name } : {}), incident });
        delete actorState.incident;
        incident = undefined;
      }
      const hits = actorState.hits;
      const timesBefore = newestTimes.offered;
      let droppedCount = 0;
      for (const ruleId in hits) {
        const ruleHits = hits[ruleId];
        const n = ruleHits.length;
        if (n === 0 || ruleHits[n - 2] < horizon || !liveRules.has(ruleId)) {
          dropped[droppedCount++] = ruleId;
          continue;
        }
        if (ruleHits[0] < horizon) dropBefore(ruleHits, horizon);
        for (let i = 0; i < ruleHits.length; i += 2) newestTimes.offer(ruleHits[i]);
      }
      const crossing = actorState.crossed !== undefined && pruneCrossed(actorState, this.context.window.to - this.detector.methods.correlationMs);
      if (newestTimes.offered === timesBefore && incident === undefined && !crossing) {
        delete actors[id];
        continue;
      }
      for (let i = 0; i < droppedCount; i++) delete hits[dropped[i]];
      keptIds.push(id);
    }
    if (newestTimes.offered > cap) this.trimToCap(keptIds, newestTimes.smallestKept);
  }

  /** Drops the hits before `cutoff` (the newest `cap` hits' oldest time) of the actors `ids`, the only actors with hits. */
  private trimToCap(ids: string[], cutoff: number): void {
    const actors = this.state.actors;
    for (const id of ids) {
      const actorState = actors[id];
      const hits = actorState.hits;
      if (!actorState.incident && !holdsHitsSince(hits, cutoff) && actorState.crossed === undefined) {
        // Most actors of a busy window end here: one delete instead of one per rule.
        delete actors[id];
        continue;
      }
      for (const ruleId in hits) {
        const ruleHits = hits[ruleId];
        if (ruleHits[0] < cutoff) dropBefore(ruleHits, cutoff);
        if (ruleHits.length === 0) delete hits[ruleId];
      }
    }
  }
}

/** The scan's `matched` with the derived rules that fired (their indexes come after every matchable rule's). */
function withDerived(matched: number[] | undefined, derived: MethodHit[]): number[] {
  const all = matched ?? [];
  for (const { index } of derived) all.push(index);
  return all;
}

/** What the derived rules saw on an event, for its incident's evidence; undefined when there is nothing to show. */
function derivedEvidence(derived: MethodHit[]): DerivedEvidence | undefined {
  let evidence: DerivedEvidence | undefined;
  for (const { firing } of derived) {
    if (firing.newValue) ((evidence ??= {}).newValues ??= []).push(firing.newValue);
    if (firing.travel) (evidence ??= {}).travel = firing.travel;
  }
  return evidence;
}

/** Whether the actor crossed some rule after `since` (correlation still needs them). */
function crossedSince(actorState: ActorState, since: number): boolean {
  const crossed = actorState.crossed;
  if (crossed === undefined) return false;
  for (const ruleId in crossed) if (crossed[ruleId] > since) return true;
  return false;
}

/** Drops crossings at or before `before`; whether any is left (then the actor is carried for them). */
function pruneCrossed(actorState: ActorState, before: number): boolean {
  const crossed = actorState.crossed!;
  let left = false;
  for (const ruleId of Object.keys(crossed)) {
    if (crossed[ruleId] <= before) delete crossed[ruleId];
    else left = true;
  }
  if (!left) delete actorState.crossed;
  return left;
}

/** Whether any rule holds a hit at or after ts (each rule's hits are in time order: the last is the newest). */
function holdsHitsSince(hits: Record<string, Hits>, ts: number): boolean {
  for (const ruleId in hits) {
    const ruleHits = hits[ruleId];
    if (ruleHits.length > 0 && ruleHits[ruleHits.length - 2] >= ts) return true;
  }
  return false;
}
