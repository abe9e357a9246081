/** How long PagerDuty asked us to wait, in ms, from a 429's headers; undefined when it did not say. */
export function retryDelayMs(headers: { get(name: string): string | null } | undefined, nowMs = Date.now()): number | undefined {
  if (!headers) return undefined;
  // REST: "use of the ratelimit-reset header to wait the appropriate number of seconds before retrying"
  // (developer-docs docs/REST-API/04-Rate-Limits.md @ 94224391). The Events API documents no header; a Retry-After, if
  // one ever comes, is honoured as HTTP defines it (seconds or a date).
  const reset = Number(headers.get('ratelimit-reset'));
  if (headers.get('ratelimit-reset') !== null && Number.isFinite(reset) && reset >= 0) return bounded(reset * 1000);
  const retryAfter = headers.get('retry-after');
  if (retryAfter === null) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return bounded(seconds * 1000);
  const at = Date.parse(retryAfter);
  return Number.isNaN(at) ? undefined : bounded(at - nowMs);
}

/** At least 1 s (a 0 would retry at once), at most 10 min (a bad header must not park a page for hours). */
function bounded(ms: number): number {
  return Math.min(Math.max(Math.ceil(ms), 1_000), 600_000);
}
