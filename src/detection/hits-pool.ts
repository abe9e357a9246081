import { dropBefore, insertHit, type Hits } from './windows';

/** Up to this many numbers (8 hits) a hits array is kept at its exact size (see HitsPool). */
const EXACT_UP_TO = 16;
/** Spare arrays kept per length: enough for the flows of one scan to balance, small enough to be noise (≈1 MB in all). */
const SPARE_PER_LENGTH = 1_024;

/**
 * Keeps a scan's small hits arrays at their exact size without feeding the garbage collector (#22).
 *
 * Most hits arrays of a scan are small (an actor under a rule's thresholds has a few hits within its horizon), and V8
 * grows an array on a push past its capacity by half plus 16 slots: one hit then takes about 200 bytes, against 70–100
 * at its exact size. Copying to an exact size on every append leaves the old array behind; in a long scan that array is
 * already in the old generation, so each append made old-generation garbage (and raised a 512 MB container's peak).
 *
 * Here an append of a small array moves its hits into a spare array of the new length, leaving out those expired by
 * then, and keeps the old array as a spare of its own length; a trim drops the expired hits in place, and an array left
 * empty becomes a spare. Dropping expired hits on append, in the copy made anyway, halved a wide window's promoted
 * garbage (#22): the periodic trims then find little to cut, and a cut left-trims an array in old space. An array
 * growing from n to n + 2 numbers takes a spare of n + 2 and leaves one of n, which the next array growing into n (or a
 * new actor's first hit, for 2) takes.
 *
 * The caller reads `table[key]` again after `add` or `trim`: the array may have been replaced.
 */
export class HitsPool {
  private readonly spares: Hits[][] = Array.from({ length: EXACT_UP_TO / 2 + 1 }, () => []);

  /**
   * Adds a hit, as insertHit does: false, and nothing changed, when the same event is already there. An append (the
   * usual case: events come in time order) also drops the hits before `expiredBefore`, in the copy it makes anyway.
   */
  add(table: Record<string, Hits>, key: string, ts: number, id: number, expiredBefore = -Infinity): boolean {
    const hits = table[key];
    if (hits === undefined) {
      const spare = this.withLength(2);
      if (spare === undefined) {
        table[key] = [ts, id];
      } else {
        spare[0] = ts;
        spare[1] = id;
        table[key] = spare;
      }
      return true;
    }
    const n = hits.length;
    if (n > 0 && hits[n - 2] >= ts) return insertHit(hits, ts, id);
    if (n >= EXACT_UP_TO) {
      if (hits[0] < expiredBefore) dropBefore(hits, expiredBefore);
      hits.push(ts, id);
      return true;
    }
    const cut = expiredNumbers(hits, expiredBefore);
    const length = n - cut + 2;
    const grown = this.withLength(length);
    if (grown === undefined) {
      table[key] = (cut === 0 ? hits : hits.slice(cut)).concat(ts, id);
    } else {
      for (let i = cut; i < n; i++) grown[i - cut] = hits[i];
      grown[length - 2] = ts;
      grown[length - 1] = id;
      table[key] = grown;
    }
    this.release(hits);
    return true;
  }

  /** Drops the hits before `cutoff` (as dropBefore does), into an array of the exact length left when it is small. */
  trim(table: Record<string, Hits>, key: string, cutoff: number): void {
    const hits = table[key];
    const n = hits.length;
    if (n > EXACT_UP_TO) {
      dropBefore(hits, cutoff);
      return;
    }
    const cut = expiredNumbers(hits, cutoff);
    if (cut === 0) return;
    if (cut < n) {
      // In place: V8 moves the start of a small array's elements (left-trimming) rather than copying them. A pass of
      // a wide window trims nearly every actor's arrays by a hit or two; a copy each time, with the old array beyond
      // the spares the pool keeps, made most of such a scan's promoted garbage (#22).
      hits.splice(0, cut);
      return;
    }
    const left = n - cut;
    const kept = this.withLength(left);
    if (kept === undefined) {
      table[key] = hits.slice(cut);
    } else {
      for (let i = 0; i < left; i++) kept[i] = hits[cut + i];
      table[key] = kept;
    }
    this.release(hits);
  }

  /** A spare array of exactly `length` numbers (its contents are stale: the caller overwrites all of them). */
  private withLength(length: number): Hits | undefined {
    return this.spares[length >> 1]?.pop();
  }

  private release(hits: Hits): void {
    const spares = this.spares[hits.length >> 1];
    if (spares !== undefined && hits.length > 0 && spares.length < SPARE_PER_LENGTH) spares.push(hits);
  }
}

/** How many leading numbers of a small `hits` array belong to hits before `cutoff` (a linear scan: it sees at most 8). */
function expiredNumbers(hits: Hits, cutoff: number): number {
  let cut = 0;
  while (cut < hits.length && hits[cut] < cutoff) cut += 2;
  return cut;
}
