import { LargestValues } from '../../src/detection/select';
import { prng } from '../../sim/sample-day';

/** The capacity-th largest of `values` by a full sort: what the scan's hit cap keeps from. */
function byASort(values: number[], capacity: number): number {
  return [...values].sort((a, b) => a - b)[values.length - capacity];
}

describe('LargestValues', () => {
  test('agrees with a sort for every capacity, on random values with and without duplicates', () => {
    const random = prng(5);
    for (let round = 0; round < 300; round++) {
      const n = 2 + Math.floor(random() * 60);
      const spread = round % 3 === 0 ? 3 : 1000;
      const values = Array.from({ length: n }, () => Math.floor(random() * spread));
      for (let capacity = 1; capacity < n; capacity++) {
        const largest = new LargestValues(capacity);
        for (const value of values) largest.offer(value);
        expect(largest.offered).toBe(n);
        const want = byASort(values, capacity);
        if (largest.smallestKept !== want) expect({ values, capacity, got: largest.smallestKept }).toEqual({ values, capacity, got: want });
      }
    }
  });

  test('handles ascending, descending and constant input past its first allocation', () => {
    const n = 10_001;
    const ascending = Array.from({ length: n }, (_, i) => i);
    for (const values of [ascending, [...ascending].reverse(), new Array<number>(n).fill(7)]) {
      for (const capacity of [1, 1024, 1025, 5000, n - 1]) {
        const largest = new LargestValues(capacity);
        for (const value of values) largest.offer(value);
        expect(largest.smallestKept).toBe(byASort(values, capacity));
      }
    }
  });

  test('keeps everything while under capacity, and says when nothing was offered', () => {
    const largest = new LargestValues(5000);
    expect(() => largest.smallestKept).toThrow(RangeError);
    for (const value of [30, 10, 20]) largest.offer(value);
    expect(largest.smallestKept).toBe(10);
    expect(() => new LargestValues(0)).toThrow(RangeError);
  });
});
