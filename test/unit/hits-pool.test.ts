import { HitsPool } from '../../src/detection/hits-pool';
import { dropBefore, insertHit, type Hits } from '../../src/detection/windows';

/** A small deterministic generator, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('HitsPool keeps small hits arrays at their exact size and agrees with insertHit and dropBefore', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('random appends (some dropping expired hits), late and repeated events and trims over many keys (seed %i)', (seed) => {
    const random = prng(seed);
    const pool = new HitsPool();
    const pooled: Record<string, Hits> = {};
    const plain: Record<string, Hits> = {};
    const base = 1_800_000_000_000;
    let now = base;
    for (let step = 0; step < 2_000; step++) {
      const key = `rule-${Math.floor(random() * 12)}`;
      if (random() < 0.1) {
        const cutoff = now - Math.floor(random() * 30_000);
        if (pooled[key] !== undefined) {
          pool.trim(pooled, key, cutoff);
          dropBefore(plain[key], cutoff);
        }
      } else {
        now += Math.floor(random() * 5_000);
        // Mostly in order; some late (inserted before the newest), some read again (the same id at the same time).
        const late = random() < 0.1 ? Math.floor(random() * 20_000) : 0;
        const ts = now - late;
        const id = random() < 0.05 && plain[key]?.length ? plain[key][plain[key].length - 1] : Math.floor(random() * 2 ** 52);
        const sameTs = random() < 0.05 && plain[key]?.length ? plain[key][plain[key].length - 2] : ts;
        // An append may also drop the hits before a cutoff (the scan's expiry); a late or repeated event never does.
        const expiredBefore = random() < 0.3 ? now - Math.floor(random() * 30_000) : -Infinity;
        const model = (plain[key] ??= []);
        if (model.length === 0 || model[model.length - 2] < sameTs) dropBefore(model, expiredBefore);
        const expected = insertHit(model, sameTs, id);
        expect(pool.add(pooled, key, sameTs, id, expiredBefore)).toBe(expected);
      }
      expect(pooled[key]).toEqual(plain[key]);
    }
    expect(pooled).toEqual(plain);
    // No array is shared by two keys (a spare handed out while still in use would be).
    const arrays = Object.values(pooled);
    expect(new Set(arrays).size).toBe(arrays.length);
  });

  test('an array of up to 8 hits is replaced by one of its exact length; a larger one grows in place', () => {
    const pool = new HitsPool();
    const table: Record<string, Hits> = {};
    for (let i = 0; i < 8; i++) {
      const before = table.r;
      pool.add(table, 'r', 1_000 + i, i);
      expect(table.r.length).toBe(2 * (i + 1));
      expect(table.r).not.toBe(before);
    }
    const eightHits = table.r;
    pool.add(table, 'r', 2_000, 99);
    pool.add(table, 'r', 2_001, 100);
    expect(table.r).toBe(eightHits);
    expect(table.r.length).toBe(20);
  });

  test('a partly trimmed array keeps its place; an emptied one goes back to the pool and is reused, its stale contents overwritten', () => {
    const pool = new HitsPool();
    const table: Record<string, Hits> = {};
    pool.add(table, 'a', 10, 1);
    pool.add(table, 'a', 20, 2);
    pool.add(table, 'a', 25, 5);
    const threeHits = table.a;
    pool.trim(table, 'a', 15);
    expect(table.a).toBe(threeHits);
    expect(table.a).toEqual([20, 2, 25, 5]);
    pool.trim(table, 'a', 30);
    expect(table.a).toEqual([]);
    pool.add(table, 'b', 30, 3);
    pool.add(table, 'b', 40, 4);
    expect(table.b).toBe(threeHits);
    expect(table.b).toEqual([30, 3, 40, 4]);
  });

  test('an append drops the hits before its cutoff: in the copy it makes of a small array, in place in a large one', () => {
    const pool = new HitsPool();
    const table: Record<string, Hits> = {};
    pool.add(table, 's', 10, 1);
    pool.add(table, 's', 20, 2);
    pool.add(table, 's', 30, 3, 25);
    expect(table.s).toEqual([30, 3]);
    pool.add(table, 's', 40, 4, 100);
    expect(table.s).toEqual([40, 4]);
    // A late event is inserted where it belongs and drops nothing.
    pool.add(table, 's', 35, 5, 100);
    expect(table.s).toEqual([35, 5, 40, 4]);

    for (let i = 0; i < 10; i++) pool.add(table, 'l', 1_000 + i, i);
    const large = table.l;
    pool.add(table, 'l', 2_000, 99, 1_005);
    expect(table.l).toBe(large);
    expect(table.l).toEqual([1_005, 5, 1_006, 6, 1_007, 7, 1_008, 8, 1_009, 9, 2_000, 99]);
  });
});
