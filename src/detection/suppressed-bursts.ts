import type { SuppressedBurst } from './scan';

/**
 * Adds a scan's suppressed bursts to those already gathered (a run's chunks, a replay's runs): a burst spanning several
 * scans is reported by each that saw it grow, and its reports merge by dedup key, the last wins (as PagerDuty's
 * incidents do by theirs). Reports without a key (scans before #26) are kept as they are. Changes `into` in place.
 */
export function mergeSuppressed(into: SuppressedBurst[], more: readonly SuppressedBurst[]): SuppressedBurst[] {
  for (const burst of more) {
    const at = burst.dedupKey === undefined ? -1 : into.findIndex((known) => known.dedupKey === burst.dedupKey);
    if (at >= 0) into[at] = burst;
    else into.push(burst);
  }
  return into;
}
