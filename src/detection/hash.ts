const HEX_DIGITS = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** The lanes of the last `mix`; module scratch instead of a returned pair, so the per-event hash allocates nothing. */
const lanes = new Int32Array(2);

function mix(text: string): void {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x050c5d1f | 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
  }
  lanes[0] = h1;
  lanes[1] = h2;
}

function hexOf(value: number, nibble: number): number {
  return HEX_DIGITS[(value >>> (nibble * 4)) & 15];
}

/** The two 32-bit lanes of `hash64`, as signed integers. */
export function hashLanes(text: string): [number, number] {
  mix(text);
  return [lanes[0], lanes[1]];
}

/**
 * A 64-bit, non-cryptographic hash (two cross-mixed 32-bit FNV-1a lanes) as 16 hex digits.
 * Dependency-free and deterministic, so the workflow sandbox and the core can share it. Its output is part of
 * PagerDuty dedup keys: it must never change.
 */
export function hash64(text: string): string {
  mix(text);
  const h1 = lanes[0];
  const h2 = lanes[1];
  // One string built from its character codes: several times faster than toString(16) and padStart on each lane.
  return String.fromCharCode(
    hexOf(h1, 7), hexOf(h1, 6), hexOf(h1, 5), hexOf(h1, 4), hexOf(h1, 3), hexOf(h1, 2), hexOf(h1, 1), hexOf(h1, 0),
    hexOf(h2, 7), hexOf(h2, 6), hexOf(h2, 5), hexOf(h2, 4), hexOf(h2, 3), hexOf(h2, 2), hexOf(h2, 1), hexOf(h2, 0),
  );
}

const LOW_BITS = 2 ** 20;

/**
 * The first 52 bits of `hash64(text)` as a number (exact in a double and in JSON): how the carried state remembers an
 * event id. A number needs no string per event, and 52 bits leave a collision between two events of one actor and
 * rule in the same window at odds far below one in a billion.
 */
export function eventIdHash(text: string): number {
  mix(text);
  return (lanes[0] >>> 0) * LOW_BITS + (lanes[1] >>> 12);
}

const HEX16 = /^[0-9a-f]{16}$/;

/** `eventIdHash` of the event whose `hash64` is `hex` (state carried before version 2 kept the hex form). */
export function eventIdHashFromHex64(hex: string): number {
  if (!HEX16.test(hex)) return eventIdHash(hex);
  return Number.parseInt(hex.slice(0, 8), 16) * LOW_BITS + (Number.parseInt(hex.slice(8), 16) >>> 12);
}
