import type { AuditEventLike } from './types';

/** The inner `attributes.attributes` object of an audit event, or undefined. */
export function innerAttributes(event: AuditEventLike): Record<string, unknown> | undefined {
  const inner = event?.attributes?.attributes;
  return inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : undefined;
}

/** Walks pre-split path segments through nested objects. */
export function valueAt(root: Record<string, unknown>, segments: readonly string[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

export type Getter = (root: Record<string, unknown>) => unknown;

/**
 * `valueAt` for one fixed path, compiled. Generated code (each segment a string literal, so no config text runs as
 * code) gives every path its own property-access sites; one generic walk over all paths is megamorphic and slower.
 */
export function pathGetter(segments: readonly string[]): Getter {
  const steps = segments.map((segment) => `if (v === null || typeof v !== 'object') return undefined; v = v[${JSON.stringify(segment)}];`);
  try {
    return new Function('root', `let v = root; ${steps.join(' ')} return v;`) as Getter;
  } catch {
    // Code generation disabled (--disallow-code-generation-from-strings): the generic walk.
    return (root) => valueAt(root, segments);
  }
}

/**
 * Epoch ms of the event, accepting ISO strings, Date objects (the Datadog client deserializes the outer timestamp to a
 * Date) and epoch ms; NaN when unusable. Without an outer timestamp, the inner `attributes.attributes.timestamp`.
 *
 * Datadog's inner timestamp of request events has microseconds and no zone (`2022-04-13T09:21:13.750599`, genuine
 * recording in DataDog/datadog-api-client-typescript cassettes/v2/Audit_2643932488 @ a6d1742): it is UTC, but
 * `Date.parse` reads a zone-less date-time as local time, and so does the client (`dateFromRFC3339String` builds
 * `new Date(text)` and keeps the text as `originalDate`). Both are read here as UTC.
 */
export function eventTimestamp(event: AuditEventLike): number {
  const outer = timestampValue(event?.attributes?.timestamp);
  if (outer === outer || event?.attributes?.timestamp !== undefined) return outer;
  const inner = event?.attributes?.attributes as { timestamp?: unknown } | null | undefined;
  return inner !== null && typeof inner === 'object' ? timestampValue(inner.timestamp) : Number.NaN;
}

function timestampValue(raw: unknown): number {
  if (typeof raw === 'string') return parseTimestampText(raw);
  if (raw instanceof Date) {
    const original = (raw as Date & { originalDate?: unknown }).originalDate;
    return typeof original === 'string' ? parseTimestampText(original) : raw.getTime();
  }
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  return Number.NaN;
}

/** A date-time with no zone designator: Datadog's are UTC. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/;

export function parseTimestampText(raw: string): number {
  const fast = parseIsoUtc(raw);
  if (fast === fast) return fast;
  if (ZONELESS.test(raw)) return parseIsoUtc(`${raw}Z`);
  if (/^\d+$/.test(raw)) return Number(raw);
  const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(raw);
  if (date && Number(date[3]) > daysInMonth(Number(date[1]), Number(date[2]))) return Number.NaN;
  return Date.parse(raw);
}

export function eventId(event: AuditEventLike): string | undefined {
  const id = event?.id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/** Lower-cased string form of a scalar attribute; undefined for objects and missing values. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).toLowerCase();
  return undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Fast path for the shape Datadog returns, `YYYY-MM-DDTHH:MM:SS[.fff…]Z`, which is most of the work of classifying
 * a page of noise; NaN for anything else (the caller falls back to Date.parse).
 */
export function parseIsoUtc(text: string): number {
  const n = text.length;
  if (n < 20 || text.charCodeAt(n - 1) !== 90 /* Z */ || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return Number.NaN;
  const year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  const hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
    second < 0 || second > 60) return Number.NaN;
  let millis = 0;
  if (n > 20) {
    if (text.charCodeAt(19) !== 46 /* . */) return Number.NaN;
    // Every digit of the fraction is checked, its first three are the milliseconds (a shorter one is padded with zeros):
    // read in place, as this runs for every event.
    const end = n - 1;
    for (let i = 20; i < end; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return Number.NaN;
      if (i < 23) millis = millis * 10 + d;
    }
    for (let i = end; i < 23; i++) millis *= 10;
  }
  if (day > daysInMonth(year, month)) return Number.NaN;
  return utcMillis(year, month, day, hour, minute, second, millis);
}

/**
 * `Date.UTC(year, month - 1, …)` for a valid date of years 0-9999, in plain arithmetic: Date.UTC is a call into the
 * runtime, a good part of reading an event's time. Days from the civil date counted from March, so that the leap day
 * ends a year (H. Hinnant's days_from_civil). Years 0-99 are 1900-1999, as Date.UTC has them.
 */
function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number): number {
  const marchYear = (year <= 99 ? year + 1900 : year) - (month <= 2 ? 1 : 0);
  const era = Math.floor(marchYear / 400);
  const yearOfEra = marchYear - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const daysSince1970 = era * 146_097 + dayOfEra - 719_468;
  return daysSince1970 * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1_000 + millis;
}
