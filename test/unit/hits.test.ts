import { addHit, hitCount, hitId, hitTime, insertHit, type Hits } from '../../src/detection/windows';

/** A small deterministic generator: the same sequences on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('addHit: a hit added to a table of hits arrays, small arrays kept at their exact size (#22)', () => {
  test('the first hit makes the array; later ones append in time order; the same event twice is refused', () => {
    const table: Record<string, Hits> = {};
    expect(addHit(table, 'role_grant', 1_000, 11)).toBe(true);
    expect(table.role_grant).toEqual([1_000, 11]);
    expect(addHit(table, 'role_grant', 2_000, 22)).toBe(true);
    expect(addHit(table, 'role_grant', 2_000, 22)).toBe(false);
    expect(addHit(table, 'role_grant', 1_500, 15)).toBe(true);
    expect(table.role_grant).toEqual([1_000, 11, 1_500, 15, 2_000, 22]);
  });

  test('up to 8 hits an append replaces the array by a copy (exact size); past that it grows in place', () => {
    const table: Record<string, Hits> = {};
    addHit(table, 'r', 0, 0);
    for (let i = 1; i < 8; i++) {
      const before = table.r;
      addHit(table, 'r', i, i);
      expect(table.r).not.toBe(before);
      expect(table.r).toHaveLength(2 * (i + 1));
    }
    const large = table.r;
    addHit(table, 'r', 100, 100);
    expect(table.r).toBe(large);
    expect(hitCount(table.r)).toBe(9);
  });

  test('for any sequence of events, the same hits as insertHit into one growing array, and the same answers', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = prng(seed);
      const table: Record<string, Hits> = {};
      const reference: Hits = [];
      for (let i = 0; i < 40; i++) {
        // Mostly in order, some late, some read twice (the lateness overlap), some at the same millisecond.
        const ts = Math.floor(i * 1_000 - (random() < 0.2 ? random() * 5_000 : 0));
        const id = random() < 0.15 && hitCount(reference) > 0 ? hitId(reference, Math.floor(random() * hitCount(reference))) : Math.floor(random() * 2 ** 52);
        const sameTs = random() < 0.1 && hitCount(reference) > 0 ? hitTime(reference, hitCount(reference) - 1) : ts;
        expect(addHit(table, 'r', sameTs, id)).toBe(insertHit(reference, sameTs, id));
        expect(table.r).toEqual(reference);
      }
    }
  });
});
