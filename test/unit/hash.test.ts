import { eventIdHash, eventIdHashFromHex64, hash64, hashLanes } from '../../src/detection/hash';
import { prng } from '../../sim/sample-day';

/**
 * hash64's output is sent to PagerDuty (dedup keys), and its first 52 bits are carried in the state (event ids): a change
 * would open second incidents for bursts in progress after an upgrade and count re-read events twice. These values
 * come from its first implementation.
 */
describe('hash64 never changes', () => {
  test.each([
    ['', '811c9dc5050c5d1f'],
    ['a', 'e40c292c7076e542'],
    ['AQAAAZMjAyNi0xMS0yNFQwMDowMDowMC4wNDJafGp1bi45NTNAZXhhbXBsZS5jb218cm9sZXxhY2Nlc3NlZHww', '169419a3488cd250'],
    ['acme|mallory@example.com|1795514400000', '24841ff45e439fa8'],
    ['é ☃ 𝄞', '0aab2cd5e50b85fa'],
  ])('%j → %s', (text, expected) => {
    expect(hash64(text)).toBe(expected);
  });

  test('is its two lanes formatted by toString(16), on 10,000 random strings', () => {
    const random = prng(64);
    for (let n = 0; n < 10_000; n++) {
      const text = Array.from({ length: Math.floor(random() * 60) }, () => String.fromCharCode(Math.floor(random() * 0x3000))).join('');
      const [h1, h2] = hashLanes(text);
      const expected = (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
      if (hash64(text) !== expected) expect({ text, got: hash64(text) }).toEqual({ text, got: expected });
    }
  });
});

describe('eventIdHash is the first 52 bits of hash64', () => {
  test.each([
    ['', 0x811c9dc5050c5],
    ['a', 0xe40c292c7076e],
    ['AQAAAZMjAyNi0xMS0yNFQwMDowMDowMC4wNDJafGp1bi45NTNAZXhhbXBsZS5jb218cm9sZXxhY2Nlc3NlZHww', 0x169419a3488cd],
  ])('%j → %d', (text, expected) => {
    expect(eventIdHash(text)).toBe(expected);
  });

  test('so an id carried as hex by a version-1 state converts to the same number, on 10,000 random strings', () => {
    const random = prng(52);
    for (let n = 0; n < 10_000; n++) {
      const text = Array.from({ length: Math.floor(random() * 60) }, () => String.fromCharCode(Math.floor(random() * 0x3000))).join('');
      const id = eventIdHash(text);
      if (!Number.isSafeInteger(id) || id !== eventIdHashFromHex64(hash64(text))) {
        expect({ text, id }).toEqual({ text, id: eventIdHashFromHex64(hash64(text)) });
      }
    }
  });

  test('a carried id that is not 16 hex digits still converts deterministically', () => {
    expect(eventIdHashFromHex64('not-a-hash')).toBe(eventIdHash('not-a-hash'));
  });
});
