import type { ActorState, CarriedState, IncidentState, PackedState } from './state';

export type { PackedState } from './state';
import type { Hits } from './windows';

/**
 * The carried state as it crosses Temporal (version 4): the same content as `CarriedState`, packed. Incidents stay
 * JSON (few, and read by people in the web UI); the actors and their hits are one base64 string:
 *
 * - actors in id order, each id and display name front- and back-coded against the previous actor's (emails and names
 *   of one org share most of their characters);
 * - each rule's hits newest first, as varint gaps (the newest from the watermark), so a hit costs 1 to 3 bytes;
 * - an event-id hash (7 bytes) only for hits at or after `rereadFrom`, the start of the lateness overlap the next run
 *   reads again: only those can be read twice and need telling apart. An older hit keeps its time and, when its actor
 *   has hits of several rules, which older event it is (so an event counting toward two rules still counts once);
 *   it comes back with a negative placeholder id, distinct per event of its actor, that no real hash can equal.
 *
 * Pure TypeScript, no dependency: the detection core and the activities share it; the workflow never unpacks it.
 */

const HASH_BYTES = 7;
/** Hashes are 52-bit: a stored value at or above this is an older hit's placeholder (value − PLACEHOLDER = index). */
const PLACEHOLDER = 2 ** 52;

