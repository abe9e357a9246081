const HEX_DIGITS = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

function hexOf(value: number, nibble: number): number {
  return HEX_DIGITS[(value >>> (nibble * 4)) & 15];
}

/** The two 32-bit lanes of `hash64`, as signed integers. */
export function hashLanes(text: string): [number, number] {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x050c5d1f | 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
  }
  return [h1, h2];
}

/**
 * A 64-bit, non-cryptographic hash (two cross-mixed 32-bit FNV-1a lanes) as 16 hex digits.
 * Dependency-free and deterministic, so the workflow sandbox and the core can share it. Its output is part of the
 * carried state and of PagerDuty dedup keys: it must never change.
 */
export function hash64(text: string): string {
  const [h1, h2] = hashLanes(text);
  // One string built from its character codes: several times faster than toString(16) and padStart on each lane.
  return String.fromCharCode(
    hexOf(h1, 7), hexOf(h1, 6), hexOf(h1, 5), hexOf(h1, 4), hexOf(h1, 3), hexOf(h1, 2), hexOf(h1, 1), hexOf(h1, 0),
    hexOf(h2, 7), hexOf(h2, 6), hexOf(h2, 5), hexOf(h2, 4), hexOf(h2, 3), hexOf(h2, 2), hexOf(h2, 1), hexOf(h2, 0),
  );
}
