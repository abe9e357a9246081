import { hash64, hashLanes } from '../../src/detection/hash';
import { prng } from '../../sim/sample-day';

/**
 * hash64's output is carried in the state (event ids) and sent to PagerDuty (dedup keys): a change would count re-read
 * events twice and open second incidents for bursts in progress after an upgrade. These values come from its first
 * implementation.
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
