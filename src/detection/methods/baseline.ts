import { eventIdHash } from '../hash';
import { ByteReader, ByteWriter, fromBase64, toBase64 } from '../byte-packing';
import type { Place } from './person';

/**
 * The persons' baselines of one org (design.md "Default rule catalog v3"): per person, when their first learning-set
 * event was (warm-up), the values they were seen with per learned field (countries by default), each with when it was
 * last seen (forget-after), and their last located event (impossible travel).
 *
 * Bounded whatever the traffic (BASELINE_LIMITS): at most `persons` persons per org, the least recently seen evicted
 * first; per person at most `fields` fields, `valuesPerField` values per field (the least recently seen evicted), values
 * cut to `valueBytes`, cities to `cityChars`. A person is keyed by a 52-bit hash of their id (an email): the baseline
 * never holds an email, and a key costs 7 bytes. `BASELINE_MAX_PERSON_BYTES` is the most one person costs packed.
 *
 * Every change is a merge that can be applied twice, in any order (first: earliest; last seen: latest; last location:
 * the latest), so a retried scan or a late delta never corrupts it.
 */

export interface LastLocation {
  ts: number;
  country: string;
  city?: string;
  lat?: number;
  lon?: number;
}

export interface PersonBaseline {
  /** The person's first learning-set event (warm-up runs from here). */
  first: number;
  /** The person's latest learning-set or located event (eviction takes the least recently seen person first). */
  seen: number;
  /** Per learned field: `[value, lastSeen]`, most recently seen last. */
  values: Record<string, Array<[string, number]>>;
  last?: LastLocation;
}

export const BASELINE_LIMITS = {
  persons: 20_000,
  fields: 4,
  valuesPerField: 8,
  /** UTF-8 bytes of one learned value (an ISO country code is 2). */
  valueBytes: 64,
  cityChars: 48,
  fieldChars: 128,
} as const;

/**
 * The most one person costs packed, in bytes, with the default catalog (one learned field, countries): key 7, seen 6,
 * first 6, field count 1, field index 1 + count 1 + 8 countries × (length 1 + 2 + age 6) = 72, location flags 1,
 * country 2, latitude and longitude 4 + 4, age 6, city 1 + 48 × 3 (UTF-8) = 145: 255. A typical person (two countries,
 * an ASCII city) costs about 55. Custom fields add at most 3 × (2 + 8 × (1 + 64 + 6)) = 1,710.
 */
export const BASELINE_MAX_PERSON_BYTES = 255;

/** How a packed baseline crosses Temporal. */
export interface PackedBaselines {
  v: 1;
  /** Learned fields, indexed by the packed persons. */
  fields: string[];
  /** Persons, least recently seen first: base64 of the layout in `packBaselines`. */
  persons: string;
  count: number;
}

export function personKey(person: string): number {
  return eventIdHash(`person|${person}`);
}

