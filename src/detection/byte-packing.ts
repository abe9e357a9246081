/**
 * The byte codec of the packed forms that cross Temporal (the carried state, packed-state.ts, and the persons'
 * baselines, methods/baseline.ts): varints (7 bits a byte), zig-zag signed varints, little-endian fixed-width
 * integers, length-prefixed UTF-8 texts, texts front- and back-coded against a previous one, and base64.
 *
 * Pure TypeScript, no dependency: the workflow bundle holds this module (through the detection core) but never packs
 * or unpacks, so the UTF-8 encoder and decoders are made on first use.
 */

let encoder: { encode(text: string): Uint8Array } | undefined;
let strictDecoder: { decode(bytes: Uint8Array): string } | undefined;
let lenientDecoder: { decode(bytes: Uint8Array): string } | undefined;
const utf8Encode = (text: string): Uint8Array => (encoder ??= new TextEncoder()).encode(text);

export class ByteWriter {
  private bytes: Uint8Array;
  length = 0;

  constructor(initialSize = 1024) {
    this.bytes = new Uint8Array(initialSize);
  }

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
    const encoded = utf8Encode(value);
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

export class ByteReader {
  offset = 0;
  private readonly decoder: { decode(bytes: Uint8Array): string };

  /**
   * `what` names the packed form in errors (`<what>: truncated`). A text that is not UTF-8 throws, unless
   * `lenientUtf8`, where its bad bytes read as U+FFFD.
   */
  constructor(private readonly bytes: Uint8Array, private readonly what: string, options: { lenientUtf8?: boolean } = {}) {
    this.decoder = options.lenientUtf8 ? (lenientDecoder ??= new TextDecoder('utf-8')) : (strictDecoder ??= new TextDecoder('utf-8', { fatal: true }));
  }

  private truncated(): Error {
    return new Error(`${this.what}: truncated`);
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.offset >= this.bytes.length) throw this.truncated();
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
    if (this.offset + bytes > this.bytes.length) throw this.truncated();
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
    if (this.offset + length > this.bytes.length) throw this.truncated();
    const value = this.decoder.decode(this.bytes.subarray(this.offset, this.offset + length));
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
