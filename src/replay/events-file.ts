import { closeSync, openSync, readSync } from 'node:fs';
import { eventTimestamp, innerAttributes } from '../detection/event-fields';
import type { AuditEventLike } from '../detection/types';
import type { ReplaySource } from './engine';

/**
 * Reads a file of Datadog audit events for a replay, in the shapes a person actually has:
 * - JSON Lines: one event per line (blank lines ignored);
 * - a saved API response `{"data": [...], "meta": …}`, one page or several concatenated (one per line, or
 *   pretty-printed over many lines);
 * - a JSON array of events (one line or pretty-printed).
 *
 * Memory: the file is read in fixed-size chunks, never whole. The read keeps, per usable event, its timestamp, byte
 * offset and length (24 bytes), and the most recent events parsed (up to `keepParsedBytes` of their JSON). A file in
 * time order (the usual case) is replayed while it is read, in one pass (`Follow`). A file out of order is replayed
 * after the read, in time order, each event read again by its offset (or taken from those kept). Peak memory is a fixed
 * part (chunks, the events kept, the largest event, the events of the busiest run) plus 24 bytes per usable event;
 * past `maxEvents` usable events the read stops with an error that says so (split the file by time).
 */

/** Why an event (or a line, or a top-level value) was not replayed. Their sum is `eventsSkipped`. */
export interface SkipCounts {
  /** A line or value that is not JSON (or not a JSON object). */
  notJson: number;
  /** JSON, but not an audit event: no `attributes.attributes` object. */
  notAnEvent: number;
  /** An event whose `attributes.timestamp` is missing or not a time. */
  noTimestamp: number;
  /** A time outside the accepted range (`earliest`..`latest`): a unit mistake (epoch seconds) or a made-up date. */
  implausibleTimestamp: number;
}

export type EventsFileFormat = 'empty' | 'json-lines' | 'api-response' | 'json-array' | 'mixed';

export interface EventsFileOptions {
  /** Epoch ms: events before it are implausible (counted as skipped). */
  earliestMs: number;
  /** Epoch ms: events after it are implausible (counted as skipped). */
  latestMs: number;
  /** Usable events the index may hold (24 bytes each) before the read stops with an error. */
  maxEvents?: number;
  /** Bytes read at a time (tests use small chunks to cross chunk boundaries). */
  chunkBytes?: number;
  /** Events (by their JSON size) kept parsed from the first pass, so that a small file is parsed once. */
  keepParsedBytes?: number;
}

/** The default bounds of a plausible audit event time: Datadog's Audit Trail did not exist before 2000, nor does the future. */
export const DEFAULT_EARLIEST_MS = Date.parse('2000-01-01T00:00:00.000Z');
export const LATEST_SLACK_MS = 86_400_000;
export const DEFAULT_MAX_EVENTS = 20_000_000;
/** No single event (or top-level value that is not a page) may be larger: Datadog's are a few kilobytes. */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;
const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * About 13,000 events of 600 bytes (some 40 MB parsed): a small file out of time order is parsed once, and a file in
 * order finds the events of the run under way here. The rest is parsed again from the file when replayed.
 */
export const DEFAULT_KEEP_PARSED_BYTES = 8 * 1024 * 1024;

export class EventsFileError extends Error {}

export interface EventsFile extends ReplaySource {
  path: string;
  format: EventsFileFormat;
  /** Events read (elements of data[] or of an array, event lines), plus the lines or values that were not JSON. */
  read: number;
  skipped: SkipCounts;
  /** The earliest and latest implausible timestamps seen (epoch ms), when there were any. */
  implausible?: { earliest: number; latest: number };
  /** The usable events were in time order: a replay that followed the read (`Follow`) saw all of them, in order. */
  inOrder: boolean;
  /** Closes the file; the source is unusable after. */
  close(): void;
}

const enum Byte {
  Tab = 9, Newline = 10, Return = 13, Space = 32, Quote = 34, Comma = 44, Colon = 58,
  OpenBracket = 91, Backslash = 92, CloseBracket = 93, OpenBrace = 123, CloseBrace = 125,
}

const isSpace = (b: number) => b === Byte.Space || b === Byte.Newline || b === Byte.Return || b === Byte.Tab;
const DATA = [100, 97, 116, 97]; // "data"

/** Growable columns of the index: timestamp, byte offset and byte length of each usable event, in file order. */
class Index {
  ts = new Float64Array(1 << 14);
  offset = new Float64Array(1 << 14);
  length = new Uint32Array(1 << 14);
  size = 0;
  sorted = true;

