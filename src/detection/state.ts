import { emptyEvidence, type EvidenceState } from './evidence';
import { eventIdHashFromHex64 } from './hash';
import type { Hits } from './windows';
import type { Severity } from './types';

export interface IncidentState {
  dedupKey: string;
  firstSeen: number;
  lastSeen: number;
  severity: Severity;
  /** Rule ids whose threshold the actor crossed during this burst. */
  rules: string[];
  /** Matched events per rule id since firstSeen (an event can count toward several rules). */
  counts: Record<string, number>;
  /** Distinct matched events since firstSeen. */
  events: number;
  /** Opened by a run that ran well after the burst (catch-up after downtime). */
  late: boolean;
  /** Why this burst is counted but not paged (allowlist, maintenance window). */
  suppressed?: string;
  /** When the suppression exempts only some rules: those rules. A rule crossed outside them ends the suppression. */
  suppressedRules?: string[];
  /** What the burst's own events show (bounded by EVIDENCE_LIMITS, never by event volume). */
  evidence: EvidenceState;
  /** What PagerDuty was last told; absent until the first page. */
  notified?: { severity: Severity; events: number };
  /**
   * A suppressed burst: its count when a scan last reported it (absent until then, and in states carried before #26).
   * A later scan reports it again whenever its count changed, so a burst spanning several runs is reported whole.
   */
  reported?: { events: number };
}

export interface ActorState {
  name?: string;
  /** Per rule id, the recent matched events (within the longest window or the lateness overlap), flattened (`Hits`). */
  hits: Record<string, Hits>;
  incident?: IncidentState;
  /**
   * Catalog v3 (correlation): when the actor last crossed each rule, kept for the longest multi_rule span (60 minutes by
   * default), which outlives the hits. Absent unless a correlation rule is enabled and the actor crossed a rule.
   */
  crossed?: Record<string, number>;
}

/** What one run hands the next, through Temporal: bounded by the rules and caps, never by event volume. */
export interface CarriedState {
  v: 3;
  /** Epoch ms up to which events have been read. */
  watermark: number;
  actors: Record<string, ActorState>;
}

type IncidentStateV2 = Omit<IncidentState, 'evidence' | 'suppressedRules'>;

/** The state as version 2 carried it: incidents without evidence. */
export interface CarriedStateV2 {
  v: 2;
  watermark: number;
  actors: Record<string, Omit<ActorState, 'incident'> & { incident?: IncidentStateV2 }>;
}

/** The state as versions before 2 carried it: each hit a `[ts, hash64 of the event id]` pair. */
export interface CarriedStateV1 {
  v: 1;
  watermark: number;
  actors: Record<string, Omit<ActorState, 'hits' | 'incident'> & { hits: Record<string, Array<[number, string]>>; incident?: IncidentStateV2 }>;
}

export function emptyState(watermark: number): CarriedState {
  return { v: 3, watermark, actors: {} };
}

/**
 * The carried state as it crosses Temporal (version 4): `CarriedState` packed by `packState` (detection/packed-state.ts,
 * which describes the layout). The workflow never looks inside.
 */
export interface PackedState {
  v: 4;
  watermark: number;
  /** Hits from here on keep their event-id hash (the next run reads them again). */
  rereadFrom: number;
  /** Rule ids, indexed by the packed hits. */
  rules: string[];
  /** Actors, names and hits: base64 of the byte layout above. */
  actors: string;
  /** Open incidents by actor id. */
  incidents: Record<string, IncidentState>;
  /** Catalog v3: per actor, when each rule was last crossed (ActorState.crossed); absent when none. */
  crossed?: Record<string, Record<string, number>>;
}

export function isPackedState(value: unknown): value is PackedState {
  if (value === null || typeof value !== 'object') return false;
  const c = value as Partial<PackedState>;
  return c.v === 4 && typeof c.watermark === 'number' && typeof c.rereadFrom === 'number' && Array.isArray(c.rules) && typeof c.actors === 'string' &&
    typeof c.incidents === 'object' && c.incidents !== null;
}

/** What a previous run's result or scan may hold: this version's packed state, the core's own, or an earlier version's. */
export type StoredState = PackedState | CarriedState | CarriedStateV2 | CarriedStateV1;

/** A state this version can continue from: its own, or one carried by a schedule that ran an earlier version. */
export function isCarriedState(value: unknown): value is StoredState {
  if (isPackedState(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<CarriedState | CarriedStateV2 | CarriedStateV1>;
  return (candidate.v === 1 || candidate.v === 2 || candidate.v === 3) && typeof candidate.watermark === 'number' && typeof candidate.actors === 'object' &&
    candidate.actors !== null;
}

/**
 * Brings a carried state of an earlier version to the core's (version 3), in place; the same hit ids, so events read
 * again still count once. A packed state (version 4) is unpacked first, by `unpackState`.
 */
export function upgradeState(state: Exclude<StoredState, PackedState>): CarriedState {
  if (state.v === 3) return state;
  if (state.v === 1) upgradeHitsToV2(state);
  // Incidents opened before evidence existed show what the events of later runs bring.
  for (const id of Object.keys(state.actors)) {
    const incident = state.actors[id].incident as Partial<IncidentState> | undefined;
    if (incident && incident.evidence === undefined) incident.evidence = emptyEvidence();
  }
  (state as { v: number }).v = 3;
  return state as unknown as CarriedState;
}

function upgradeHitsToV2(state: CarriedStateV1): void {
  for (const id of Object.keys(state.actors)) {
    const hits = state.actors[id].hits as Record<string, unknown>;
    for (const ruleId of Object.keys(hits)) {
      const pairs = hits[ruleId] as Array<[number, string]>;
      const flat: Hits = [];
      for (const [ts, idHash] of pairs) flat.push(ts, eventIdHashFromHex64(idHash));
      hits[ruleId] = flat;
    }
  }
}
