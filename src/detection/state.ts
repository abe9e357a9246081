import type { Hit } from './windows';
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
  /** Per rule id, the recent matched events (within the longest window or the lateness overlap). */
  hits: Record<string, Hit[]>;
  incident?: IncidentState;
}

/** What one run hands the next, through Temporal: bounded by the rules and caps, never by event volume. */
export interface CarriedState {
  v: 1;
  /** Epoch ms up to which events have been read. */
  watermark: number;
  actors: Record<string, ActorState>;
}

export function emptyState(watermark: number): CarriedState {
  return { v: 1, watermark, actors: {} };
}

export function isCarriedState(value: unknown): value is CarriedState {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<CarriedState>;
  return candidate.v === 1 && typeof candidate.watermark === 'number' && typeof candidate.actors === 'object' && candidate.actors !== null;
}