  constructor(private readonly max: number, private readonly path: string) {}

  push(ts: number, offset: number, length: number): void {
    if (this.size === this.max) {
      throw new EventsFileError(`${this.path}: more than ${this.max.toLocaleString('en-US')} usable events; the replay keeps 24 bytes per event in memory ` +
        'and stops here rather than run out of it. Split the file by time (each part replays on its own; a burst that spans two parts is seen in both).');
    }
    if (this.size === this.ts.length) {
      const grow = <T extends Float64Array | Uint32Array>(from: T, make: (n: number) => T): T => {
        const to = make(Math.min(this.max, from.length * 2));
        to.set(from);
        return to;
      };
      this.ts = grow(this.ts, (n) => new Float64Array(n));
      this.offset = grow(this.offset, (n) => new Float64Array(n));
      this.length = grow(this.length, (n) => new Uint32Array(n));
    }
    if (this.size > 0 && ts < this.ts[this.size - 1]) this.sorted = false;
    this.ts[this.size] = ts;
    this.offset[this.size] = offset;
    this.length[this.size] = length;
    this.size++;
  }
}

/** How the file is split into values: per line (a broken line is one skip), or as one JSON text (newlines are whitespace). */
function detectLineMode(fd: number, chunkBytes: number): boolean {
  const buffer = Buffer.alloc(Math.min(chunkBytes, 1024 * 1024));
  const n = readSync(fd, buffer, 0, buffer.length, 0);
  const lines = buffer.toString('utf8', 0, n).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const complete = n < buffer.length ? lines : lines.slice(0, -1);
  const parses = (line: string | undefined) => {
    if (line === undefined) return false;
    try {
      const value: unknown = JSON.parse(line);
      return value !== null && typeof value === 'object';
    } catch {
      return false;
    }
  };
  if (complete.length === 0) return true; // one long first line (or none): the same either way
  if (parses(complete[0])) return true;
  // A first line that opens a value without closing it: a pretty-printed document (`{`, `[`, `{"data": [`).
  if (complete[0].startsWith('{') || complete[0].startsWith('[')) return false;
  // A first line that is not JSON at all (a header, a note) before JSON Lines.
  return parses(complete[1]);
}

function hasByteOrderMark(fd: number): boolean {
  const head = Buffer.alloc(3);
  return readSync(fd, head, 0, 3, 0) === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
}