/** Cuts a text to at most `max` UTF-8 bytes, on a character boundary. */
export function cutUtf8(text: string, max: number): string {
  if (text.length * 3 <= max) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = ch.codePointAt(0)! < 0x80 ? 1 : ch.codePointAt(0)! < 0x800 ? 2 : ch.codePointAt(0)! < 0x10000 ? 3 : 4;
    if (bytes + size > max) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

export function cutCity(city: string): string;
export function cutCity(city: string | undefined): string | undefined;
export function cutCity(city: string | undefined): string | undefined {
  if (city === undefined) return undefined;
  let cut = city.slice(0, BASELINE_LIMITS.cityChars);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

/** Keeps the `max` most recently seen values, in last-seen order. */
function keepRecent(values: Array<[string, number]>, max: number): void {
  values.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (values.length > max) values.splice(0, values.length - max);
}

export class Baselines {
  /** Insertion order is recency order: the first entry is the least recently seen person. */
  private readonly persons = new Map<number, PersonBaseline>();
  /** Persons changed since the last `takeDelta` (what a live scan hands back to the store). */
  private readonly changed = new Set<number>();

  constructor(readonly maxPersons: number = BASELINE_LIMITS.persons) {}

  get size(): number {
    return this.persons.size;
  }

  get(person: string): PersonBaseline | undefined {
    return this.persons.get(personKey(person));
  }

  /**
   * The person, seen at `ts`. Marked changed only when this changes what is stored (new, earlier first, later seen):
   * an event read again (the next run's lateness overlap, a retried page) hands nothing back to the store.
   */
  private touch(key: number, ts: number): PersonBaseline {
    let found = this.persons.get(key);
    if (found === undefined) {
      found = { first: ts, seen: ts, values: {} };
      this.put(key, found);
      this.changed.add(key);
    } else {
      if (ts < found.first) {
        found.first = ts;
        this.changed.add(key);
      }
      if (ts >= found.seen) {
        if (ts > found.seen) this.changed.add(key);
        found.seen = ts;
        // Most events come in time order: the person becomes the most recently seen.
        this.persons.delete(key);
        this.persons.set(key, found);
      }
    }
    return found;
  }

  private put(key: number, baseline: PersonBaseline): void {
    this.persons.delete(key);
    this.persons.set(key, baseline);
    while (this.persons.size > this.maxPersons) {
      const oldest = this.persons.keys().next().value as number;
      this.persons.delete(oldest);
      this.changed.delete(oldest);
    }
  }

  /** A learning-set event: the person was seen at `ts` with `value` in `field`. */
  learn(person: string, ts: number, field: string, value: string): void {
    const key = personKey(person);
    const baseline = this.touch(key, ts);
    const kept = cutUtf8(value, BASELINE_LIMITS.valueBytes);
    let values = baseline.values[field];
    if (values === undefined) {
      if (Object.keys(baseline.values).length >= BASELINE_LIMITS.fields) return;
      values = baseline.values[field] = [];
    }
    const known = values.find((entry) => entry[0] === kept);
    if (known) {
      if (ts > known[1]) {
        known[1] = ts;
        this.changed.add(key);
      }
    } else {
      values.push([kept, ts]);
      this.changed.add(key);
    }
    keepRecent(values, BASELINE_LIMITS.valuesPerField);
  }

  /** A located event of a known person: their last location becomes this one if it is the latest. */
  locate(person: string, ts: number, place: Place): void {
    const key = personKey(person);
    if (!this.persons.has(key)) return;
    const baseline = this.touch(key, ts);
    if (baseline.last !== undefined && baseline.last.ts > ts) return;
    const city = cutCity(place.city);
    const last = baseline.last;
    // The same place at the same time (an event read again): nothing to hand back. Coordinates as packed (1e-5 degree).
    const samePoint = (a: number | undefined, b: number | undefined) => a === b || (a !== undefined && b !== undefined && Math.round(a * COORD_SCALE) === Math.round(b * COORD_SCALE));
    if (last !== undefined && last.ts === ts && last.country === place.country && last.city === city && samePoint(last.lat, place.lat) && samePoint(last.lon, place.lon)) return;
    this.changed.add(key);
    baseline.last = {
      ts, country: place.country, ...(city !== undefined ? { city } : {}), ...(place.lat !== undefined && place.lon !== undefined ? { lat: place.lat, lon: place.lon } : {}),
    };
  }

  /** Drops what no rule can use any more at `now`: values older than `forgetAfterMs`, persons unseen for as long. */
  prune(now: number, forgetAfterMs: number): void {
    const before = now - forgetAfterMs;
    for (const [key, baseline] of this.persons) {
      if (baseline.seen <= before) {
        this.persons.delete(key);
        this.changed.add(key);
        continue;
      }
      for (const field of Object.keys(baseline.values)) {
        const values = baseline.values[field].filter((entry) => entry[1] > before);
        if (values.length === 0) delete baseline.values[field];
        else baseline.values[field] = values;
      }
    }
  }

  /** The persons changed since the last call, whole, least recently seen first (to merge into the store); forgets the changes. */
  takeDelta(): Array<[number, PersonBaseline | null]> {
    const delta: Array<[number, PersonBaseline | null]> = [];
    for (const key of this.changed) delta.push([key, this.persons.get(key) ?? null]);
    this.changed.clear();
    delta.sort((a, b) => (a[1]?.seen ?? 0) - (b[1]?.seen ?? 0));
    return delta;
  }

  /** The persons changed since the last `takeDelta`, without forgetting the changes (a scan's checkpoint). */
  peekDelta(): Array<[number, PersonBaseline]> {
    const delta: Array<[number, PersonBaseline]> = [];
    for (const key of this.changed) {
      const person = this.persons.get(key);
      if (person !== undefined) delta.push([key, person]);
    }
    return delta;
  }

  /** `merge`, and the persons merged count as changed (a resumed scan's checkpoint: saved at its end like its own). */
  mergeChanged(delta: Array<[number, PersonBaseline]>): void {
    this.merge(delta);
    for (const [key] of delta) if (this.persons.has(key)) this.changed.add(key);
  }

  /** Merges another copy of some persons (a scan's delta) in, idempotently. A null entry (pruned) is ignored. */
  merge(delta: Iterable<[number, PersonBaseline | null]>): void {
    for (const [key, incoming] of delta) {
      if (incoming === null) continue;
      const mine = this.persons.get(key);
      if (mine === undefined) {
        this.put(key, structuredCloneBaseline(incoming));
        continue;
      }
      mine.first = Math.min(mine.first, incoming.first);
      for (const field of Object.keys(incoming.values)) {
        const values = (mine.values[field] ??= []);
        for (const [value, lastSeen] of incoming.values[field]) {
          const known = values.find((entry) => entry[0] === value);
          if (known) known[1] = Math.max(known[1], lastSeen);
          else values.push([value, lastSeen]);
        }
        keepRecent(values, BASELINE_LIMITS.valuesPerField);
      }
      if (incoming.last && (!mine.last || incoming.last.ts > mine.last.ts)) mine.last = { ...incoming.last };
      if (incoming.seen > mine.seen) {
        mine.seen = incoming.seen;
        this.put(key, mine);
      }
    }
  }

  entries(): IterableIterator<[number, PersonBaseline]> {
    return this.persons.entries();
  }
}

function structuredCloneBaseline(baseline: PersonBaseline): PersonBaseline {
  const values: Record<string, Array<[string, number]>> = {};
  for (const field of Object.keys(baseline.values)) values[field] = baseline.values[field].map(([v, t]) => [v, t]);
  return { first: baseline.first, seen: baseline.seen, values, ...(baseline.last ? { last: { ...baseline.last } } : {}) };
}

/** The baseline's varints are whole and never negative: a fraction is cut, a negative value packs as 0. */
class BaselineWriter extends ByteWriter {
  override varint(value: number): void {
    super.varint(Math.max(0, Math.floor(value)));
  }
}

const KEY_BYTES = 7;
const HAS_LAST = 1;
const HAS_COORDS = 2;
const HAS_CITY = 4;
/** Coordinates kept to 1e-5 degree (about 1 m). */
const COORD_SCALE = 1e5;

/**
 * Packs persons (least recently seen first). Per person: key (7 bytes), seen (zig-zag varint ms after the previous person's
 * seen: persons come in recency order, so usually a few bytes), first (varint ms before seen), the fields (index, count,
 * then per value its text and varint ms before seen), then the last location (flags; country; latitude and longitude
 * as zig-zag varints of 1e-5 degrees; varint ms before seen; city).
 */
export function packPersons(persons: Iterable<[number, PersonBaseline]>): PackedBaselines {
  const fields: string[] = [];
  const fieldIndex = new Map<string, number>();
  const w = new BaselineWriter(4096);
  let previousSeen = 0;
  let count = 0;
  for (const [key, p] of persons) {
    count++;
    w.fixed(key, KEY_BYTES);
    w.signed(p.seen - previousSeen);
    previousSeen = p.seen;
    w.varint(p.seen - p.first);
    const names = Object.keys(p.values);
    w.varint(names.length);
    for (const name of names) {
      let index = fieldIndex.get(name);
      if (index === undefined) {
        index = fields.length;
        fields.push(name.slice(0, BASELINE_LIMITS.fieldChars));
        fieldIndex.set(name, index);
      }
      w.varint(index);
      const values = p.values[name];
      w.varint(values.length);
      for (const [value, lastSeen] of values) {
        w.text(value);
        w.varint(p.seen - lastSeen);
      }
    }
    const last = p.last;
    const flags = last ? HAS_LAST | (last.lat !== undefined && last.lon !== undefined ? HAS_COORDS : 0) | (last.city !== undefined ? HAS_CITY : 0) : 0;
    w.varint(flags);
    if (last) {
      w.fixed(last.country.charCodeAt(0), 1);
      w.fixed(last.country.charCodeAt(1), 1);
      if (flags & HAS_COORDS) {
        w.signed(Math.round(last.lat! * COORD_SCALE));
        w.signed(Math.round(last.lon! * COORD_SCALE));
      }
      w.varint(p.seen - last.ts);
      if (flags & HAS_CITY) w.text(last.city!);
    }
  }
  return { v: 1, fields, persons: toBase64(w.done()), count };
}

export function unpackPersons(packed: PackedBaselines): Array<[number, PersonBaseline]> {
  const r = new ByteReader(fromBase64(packed.persons), 'packed baseline', { lenientUtf8: true });
  const out: Array<[number, PersonBaseline]> = [];
  let previousSeen = 0;
  for (let n = 0; n < packed.count; n++) {
    const key = r.fixed(KEY_BYTES);
    const seen = previousSeen + r.signed();
    previousSeen = seen;
    const first = seen - r.varint();
    const values: Record<string, Array<[string, number]>> = {};
    const fieldCount = r.varint();
    for (let f = 0; f < fieldCount; f++) {
      const name = packed.fields[r.varint()];
      const list: Array<[string, number]> = [];
      const valueCount = r.varint();
      for (let i = 0; i < valueCount; i++) {
        const value = r.text();
        list.push([value, seen - r.varint()]);
      }
      if (name !== undefined) values[name] = list;
    }
    const flags = r.varint();
    const baseline: PersonBaseline = { first, seen, values };
    if (flags & HAS_LAST) {
      const country = String.fromCharCode(r.fixed(1), r.fixed(1));
      let lat: number | undefined;
      let lon: number | undefined;
      if (flags & HAS_COORDS) {
        lat = r.signed() / COORD_SCALE;
        lon = r.signed() / COORD_SCALE;
      }
      const ts = seen - r.varint();
      const city = flags & HAS_CITY ? r.text() : undefined;
      baseline.last = { ts, country, ...(city !== undefined ? { city } : {}), ...(lat !== undefined ? { lat, lon } : {}) };
    }
    out.push([key, baseline]);
  }
  return out;
}

export function packBaselines(baselines: Baselines): PackedBaselines {
  return packPersons(baselines.entries());
}

export function unpackBaselines(packed: PackedBaselines | undefined, maxPersons: number = BASELINE_LIMITS.persons): Baselines {
  const baselines = new Baselines(maxPersons);
  if (packed) baselines.merge(unpackPersons(packed));
  baselines.takeDelta();
  return baselines;
}

/** A scan's changes, packed to cross Temporal: the changed persons whole (the store merges them). */
export function packDelta(delta: Array<[number, PersonBaseline | null]>): PackedBaselines {
  return packPersons(delta.filter((entry): entry is [number, PersonBaseline] => entry[1] !== null));
}

export function isPackedBaselines(value: unknown): value is PackedBaselines {
  if (value === null || typeof value !== 'object') return false;
  const p = value as Partial<PackedBaselines>;
  return p.v === 1 && Array.isArray(p.fields) && typeof p.persons === 'string' && typeof p.count === 'number';
}
