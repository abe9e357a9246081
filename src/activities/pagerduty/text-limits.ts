/**
 * PagerDuty's length limits count characters, not UTF-16 units: `payload.summary` "maximum permitted length ... 1024
 * characters" (developer-docs docs/events-API-v2/02-Trigger-Events.md @ d5d64571). A cut by `String.slice` can split an
 * emoji into a lone surrogate, which is not a character at all; these helpers cut by code points.
 */

export const EVENTS_SUMMARY_MAX_CHARS = 1024;
/** "Events API payloads are limited to 512 KB" (docs/events-API-v2/01-Overview.md @ 94224391): the request body, in bytes. */
export const EVENTS_PAYLOAD_MAX_BYTES = 512 * 1024;
/** The REST incident title has no documented limit; the Events summary's keeps one incident readable in both modes. */
export const REST_TITLE_MAX_CHARS = 1024;

const LONE_SURROGATE = /^[\uD800-\uDFFF]$/;

/** At most `max` characters (code points); a cut text ends with "…" (counted), and lone surrogates are dropped. */
export function cutToCharacters(text: string, max: number): string {
  const chars = Array.from(text).filter((char) => !LONE_SURROGATE.test(char));
  if (chars.length <= max) return chars.join('');
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

export function characterCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
