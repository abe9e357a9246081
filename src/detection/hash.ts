/**
 * A 64-bit, non-cryptographic hash (two cross-mixed 32-bit FNV-1a lanes) as 16 hex digits.
 * Dependency-free and deterministic, so the workflow sandbox and the core can share it.
 */
export function hash64(text: string): string {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x050c5d1f | 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}
