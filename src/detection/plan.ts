import { formatDuration } from './duration';
import type { ScanWindow } from './scan';

/** Datadog's default Audit Trail retention: "seven days… between three and 90 days" (docs.datadoghq.com/account_management/audit_trail/). */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;

export interface CadenceSettings {
  intervalMs: number;
  /** Audit events take a while to be searchable: a run reads up to its scheduled time minus this. */
  ingestionDelayMs: number;
  /** Each run re-reads this much before the previous cursor, so events indexed late are still counted (once). */
  latenessMs: number;
  /** How far back the very first run reads. */
  lookbackMs: number;
  /** The longest span one activity reads; catch-up after downtime is split into chunks this long. */
  maxChunkMs: number;
  /** Chunks one run may read; a longer gap is finished by the following runs. */
  maxChunksPerRun: number;
  /** Gaps older than this are not read at all (and are reported): the audit trail may no longer hold them. */
  maxCatchUpMs: number;
}

export interface RunPlan {
  /** Epoch ms: the new cursor once every chunk is read. */
  to: number;
  chunks: ScanWindow[];
  /** Time that will never be read: the gap exceeded maxCatchUp, or reached past Datadog's retention. */
  abandoned?: { from: number; to: number };
  /** Why `abandoned` is not read, in words for the run's report (with the date reading starts from). */
  abandonedReason?: string;
  /** Time still to catch up after this run (when the gap needed more than maxChunksPerRun chunks). */
  remainingMs: number;
}

/**
 * Decides what one run reads: from the previous cursor (or the look-back) to the scheduled time minus the ingestion
 * delay. Nothing older than `retentionMs` before the scheduled time is read: Datadog no longer holds it.
 */
export function planRun(previousCursor: number | undefined, scheduledAt: number, cadence: CadenceSettings, retentionMs?: number): RunPlan {
  const end = Math.floor((scheduledAt - cadence.ingestionDelayMs) / 1000) * 1000;
  let start = previousCursor ?? end - cadence.lookbackMs;
  let abandoned: RunPlan['abandoned'];
  let abandonedReason: string | undefined;
  const horizon = retentionMs === undefined ? -Infinity : Math.ceil((scheduledAt - retentionMs) / 1000) * 1000;
  const earliest = Math.max(end - cadence.maxCatchUpMs, horizon);
  if (start < earliest) {
    const reason = earliest === horizon
      ? retentionMessage(start, horizon, retentionMs!)
      : `the gap since ${iso(start)} is longer than schedule.maxCatchUp (${formatDuration(cadence.maxCatchUpMs)}): ${iso(start)} → ${iso(earliest)} is not read; reading from ${iso(earliest)}`;
    abandoned = { from: start, to: earliest };
    abandonedReason = reason;
    start = earliest;
  }
  const chunks: ScanWindow[] = [];
  let cursor = start;
  while (cursor < end && chunks.length < cadence.maxChunksPerRun) {
    const to = Math.min(cursor + cadence.maxChunkMs, end);
    const overlap = chunks.length === 0 && previousCursor !== undefined && !abandoned ? cadence.latenessMs : 0;
    chunks.push({ readFrom: cursor - overlap, from: cursor, to });
    cursor = to;
  }
  const to = Math.max(cursor, previousCursor ?? cursor);
  return { to, chunks, ...(abandoned ? { abandoned, abandonedReason } : {}), remainingMs: Math.max(0, end - to) };
}

/** A burst first reported this long after its last event is marked late (found while catching up). */
export function lateAfterMs(cadence: CadenceSettings): number {
  return 2 * cadence.intervalMs + cadence.ingestionDelayMs + cadence.latenessMs;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What a reader is told when a read reaches past the retention horizon: what is gone, and the date reading starts from. */
export function retentionMessage(from: number, readableFrom: number, retentionMs: number): string {
  return `Datadog keeps audit events for ${formatDuration(retentionMs)} (datadog.retention): the events from ${iso(from)} to ` +
    `${iso(readableFrom)} are gone and cannot be read; reading from ${iso(readableFrom)}`;
}

/** The part of [from, to) that lies past the retention horizon at `nowMs`, if any. */
export function pastRetention(from: number, to: number, nowMs: number, retentionMs: number): { from: number; to: number; readableFrom: number } | undefined {
  const readableFrom = nowMs - retentionMs;
  return from < readableFrom ? { from, to: Math.min(to, readableFrom), readableFrom } : undefined;
}
