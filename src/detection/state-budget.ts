import { emptyEvidence } from './evidence';
import type { ActorState, CarriedState } from './state';
import { hitCount } from './windows';

/** The default of `limits.maxResultBytes`: a quarter of the 2 MiB Temporal refuses, and Temporal's own warning size. */
export const DEFAULT_MAX_RESULT_BYTES = 512 * 1024;

/** What `fitStateToBudget` gave up, least useful first, to bring the state within its budget. */
export interface ShedReport {
  budgetBytes: number;
  beforeBytes: number;
  afterBytes: number;
  /** Actors with no open incident whose hits were dropped (furthest from any threshold, oldest first). */
  actors: number;
  /** Hits dropped, of those actors and of actors with an open incident. */
  hits: number;
  /** Actors with an open incident whose hits were dropped (the incident itself kept). */
  incidentHits: number;
  /** Open incidents whose evidence was emptied. */
  evidence: number;
  /** Open incidents dropped altogether, only when nothing else was left: a later event of theirs pages again. */
  incidents: number;
}

export interface StateBudget {
  /** Bytes the state may take as it crosses Temporal. */
  budgetBytes: number;
  /** Per rule id, the count of its lowest tier: how close an actor's hits are to paging. */
  thresholds: Record<string, number>;
  /** The state's size as it crosses Temporal (the encoding the caller sends). */
  measure(state: CarriedState): number;
}

function actorHits(actor: ActorState): number {
  let n = 0;
  for (const ruleId in actor.hits) n += hitCount(actor.hits[ruleId]);
  return n;
}

function newestHit(actor: ActorState): number {
  let newest = -Infinity;
  for (const ruleId in actor.hits) {
    const hits = actor.hits[ruleId];
    if (hits.length > 0) newest = Math.max(newest, hits[hits.length - 2]);
  }
  return newest;
}

function compare<T extends number | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How near the actor is to paging: the highest share of a rule's lowest tier that its hits reach (0 … <1). */
function closeness(actor: ActorState, thresholds: Record<string, number>): number {
  let best = 0;
  for (const ruleId in actor.hits) {
    const threshold = thresholds[ruleId];
    if (threshold) best = Math.max(best, hitCount(actor.hits[ruleId]) / threshold);
  }
  return best;
}

/**
 * Keeps the carried state within `budget.budgetBytes`, in place, shedding the least useful first, and says what it
 * shed (undefined when the state already fits). In order:
 *
 * 1. the hits of actors with no open incident, those furthest from any threshold first, then the oldest;
 * 2. the hits of actors with an open incident (the incident keeps its counts, dedup key and what PagerDuty was told);
 * 3. the evidence of open incidents, the oldest burst first;
 * 4. open incidents themselves, suppressed ones first, then the oldest: only when nothing else is left.
 *
 * Each step drops in batches sized from the bytes still over, and measures again (a few measures per run at most).
 */
export function fitStateToBudget(state: CarriedState, budget: StateBudget): ShedReport | undefined {
  let size = budget.measure(state);
  if (size <= budget.budgetBytes) return undefined;
  const report: ShedReport = { budgetBytes: budget.budgetBytes, beforeBytes: size, afterBytes: size, actors: 0, hits: 0, incidentHits: 0, evidence: 0, incidents: 0 };
  const actors = state.actors;
  const ids = Object.keys(actors);

  /** Applies `shed` to the items in order, in batches, until the state fits or the items run out. */
  const shedInOrder = (items: string[], shed: (id: string) => void) => {
    let next = 0;
    while (size > budget.budgetBytes && next < items.length) {
      const count = Object.keys(actors).length || 1;
      // Bytes per actor on average: a batch that should bring the state just under (the next measure says if not).
      const perActor = Math.max(1, size / count);
      const batch = Math.ceil((size - budget.budgetBytes) / perActor) + 1;
      for (const id of items.slice(next, next + batch)) shed(id);
      next += batch;
      size = budget.measure(state);
    }
  };

  const idle = ids.filter((id) => actors[id].incident === undefined);
  const score = new Map(idle.map((id) => [id, closeness(actors[id], budget.thresholds)]));
  const newest = new Map(idle.map((id) => [id, newestHit(actors[id])]));
  idle.sort((a, b) => compare(score.get(a)!, score.get(b)!) || compare(newest.get(a)!, newest.get(b)!) || compare(a, b));
  shedInOrder(idle, (id) => {
    report.actors++;
    report.hits += actorHits(actors[id]);
    delete actors[id];
  });

  const open = ids.filter((id) => actors[id]?.incident !== undefined);
  open.sort((a, b) => compare(actors[a].incident!.lastSeen, actors[b].incident!.lastSeen) || compare(a, b));
  shedInOrder(open.filter((id) => actorHits(actors[id]) > 0), (id) => {
    report.incidentHits++;
    report.hits += actorHits(actors[id]);
    actors[id].hits = {};
  });
  shedInOrder(open, (id) => {
    report.evidence++;
    actors[id].incident!.evidence = emptyEvidence();
  });
  const lastResort = [...open].sort((a, b) => Number(actors[b].incident!.suppressed !== undefined) - Number(actors[a].incident!.suppressed !== undefined));
  shedInOrder(lastResort, (id) => {
    report.incidents++;
    delete actors[id];
  });
  report.afterBytes = size;
  return report;
}

/** The run's warning for what was shed: what went, why, and what to change. */
export function describeShedding(report: ShedReport, setting = 'detection.limits.maxResultBytes'): string {
  const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;
  const parts: string[] = [];
  if (report.actors) parts.push(`the hits of ${report.actors} actors with no open incident (furthest from any threshold first)`);
  if (report.incidentHits) parts.push(`the hits of ${report.incidentHits} actors with an open incident (their incidents kept)`);
  if (report.evidence) parts.push(`the evidence of ${report.evidence} open incidents`);
  if (report.incidents) parts.push(`${report.incidents} open incidents (a later event of theirs pages again)`);
  return `The carried state (${kib(report.beforeBytes)}) was over its share of ${setting}; to stay within it, this run dropped ` +
    `${parts.join(', ') || 'nothing'} — ${report.hits} hits in all, now ${kib(report.afterBytes)}` +
    `${report.afterBytes > report.budgetBytes ? `, still over ${kib(report.budgetBytes)}` : ''}. ` +
    `Raise ${setting} or lower detection.limits.maxHitsTotal.`;
}

/** The UTF-8 size of `text` (what a JSON payload of it takes), without encoding it. */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff) i++, (bytes += 2);
    else bytes += 2;
  }
  return bytes;
}

/** Per rule id, the count of its lowest tier. */
export function lowestTiers(rules: ReadonlyArray<{ id: string; tiers: ReadonlyArray<{ count: number }> }>): Record<string, number> {
  const thresholds: Record<string, number> = {};
  for (const rule of rules) if (rule.tiers.length) thresholds[rule.id] = rule.tiers[0].count;
  return thresholds;
}
