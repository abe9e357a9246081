import type { ScanWindow } from './scan';

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
  /** Time that will never be read because the gap exceeded maxCatchUp. */
  abandoned?: { from: number; to: number };
  /** Time still to catch up after this run (when the gap needed more than maxChunksPerRun chunks). */
  remainingMs: number;
}

/** Decides what one run reads: from the previous cursor (or the look-back) to the scheduled time minus the ingestion delay. */
export function planRun(previousCursor: number | undefined, scheduledAt: number, cadence: CadenceSettings): RunPlan {
  const end = Math.floor((scheduledAt - cadence.ingestionDelayMs) / 1000) * 1000;
  let start = previousCursor ?? end - cadence.lookbackMs;
  let abandoned: RunPlan['abandoned'];
  if (end - start > cadence.maxCatchUpMs) {
    abandoned = { from: start, to: end - cadence.maxCatchUpMs };
    start = end - cadence.maxCatchUpMs;
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
  return { to, chunks, ...(abandoned ? { abandoned } : {}), remainingMs: Math.max(0, end - to) };
}

/** A burst first reported this long after its last event is marked late (found while catching up). */
export function lateAfterMs(cadence: CadenceSettings): number {
  return 2 * cadence.intervalMs + cadence.ingestionDelayMs + cadence.latenessMs;
}
