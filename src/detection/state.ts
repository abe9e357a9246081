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
  /** What PagerDuty was last told; absent until the first page. */
  notified?: { severity: Severity; events: number };
}

export interface ActorState {
  name?: string;
  /** Per rule id, the recent matched events (within the longest window or the lateness overlap), flattened (`Hits`). */
  hits: Record<string, Hits>;
  incident?: IncidentState;
}

/** What one run hands the next, through Temporal: bounded by the rules and caps, never by event volume. */
export interface CarriedState {
  v: 2;
  /** Epoch ms up to which events have been read. */
  watermark: number;
  actors: Record<string, ActorState>;
}

/** The state as versions before 2 carried it: each hit a `[ts, hash64 of the event id]` pair. */
export interface CarriedStateV1 {
  v: 1;
  watermark: number;
  actors: Record<string, Omit<ActorState, 'hits'> & { hits: Record<string, Array<[number, string]>> }>;
}

export function emptyState(watermark: number): CarriedState {
  return { v: 2, watermark, actors: {} };
}

/** What a previous run's result may hold: this version's state or an earlier version's. */
export type StoredState = CarriedState | CarriedStateV1;

/** A state this version can continue from: its own, or one carried by a schedule that ran an earlier version. */
export function isCarriedState(value: unknown): value is StoredState {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<CarriedState | CarriedStateV1>;
  return (candidate.v === 1 || candidate.v === 2) && typeof candidate.watermark === 'number' && typeof candidate.actors === 'object' &&
    candidate.actors !== null;
}

/** Brings a carried state to the current version, in place; the same hit ids, so events read again still count once. */
export function upgradeState(state: StoredState): CarriedState {
  if (state.v === 2) return state;
  for (const id of Object.keys(state.actors)) {
    const hits = state.actors[id].hits as Record<string, unknown>;
    for (const ruleId of Object.keys(hits)) {
      const pairs = hits[ruleId] as Array<[number, string]>;
      const flat: Hits = [];
      for (const [ts, idHash] of pairs) flat.push(ts, eventIdHashFromHex64(idHash));
      hits[ruleId] = flat;
    }
  }
  (state as { v: number }).v = 2;
  return state as unknown as CarriedState;
}
