import { createHash } from 'node:crypto';

/**
 * Where in the interval this org's runs fall: a whole number of seconds in [0, interval), derived only from the org id
 * (SHA-256), so it never changes while the org and interval stay, and a fleet's orgs spread evenly over the interval
 * instead of all starting in the same second. Temporal's interval spec counts its phase in whole seconds.
 *
 * Each run reads [previous cursor, its scheduled time − ingestion delay), and the scheduled time is the Schedule's nominal
 * time, offset included: consecutive windows still tile time with no gap or overlap, and an event waits at most one
 * interval plus the ingestion delay for its run, whatever the offset. A changed offset (a new interval) shortens or
 * lengthens one window once, and loses nothing.
 */
export function phaseOffsetMs(orgId: string, intervalMs: number): number {
  const seconds = Math.floor(intervalMs / 1000);
  if (seconds <= 1) return 0;
  const digest = createHash('sha256').update(orgId, 'utf8').digest();
  return (digest.readUIntBE(0, 6) % seconds) * 1000;
}
