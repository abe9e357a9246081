import { isoTime } from '../../src/detection/iso-time';
import { prng } from '../../sim/sample-day';

describe('isoTime', () => {
  test('writes what toISOString writes, for random instants of 1970-9999 and the edges', () => {
    const random = prng(3);
    const samples = [0, 1, 999, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 4_107_542_399_999 /* 2100-02-28T23:59:59.999 */,
      253_402_300_799_999 /* 9999-12-31T23:59:59.999 */];
    for (let i = 0; i < 20_000; i++) samples.push(Math.floor(random() * 253_402_300_800_000));
    for (const ms of samples) {
      const expected = new Date(ms).toISOString();
      if (isoTime(ms) !== expected) expect({ ms, got: isoTime(ms) }).toEqual({ ms, got: expected });
    }
  });

  test('any other value is Date\'s own: before 1970, from year 10000, fractions, and the RangeError of an invalid time', () => {
    for (const ms of [-1, -62_198_755_200_000, 253_402_300_800_000, 8.64e15, 1.5]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