class Writer {
  private bytes = new Uint8Array(1024);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** A non-negative integer up to 2^53, 7 bits a byte. */
  varint(value: number): void {
    this.room(8);
    let v = value;
    while (v >= 0x80) {
      this.bytes[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.length++] = v;
  }

  /** Any safe integer (zig-zag). */
  signed(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  fixed(value: number, bytes: number): void {
    this.room(bytes);
    let v = value;
    for (let i = 0; i < bytes; i++) {
      this.bytes[this.length++] = v % 256;
      v = Math.floor(v / 256);
    }
  }

  text(value: string): void {
    const encoded = utf8.encode(value);
    this.varint(encoded.length);
    this.room(encoded.length);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
  }

  /** `value` as what it shares with `previous`: the common prefix and suffix lengths, then the rest. */
  delta(value: string, previous: string): void {
    const max = Math.min(value.length, previous.length);
    let prefix = 0;
    while (prefix < max && value.charCodeAt(prefix) === previous.charCodeAt(prefix)) prefix++;
    let suffix = 0;
    while (suffix < max - prefix && value.charCodeAt(value.length - 1 - suffix) === previous.charCodeAt(previous.length - 1 - suffix)) suffix++;
    this.varint(prefix);
    this.varint(suffix);
    this.text(value.slice(prefix, value.length - suffix));
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.offset >= this.bytes.length) throw new Error('packed state: truncated');
      const byte = this.bytes[this.offset++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  signed(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  fixed(bytes: number): number {
    if (this.offset + bytes > this.bytes.length) throw new Error('packed state: truncated');
    let value = 0;
    let scale = 1;
    for (let i = 0; i < bytes; i++) {
      value += this.bytes[this.offset++] * scale;
      scale *= 256;
    }
    return value;
  }

  text(): string {
    const length = this.varint();
    if (this.offset + length > this.bytes.length) throw new Error('packed state: truncated');
    const value = utf8.decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  delta(previous: string): string {
    const prefix = this.varint();
    const suffix = this.varint();
    const middle = this.text();
    return previous.slice(0, prefix) + middle + previous.slice(previous.length - suffix);
  }
}

// Made on first use: the workflow bundle holds this module (through the core) but never packs or unpacks.
let encoder: { encode(text: string): Uint8Array } | undefined;
let decoder: { decode(bytes: Uint8Array): string } | undefined;
const utf8 = {
  encode: (text: string) => (encoder ??= new TextEncoder()).encode(text),
  decode: (bytes: Uint8Array) => (decoder ??= new TextDecoder('utf-8', { fatal: true })).decode(bytes),
};

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) BASE64_INDEX[BASE64.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    chunk += BASE64[a >> 2] + BASE64[((a & 3) << 4) | (b >> 4)] + (i + 1 < bytes.length ? BASE64[((b & 15) << 2) | (c >> 6)] : '=') + (i + 2 < bytes.length ? BASE64[c & 63] : '=');
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const code = clean.charCodeAt(i);
    const v = code < 128 ? BASE64_INDEX[code] : -1;
    if (v < 0) throw new Error('packed state: not base64');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}


/**
 * Packs the state for Temporal; `latenessMs` is how far before the watermark the next run reads again (hits from there
 * on keep their event-id hash). Does not change `state`.
 */
export function packState(state: CarriedState, latenessMs: number): PackedState {
  const rereadFrom = state.watermark - latenessMs;
  const ruleIndex = new Map<string, number>();
  const rules: string[] = [];
  const incidents: Record<string, IncidentState> = {};
  let crossed: Record<string, Record<string, number>> | undefined;
  const out = new Writer();
  const ids = Object.keys(state.actors).sort();
  out.varint(ids.length);
  let previousId = '';
  let previousName = '';
  for (const id of ids) {
    const actor = state.actors[id];
    if (actor.incident) incidents[id] = actor.incident;
    if (actor.crossed !== undefined && Object.keys(actor.crossed).length > 0) (crossed ??= {})[id] = actor.crossed;
    const ruleIds = Object.keys(actor.hits).filter((ruleId) => actor.hits[ruleId].length > 0);
    out.delta(id, previousId);
    previousId = id;
    out.varint((actor.name !== undefined ? 1 : 0) + ruleIds.length * 2);
    if (actor.name !== undefined) {
      out.delta(actor.name, previousName);
      previousName = actor.name;
    }
    // Which older event each older hit is, when the actor has hits of several rules (one event, several rules).
    const older = ruleIds.length > 1 ? new Map<number, number>() : undefined;
    for (const ruleId of ruleIds) {
      let index = ruleIndex.get(ruleId);
      if (index === undefined) {
        ruleIndex.set(ruleId, (index = rules.length));
        rules.push(ruleId);
      }
      const hits = actor.hits[ruleId];
      const n = hits.length >> 1;
      out.varint(index);
      out.varint(n);
      // Newest first: the newest as its distance from the watermark, each older one as its gap to the next.
      let next = state.watermark;
      for (let i = n - 1; i >= 0; i--) {
        const ts = hits[i << 1];
        out.signed(next - ts);
        next = ts;
      }
      for (let i = 0; i < n; i++) {
        const ts = hits[i << 1];
        const idHash = hits[(i << 1) + 1];
        if (ts >= rereadFrom) out.fixed(idHash >= 0 ? idHash : PLACEHOLDER - idHash - 1, HASH_BYTES);
        else if (older) {
          const seen = older.get(idHash);
          if (seen === undefined) {
            older.set(idHash, older.size);
            out.varint(0);
          } else out.varint(seen + 1);
        }
      }
    }
  }
  return { v: 4, watermark: state.watermark, rereadFrom, rules, actors: toBase64(out.done()), incidents, ...(crossed ? { crossed } : {}) };
}

/** The state a `PackedState` holds, as the detection core works on it (version 3). */
export function unpackState(packed: PackedState): CarriedState {
  const input = new Reader(fromBase64(packed.actors));
  const actors: Record<string, ActorState> = Object.create(null) as Record<string, ActorState>;
  const count = input.varint();
  let previousId = '';
  let previousName = '';
  for (let a = 0; a < count; a++) {
    const id = input.delta(previousId);
    previousId = id;
    const flags = input.varint();
    const actor: ActorState = { hits: {} };
    if (flags & 1) {
      actor.name = input.delta(previousName);
      previousName = actor.name;
    }
    const ruleCount = Math.floor(flags / 2);
    let olderEvents = 0;
    for (let r = 0; r < ruleCount; r++) {
      const ruleId = packed.rules[input.varint()];
      if (ruleId === undefined) throw new Error('packed state: unknown rule index');
      const n = input.varint();
      const hits: Hits = new Array<number>(n * 2);
      let next = packed.watermark;
      for (let i = n - 1; i >= 0; i--) {
        next -= input.signed();
        hits[i << 1] = next;
      }
      for (let i = 0; i < n; i++) {
        const ts = hits[i << 1];
        let idHash: number;
        if (ts >= packed.rereadFrom) {
          const stored = input.fixed(HASH_BYTES);
          idHash = stored >= PLACEHOLDER ? -(stored - PLACEHOLDER) - 1 : stored;
        } else if (ruleCount > 1) {
          const seen = input.varint();
          idHash = seen === 0 ? -(++olderEvents) : -seen;
        } else idHash = -(++olderEvents);
        hits[(i << 1) + 1] = idHash;
      }
      actor.hits[ruleId] = hits;
    }
    const incident = packed.incidents[id];
    if (incident) actor.incident = incident;
    actors[id] = actor;
  }
  for (const id of Object.keys(packed.incidents)) if (!(id in actors)) actors[id] = { hits: {}, incident: packed.incidents[id] };
  // Catalog v3: when each actor last crossed each rule, for correlation (multi_rule), kept as JSON (few, small).
  for (const id of Object.keys(packed.crossed ?? {})) (actors[id] ??= { hits: {} }).crossed = { ...packed.crossed![id] };
  return { v: 3, watermark: packed.watermark, actors };
}
