import type { EventFacts } from './evidence';

/** One matched event waiting for its actor's burst to open: its facts and the base rules it counted toward. */
export interface PendingRecord {
  actor: string;
  facts: EventFacts;
  rules: readonly string[];
  /** False once taken into an incident or evicted (the run-wide queue still refers to it until it is popped). */
  live: boolean;
}

export interface PendingLimits {
  /** Records kept per actor (the newest). */
  perActor: number;
  /** Records kept in all, per scan (the newest across actors). */
  perScan: number;
}

/**
 * Evidence material per actor without an open incident, so that a burst opening later in the scan shows its first
 * events. Bounded by design: only `EventFacts` (a few capped texts, never the event), at most `perActor` per actor and
 * `perScan` in all; past either cap the oldest go first (with pages in timestamp order, the least likely to fall inside
 * a burst that has not opened yet). Counts never depend on it: an evicted record costs a burst some evidence, not a hit.
 * Not carried to the next run: events of a burst read by an earlier run (beyond the lateness overlap, which is read
 * again) show in its counts, not its evidence.
 */
export class PendingEvidence {
  private readonly byActor = new Map<string, PendingRecord[]>();
  /** Every record in arrival order, live or not: the run-wide eviction order. */
  private queue: PendingRecord[] = [];
  private head = 0;
  private liveCount = 0;
  /** Records evicted by a cap (the run reports it: those bursts' evidence may miss early events). */
  evicted = 0;

  constructor(private readonly limits: PendingLimits) {}

  get size(): number {
    return this.liveCount;
  }

  /** Records still referenced, live or not (what the caps bound in memory: at most about twice `perScan`). */
  get retained(): number {
    return this.queue.length;
  }

  keep(actor: string, facts: EventFacts, rules: readonly string[]): void {
    const record: PendingRecord = { actor, facts, rules, live: true };
    let kept = this.byActor.get(actor);
    if (kept === undefined) this.byActor.set(actor, (kept = []));
    kept.push(record);
    this.queue.push(record);
    this.liveCount++;
    if (kept.length >= 2 * this.limits.perActor) this.trimActor(actor, kept);
    while (this.liveCount > this.limits.perScan) this.evictOldest();
    // Records popped (before head) and records taken or evicted by their actor's cap (dead, after head) are still
    // referenced by the queue until it is compacted: once they outnumber the cap, it is.
    if (this.queue.length > 2 * this.limits.perScan + 1024) this.compactQueue();
  }

  /** The actor's live records, oldest first, and forgets them. */
  take(actor: string): PendingRecord[] {
    const kept = this.byActor.get(actor);
    if (kept === undefined) return [];
    this.byActor.delete(actor);
    const live: PendingRecord[] = [];
    for (const record of kept) {
      if (!record.live) continue;
      record.live = false;
      live.push(record);
    }
    this.liveCount -= live.length;
    return live;
  }

  /** Keeps the actor's newest `perActor` live records. */
  private trimActor(actor: string, kept: PendingRecord[]): void {
    const live = kept.filter((record) => record.live);
    const excess = live.length - this.limits.perActor;
    for (let i = 0; i < excess; i++) live[i].live = false;
    if (excess > 0) {
      this.liveCount -= excess;
      this.evicted += excess;
    }
    this.byActor.set(actor, excess > 0 ? live.slice(excess) : live);
  }

  private evictOldest(): void {
    while (this.head < this.queue.length) {
      const record = this.queue[this.head++];
      if (!record.live) continue;
      record.live = false;
      this.liveCount--;
      this.evicted++;
      // Arrival order is each actor's order too: the record evicted is its actor's oldest, so it leaves from the front.
      const kept = this.byActor.get(record.actor);
      if (kept !== undefined) {
        let dead = 0;
        while (dead < kept.length && !kept[dead].live) dead++;
        if (dead === kept.length) this.byActor.delete(record.actor);
        else kept.splice(0, dead);
      }
      return;
    }
  }

  /** Drops the queue's references to records no longer live, so it holds at most about twice the cap. */
  private compactQueue(): void {
    const live: PendingRecord[] = [];
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i].live) live.push(this.queue[i]);
    this.queue = live;
    this.head = 0;
  }
}
