import { z } from 'zod';

/**
 * One page of the v2 audit events search, read without deserializing the page (#22): the response stays bytes outside
 * the JS heap, and each event is parsed only when the scan asks for it, so one event's objects die before the next is
 * read. A page parsed whole (the client's `searchAuditLogs`: the body as one string, then class instances for every
 * event) lives across the fold and the next request, is promoted, and makes the garbage collector's heap grow with
 * the window.
 *
 * The framing is found by one pass over the bytes (strings, escapes and nesting tracked); the envelope around `data`
 * (meta, links) is parsed as JSON, and each element of `data` is parsed on its own. A body that is not a JSON object
 * with a `data` array fails here, before any event is folded.
 */
export interface AuditPage {
  /** Events on the page: 0 ends the window (Datadog's own paginators stop on an empty page). */
  readonly size: number;
  readonly meta: AuditPageMeta | undefined;
  /** The page's events, each parsed when it is reached; an element that is not JSON throws `MalformedAuditPage`. */
  events(): IterableIterator<unknown>;
}

const WarningSchema = z.object({ code: z.string().optional(), title: z.string().optional(), detail: z.string().optional() }).passthrough();

/** What the page loop reads of `meta` (AuditLogsResponseMetadata); the rest is let through unread. */
export const AuditPageMetaSchema = z.object({
  page: z.object({ after: z.string().optional() }).passthrough().optional(),
  // Left open: a status Datadog adds later is not "done", so the page is read as partial (see partialReason).
  status: z.unknown().optional(),
  warnings: z.array(WarningSchema).optional(),
}).passthrough();
export type AuditPageMeta = z.infer<typeof AuditPageMetaSchema>;

export class MalformedAuditPage extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** `"data"` as bytes, after the opening quote. */
const DATA_KEY = [0x64, 0x61, 0x74, 0x61];

interface Framing {
  /** Start and end (exclusive) of each element of the top-level `data` array, flattened. */
  spans: number[];
  /** Offsets of `data`'s `[` and `]`. */
  open: number;
  close: number;
}

/** One pass over a JSON body: where the top-level object's `data` array and each of its elements are. */
export function frameAuditPage(bytes: Uint8Array): Framing {
  const n = bytes.length;
  let depth = 0;
  let expectingKey = false;
  let keyIsData = false;
  let inData = false;
  let elementStart = -1;
  let open = -1;
  let close = -1;
  const spans: number[] = [];
  let i = 0;
  while (i < n && isSpace(bytes[i])) i++;
  if (bytes[i] !== OPEN_BRACE) throw new MalformedAuditPage('the body is not a JSON object');
  for (; i < n; i++) {
    const byte = bytes[i];
    if (isSpace(byte)) continue;
    if (inData && depth === 2 && elementStart < 0 && byte !== COMMA && byte !== CLOSE_BRACKET) elementStart = i;
    if (byte === QUOTE) {
      const start = i;
      for (i++; i < n && bytes[i] !== QUOTE; i++) if (bytes[i] === BACKSLASH) i++;
      if (i >= n) throw new MalformedAuditPage('the body ends inside a string');
      if (depth === 1 && expectingKey) {
        keyIsData = open < 0 && i - start === 5 && DATA_KEY.every((b, k) => bytes[start + 1 + k] === b);
        expectingKey = false;
      }
      continue;
    }
    switch (byte) {
      case OPEN_BRACE:
      case OPEN_BRACKET:
        depth++;
        if (depth === 2 && keyIsData && byte === OPEN_BRACKET) {
          inData = true;
          open = i;
        }
        keyIsData = false;
        if (depth === 1) expectingKey = true;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        if (inData && depth === 2) {
          if (byte !== CLOSE_BRACKET) throw new MalformedAuditPage('the data array is not closed by "]"');
          if (elementStart >= 0) spans.push(elementStart, trimmedEnd(bytes, elementStart, i));
          elementStart = -1;
          inData = false;
          close = i;
        }
        depth--;
        if (depth < 0) throw new MalformedAuditPage('unbalanced brackets');
        if (depth === 0) return checkEnd(bytes, i, { spans, open, close });
        break;
      case COMMA:
        if (inData && depth === 2) {
          if (elementStart < 0) throw new MalformedAuditPage('an empty element in the data array');
          spans.push(elementStart, trimmedEnd(bytes, elementStart, i));
          elementStart = -1;
        }
        if (depth === 1) expectingKey = true;
        break;
      case COLON:
        break;
      default:
        // A scalar where `data` was expected is not an array: `data` then stays unset.
        if (depth === 1 && keyIsData) keyIsData = false;
    }
  }
  throw new MalformedAuditPage('the body ends before its closing "}"');
}

function checkEnd(bytes: Uint8Array, last: number, framing: Framing): Framing {
  for (let i = last + 1; i < bytes.length; i++) if (!isSpace(bytes[i])) throw new MalformedAuditPage('text after the closing "}"');
  return framing;
}

function trimmedEnd(bytes: Uint8Array, start: number, end: number): number {
  while (end > start && isSpace(bytes[end - 1])) end--;
  return end;
}

function text(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('utf8', start, end);
}

/** Reads one response body as a page: throws `MalformedAuditPage` with what is wrong when it is not one. */
export function readAuditPage(bytes: Buffer): AuditPage {
  const { spans, open, close } = frameAuditPage(bytes);
  let envelope: unknown;
  try {
    // The body with `data` emptied: meta and links parse as they came, the events are left for later.
    envelope = JSON.parse(open < 0 ? text(bytes, 0, bytes.length) : `${text(bytes, 0, open + 1)}${text(bytes, close, bytes.length)}`);
  } catch (error) {
    throw new MalformedAuditPage(`the envelope is not JSON (${(error as Error).message})`);
  }
  if (open < 0 && (envelope as { data?: unknown }).data !== undefined) throw new MalformedAuditPage('"data" is not an array');
  const rawMeta = (envelope as { meta?: unknown }).meta;
  const meta = rawMeta === undefined ? undefined : AuditPageMetaSchema.safeParse(rawMeta);
  if (meta && !meta.success) {
    throw new MalformedAuditPage(`"meta" is not AuditLogsResponseMetadata: ${meta.error.issues.map((i) => `${i.path.join('.') || 'meta'}: ${i.message}`).join('; ')}`);
  }
  const size = spans.length / 2;
  return {
    size,
    meta: meta?.data,
    *events() {
      for (let k = 0; k < spans.length; k += 2) {
        try {
          yield JSON.parse(text(bytes, spans[k], spans[k + 1])) as unknown;
        } catch (error) {
          throw new MalformedAuditPage(`event ${k / 2 + 1} of ${size} is not JSON (${(error as Error).message})`);
        }
      }
    },
  };
}
