/**
 * The `capacity` largest of the values offered, in a bounded min-heap: once more than `capacity` were offered,
 * `smallestKept` is the capacity-th largest of them all (at index `all.length - capacity` of all of them sorted), in
 * the memory of `capacity` values however many are offered.
 */
export class LargestValues {
  private heap: Float64Array;
  private size = 0;
  /** Whether `heap` is a min-heap yet (see `offer`). */
  private ordered = false;
  /** How many values were offered in all. */
  offered = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1 (got ${capacity})`);
    this.heap = new Float64Array(Math.min(capacity, 1024));
  }

  offer(value: number): void {
    this.offered++;
    let heap = this.heap;
    if (this.size < this.capacity) {
      // Under capacity every value is kept, in no order: the heap is only built once there is one to leave.
      if (this.size === heap.length) {
        const grown = new Float64Array(Math.min(this.capacity, 2 * heap.length));
        grown.set(heap);
        this.heap = heap = grown;
      }
      heap[this.size++] = value;
      return;
    }
    if (!this.ordered) {
      for (let at = (this.size >> 1) - 1; at >= 0; at--) this.siftDown(at, heap[at]);
      this.ordered = true;
    }
    // The smallest kept leaves for the new value.
    if (value > heap[0]) this.siftDown(0, value);
  }

  /** Puts `value` at `at` and moves it down until no child is smaller. */
  private siftDown(at: number, value: number): void {
    const heap = this.heap;
    const size = this.size;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && heap[right] < heap[left] ? right : left;
      if (heap[child] >= value) break;
      heap[at] = heap[child];
      at = child;
    }
    heap[at] = value;
  }

  /** The smallest of the values kept (the capacity-th largest offered, once at least `capacity` were). */
  get smallestKept(): number {
    if (this.size === 0) throw new RangeError('no value was offered');
    if (this.ordered) return this.heap[0];
    let smallest = this.heap[0];
    for (let i = 1; i < this.size; i++) if (this.heap[i] < smallest) smallest = this.heap[i];
    return smallest;
  }
}
