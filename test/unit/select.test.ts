import { nthSmallest } from '../../src/detection/select';
import { prng } from '../../sim/sample-day';

describe('nthSmallest', () => {
  test('agrees with a sort for every k, on random arrays with and without duplicates', () => {
    const random = prng(5);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(random() * 60);
      const spread = round % 3 === 0 ? 3 : 1000;
      const values = Array.from({ length: n }, () => Math.floor(random() * spread));
      const sorted = [...values].sort((a, b) => a - b);
      for (let k = 0; k < n; k++) {
        const got = nthSmallest(Float64Array.from(values), k);
        if (got !== sorted[k]) expect({ values, k, got }).toEqual({ values, k, got: sorted[k] });
      }
    }
  });

  test('handles sorted, reversed and constant input', () => {
    const n = 10_001;
    const ascending = Float64Array.from({ length: n }, (_, i) => i);
    expect(nthSmallest(ascending.slice(), 5000)).toBe(5000);
    expect(nthSmallest(ascending.slice().reverse(), 42)).toBe(42);
    expect(nthSmallest(new Float64Array(n).fill(7), n - 1)).toBe(7);
  });

  test('rejects k outside the array', () => {
    expect(() => nthSmallest(new Float64Array(3), 3)).toThrow(RangeError);
    expect(() => nthSmallest(new Float64Array(0), 0)).toThrow(RangeError);
  });
});
