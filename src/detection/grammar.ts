import { formatDuration } from './duration';

/** `1 event`, `2 events`; `plural(1, 'sensitive Datadog change')`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** `HH:MM` of an instant, in UTC. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** When a burst happened, as a person says it: `at 12:07` for a single instant, else `in 7m`. */
export function spanPhrase(firstMs: number, lastMs: number): string {
  return firstMs === lastMs ? `at ${clockTime(firstMs)}` : `in ${formatDuration(lastMs - firstMs)}`;
}

/** `2026-11-24T10:01:02.000Z → 2026-11-24T10:07:40.000Z`, or `at 2026-11-24T10:01:02.000Z` when both are the same instant. */
export function isoSpan(firstSeen: string, lastSeen: string): string {
  return firstSeen === lastSeen ? `at ${firstSeen}` : `${firstSeen} → ${lastSeen}`;
}