/** Reads and indexes the file (first pass); the result reads each event again when the replay asks for it. */
export function openEventsFile(path: string, options: EventsFileOptions, follow?: Follow): EventsFile {
  const fd = openSync(path, 'r');
  try {
    return indexFile(fd, path, options, follow);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Given the file as a source (while it is read), returns what to call as each usable event comes, for as long as the
 * file is in time order: the events before index `known` are all the events before `nextTs`.
 */
export type Follow = (source: ReplaySource) => (known: number, nextTs: number) => void;

function indexFile(fd: number, path: string, options: EventsFileOptions, follow?: Follow): EventsFile {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const index = new Index(options.maxEvents ?? DEFAULT_MAX_EVENTS, path);
  const source = new FileEvents(fd, path, index, options.keepParsedBytes ?? DEFAULT_KEEP_PARSED_BYTES, chunkBytes);
  const onEvent = follow?.(source);
  const skipped: SkipCounts = { notJson: 0, notAnEvent: 0, noTimestamp: 0, implausibleTimestamp: 0 };
  let implausible: EventsFile['implausible'];
  let read = 0;
  const shapes = { lines: 0, pages: 0, arrays: 0 };
  let lineMode = detectLineMode(fd, chunkBytes);

  /** One candidate event: parsed once here for its timestamp, then dropped (the replay reads it again by offset). */
  const consider = (buffer: Buffer, start: number, end: number, globalStart: number) => {
    let event: unknown;
    try {
      event = JSON.parse(buffer.toString('utf8', start, end));
    } catch {
      read++;
      skipped.notJson++;
      return;
    }
    classify(event, globalStart, end - start);
  };
  const classify = (event: unknown, globalStart: number, byteLength: number) => {
    read++;
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      skipped.notJson++;
      return;
    }
    if (innerAttributes(event as AuditEventLike) === undefined) {
      skipped.notAnEvent++;
      return;
    }
    const ts = eventTimestamp(event as AuditEventLike);
    if (ts !== ts) {
      skipped.noTimestamp++;
      return;
    }
    if (ts < options.earliestMs || ts > options.latestMs) {
      skipped.implausibleTimestamp++;
      implausible = implausible ? { earliest: Math.min(implausible.earliest, ts), latest: Math.max(implausible.latest, ts) } : { earliest: ts, latest: ts };
      return;
    }
    // While the file is in time order, the replay runs as it is read: every run that ends by this event's time.
    if (onEvent !== undefined && index.sorted && (index.size === 0 || ts >= index.ts[index.size - 1])) onEvent(index.size, ts);
    source.keep(index.size, event as AuditEventLike, byteLength);
    index.push(ts, globalStart, byteLength);
  };

  // Scanner state, kept across chunks. Depth counts open objects and arrays.
  let depth = 0;
  let inString = false;
  /** Top-level value: its kind (0 none, '{' or '['), where it starts, whether it is a page (has a `data` array). */
  let top = 0;
  let topStart = -1;
  let topIsPage = false;
  /** In the top-level object: whether the next string is a key, and whether the last key read is `data`. */
  let expectKey = false;
  let keyIsData = false;
  let keyProgress = -1;
  /** The depth whose direct children are events (1 in a top-level array, 2 in a `data` array), or -1. */
  let elementDepth = -1;
  let expectElement = false;
  let elementStart = -1;
  /** The rest of the line (or value) is unreadable: skip to the next newline. */
  let skipToNewline = false;
  /** In a string, the chunk ended on an odd run of backslashes. */
  let escapeNext = false;

  const resetTop = () => {
    depth = 0;
    inString = false;
    top = 0;
    topStart = -1;
    topIsPage = false;
    expectKey = false;
    keyIsData = false;
    keyProgress = -1;
    elementDepth = -1;
    expectElement = false;
    elementStart = -1;
    escapeNext = false;
  };
  const unreadable = () => {
    read++;
    skipped.notJson++;
    resetTop();
    skipToNewline = true;
  };

  let carry: Buffer = Buffer.alloc(0);
  let filePos = hasByteOrderMark(fd) ? 3 : 0;
  let carryBase = filePos; // global offset of carry[0]
  const chunk = Buffer.alloc(chunkBytes);
  for (;;) {
    const n = readSync(fd, chunk, 0, chunkBytes, filePos);
    const atEnd = n === 0;
    const buffer = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    const base = carryBase;
    let i = carry.length;
    const length = buffer.length;
    filePos += n;
    /** The next newline at or after the scan (recomputed only once passed: one search per line, not per string). */
    let nextNewline = -1;
    while (i < length) {
      const b = buffer[i];
      if (skipToNewline) {
        const nl = buffer.indexOf(Byte.Newline, i);
        if (nl === -1) {
          i = length;
          break;
        }
        skipToNewline = false;
        i = nl + 1;
        continue;
      }
      if (inString) {
        if (escapeNext) {
          // The chunk before ended on an odd run of backslashes: this byte is escaped.
          escapeNext = false;
          if (keyProgress >= 0) keyProgress = 5;
          i++;
          continue;
        }
        // Jump to the next quote; an odd run of backslashes before it escapes it.
        let q = buffer.indexOf(Byte.Quote, i);
        if (q === -1) q = length;
        if (keyProgress >= 0) {
          for (let k = i; k < q; k++) {
            if (keyProgress < 4 && buffer[k] === DATA[keyProgress]) keyProgress++;
            else keyProgress = 5;
          }
        }
        if (nextNewline < i) {
          nextNewline = buffer.indexOf(Byte.Newline, i);
          if (nextNewline === -1) nextNewline = length;
        }
        if (nextNewline < q) {
          // A raw newline inside a string: the line was cut short. JSON Lines from here on, whatever the first line said.
          lineMode = true;
          unreadable();
          i = nextNewline;
          continue;
        }
        let slashes = 0;
        for (let k = q - 1; k >= i && buffer[k] === Byte.Backslash; k--) slashes++;
        if (q === length) {
          escapeNext = slashes % 2 === 1;
          i = length;
          break;
        }
        i = q + 1;
        if (slashes % 2 === 1) {
          if (keyProgress >= 0) keyProgress = 5;
          continue;
        }
        inString = false;
        if (keyProgress >= 0) {
          keyIsData = keyProgress === 4;
          keyProgress = -1;
        }
        continue;
      }
      if (b === Byte.Newline && lineMode && depth > 0) {
        // A line that ends inside a value: cut short, or pretty-printed in a JSON Lines file.
        unreadable();
        skipToNewline = false;
        i++;
        continue;
      }
      if (isSpace(b)) {
        i++;
        continue;
      }
      if (depth === 0) {
        if (lineMode && b === Byte.OpenBrace) {
          // Fast path for a JSON Lines event: the whole line at once, no byte scan. A line that is a page (or not one
          // JSON value) is scanned below as any other.
          let end = buffer.indexOf(Byte.Newline, i);
          if (end !== -1 || atEnd) {
            const next = end === -1 ? length : end + 1;
            if (end === -1) end = length;
            let value: unknown;
            try {
              value = JSON.parse(buffer.toString('utf8', i, end));
            } catch {
              value = undefined;
            }
            if (value !== null && typeof value === 'object' && !Array.isArray(value) && !Array.isArray((value as { data?: unknown }).data)) {
              shapes.lines++;
              while (end > i && isSpace(buffer[end - 1])) end--;
              classify(value, base + i, end - i);
              i = next;
              continue;
            }
          }
        }
        if (b === Byte.OpenBrace || b === Byte.OpenBracket) {
          top = b;
          topStart = base + i;
          topIsPage = false;
          depth = 1;
          if (b === Byte.OpenBrace) expectKey = true;
          else {
            elementDepth = 1;
            expectElement = true;
          }
          i++;
          continue;
        }
        unreadable();
        continue;
      }
      if (b === Byte.Quote) {
        inString = true;
        if (depth === 1 && top === Byte.OpenBrace && expectKey) keyProgress = 0;
        if (depth === elementDepth && expectElement) {
          read++;
          skipped.notAnEvent++;
          expectElement = false;
        }
        i++;
        continue;
      }
      if (b === Byte.OpenBrace || b === Byte.OpenBracket) {
        if (depth === elementDepth && expectElement) {
          expectElement = false;
          if (b === Byte.OpenBrace) elementStart = base + i;
          else {
            read++;
            skipped.notAnEvent++;
          }
        } else if (depth === 1 && top === Byte.OpenBrace && b === Byte.OpenBracket && keyIsData && !expectKey) {
          topIsPage = true;
          elementDepth = 2;
          expectElement = true;
        }
        depth++;
        i++;
        continue;
      }
      if (b === Byte.CloseBrace || b === Byte.CloseBracket) {
        depth--;
        i++;
        if (elementStart >= 0 && depth === elementDepth) {
          consider(buffer, elementStart - base, i, elementStart);
          elementStart = -1;
        } else if (depth === 1 && elementDepth === 2) {
          elementDepth = -1; // the data array closed
        } else if (depth === 0) {
          if (top === Byte.OpenBrace && !topIsPage) {
            shapes.lines++;
            consider(buffer, topStart - base, i, topStart);
          } else if (top === Byte.OpenBrace) shapes.pages++;
          else shapes.arrays++;
          resetTop();
        } else if (depth < 0) {
          resetTop();
          unreadable();
        }
        continue;
      }
      if (depth === 1 && top === Byte.OpenBrace) {
        if (b === Byte.Colon) expectKey = false;
        else if (b === Byte.Comma) {
          expectKey = true;
          keyIsData = false;
        }
      }
      if (depth === elementDepth) {
        if (b === Byte.Comma) expectElement = true;
        else if (expectElement) {
          // A number, true, false or null where an event should be.
          read++;
          skipped.notAnEvent++;
          expectElement = false;
        }
      }
      i++;
    }
    if (atEnd) break;
    // Keep the unfinished event (or a top-level object that may yet be one) for the next chunk; nothing else.
    const keepFrom = elementStart >= 0 ? elementStart : top === Byte.OpenBrace && !topIsPage ? topStart : base + length;
    if (base + length - keepFrom > MAX_VALUE_BYTES) {
      throw new EventsFileError(`${path}: a JSON value larger than ${MAX_VALUE_BYTES / 1024 / 1024} MB starts at byte ${keepFrom}; ` +
        'an audit event is a few kilobytes: is this a file of Datadog audit events (JSON Lines, an API response {"data": [...]}, or a JSON array)?');
    }
    carry = Buffer.from(buffer.subarray(keepFrom - base));
    carryBase = keepFrom;
  }
  if (depth > 0 && !skipToNewline) {
    // The file ends inside a value (a download cut short): what was complete counts, the rest is one skip.
    read++;
    skipped.notJson++;
  }
  const format: EventsFileFormat = read === 0 ? 'empty'
    : [shapes.pages > 0, shapes.arrays > 0, shapes.lines > 0].filter(Boolean).length > 1 ? 'mixed'
    : shapes.pages > 0 ? 'api-response' : shapes.arrays > 0 ? 'json-array' : 'json-lines';
  source.complete({ format, read, skipped, ...(implausible ? { implausible } : {}) });
  return source;
}

/** The file as a replay source: live while the first pass reads it (in file order), in time order once it is read. */
class FileEvents implements EventsFile {
  format: EventsFileFormat = 'empty';
  read = 0;
  skipped: SkipCounts = { notJson: 0, notAnEvent: 0, noTimestamp: 0, implausibleTimestamp: 0 };
  implausible?: { earliest: number; latest: number };
  /** Whether the file was in time order: then a replay that followed the first pass saw every event in order. */
  inOrder = true;
  /** Time order, when the file is not in it: a permutation of the file order. */
  private order?: Uint32Array;
  /** The most recent events parsed by the first pass, by file index from `keptFrom` on, up to `keepBytes` of their JSON. */
  private readonly kept: Array<AuditEventLike | undefined> = [];
  private keptFrom = 0;
  private keptBytes = 0;
  private cache = Buffer.alloc(0);
  private cacheStart = 0;
  private cacheEnd = 0;
  // Read-ahead that adapts: a whole chunk while reads serve many events (a file in order, or in reverse order, as the
  // API's newest-first pages are), shrinking to little more than one event when the order jumps about (shuffled).
  private window: number;
  private served = 0;
  private lastStart = -1;
  private open = true;

  constructor(private readonly fd: number, readonly path: string, private readonly index: Index, private readonly keepBytes: number, private readonly chunkBytes: number) {
    this.window = chunkBytes;
  }

  get size(): number {
    return this.index.size;
  }

  keep(k: number, event: AuditEventLike, bytes: number): void {
    if (bytes > this.keepBytes) return;
    this.kept[k] = event;
    this.keptBytes += bytes;
    while (this.keptBytes > this.keepBytes) {
      const oldest = this.kept[this.keptFrom];
      if (oldest !== undefined) {
        this.kept[this.keptFrom] = undefined;
        this.keptBytes -= this.index.length[this.keptFrom];
      }
      this.keptFrom++;
    }
  }

  complete(facts: Pick<EventsFile, 'format' | 'read' | 'skipped' | 'implausible'>): void {
    Object.assign(this, facts);
    const { size, sorted, ts } = this.index;
    this.inOrder = sorted;
    if (!sorted) {
      const order = new Uint32Array(size);
      for (let k = 0; k < size; k++) order[k] = k;
      order.sort((a, b) => ts[a] - ts[b] || a - b);
      this.order = order;
    }
  }

  tsAt(i: number): number {
    return this.index.ts[this.order ? this.order[i] : i];
  }

  eventAt(i: number): AuditEventLike {
    const k = this.order ? this.order[i] : i;
    const held = this.kept[k];
    if (held !== undefined) return held;
    const start = this.index.offset[k];
    const length = this.index.length[k];
    const end = start + length;
    if (start < this.cacheStart || end > this.cacheEnd) {
      if (this.lastStart >= 0) {
        this.window = this.served >= 8 ? Math.min(this.chunkBytes, this.window * 2) : Math.max(Math.min(this.chunkBytes, 4096), this.window >> 2);
      }
      this.served = 0;
      const from = start < this.lastStart ? Math.max(0, end - Math.max(this.window, length)) : start;
      const want = Math.max(this.window, end - from);
      if (this.cache.length < want) this.cache = Buffer.alloc(Math.max(want, this.chunkBytes));
      const n = readSync(this.fd, this.cache, 0, want, from);
      this.cacheStart = from;
      this.cacheEnd = from + n;
      if (this.cacheEnd < end) throw new EventsFileError(`${this.path} changed while it was replayed (an event at byte ${start} is no longer whole)`);
    } else this.served++;
    this.lastStart = start;
    return JSON.parse(this.cache.toString('utf8', start - this.cacheStart, end - this.cacheStart)) as AuditEventLike;
  }

  close(): void {
    if (this.open) closeSync(this.fd);
    this.open = false;
  }
}
