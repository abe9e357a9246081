import type { DerivedEvidence, EventFacts } from './evidence';

/** One matched event waiting for its actor's burst to open: its facts and the base rules it counted toward. */
export interface PendingRecord {
  facts: EventFacts;
  rules: readonly string[];
}

export interface PendingLimits {
  /** Records kept per actor (the newest). */
  perActor: number;
  /** Records kept in all, per scan (the newest across actors). */
  perScan: number;
}

/**
 * The texts of a record, in the order they are written into its slot (`id` and `message` are '' when absent): the short
 * ones first, the two longest last, so that a record larger than its slot loses the end of its user agent, then of its
 * message, and nothing else.
 */
const TEXT_FIELDS = ['id', 'country', 'ip', 'authMethod', 'actorType', 'assetType', 'assetId', 'assetName', 'message', 'userAgent'] as const;
type TextField = (typeof TEXT_FIELDS)[number];
const MESSAGE_INDEX = TEXT_FIELDS.indexOf('message');
/** Between two texts: a control character, which `boundedText` never leaves in one. */
const SEPARATOR = '\u0000';
const SEPARATOR_BYTE = 0;

/** Writes `text` at `at` if all its characters are ASCII (1 byte each in UTF-8): the position after it, else -1 (also when `at` is). */
function writeAscii(bytes: Buffer, at: number, text: string): number {
  if (at < 0) return -1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    bytes[at++] = code;
  }
  return at;
}

/** Where a slot's bytes start in its chunk. */
function offsetOf(slot: number): number {
  return (slot % SLOTS_PER_CHUNK) * SLOT_BYTES;
}

/** Writes the separator at `at` (unless -1, given back): the position after it. */
function separate(bytes: Buffer, at: number): number {
  if (at < 0) return -1;
  bytes[at] = SEPARATOR_BYTE;
  return at + 1;
}

/**
 * A slot's bytes. Every text at its cap is 759 UTF-16 units, 3 bytes each at worst (2.3 KB); ASCII texts at their caps
 * take 768 bytes with the separators, so a slot of 1 KB keeps them whole, and only a record of long non-ASCII texts is
 * shortened (its user agent, then its message). Outside the heap, 5,000 slots are 5 MB per scan: as much as the records
 * cost as objects, and a limit a container's memory budget can count on (the V8 heap limit does not cover Buffers).
 */
export const SLOT_BYTES = 1024;
/** Slots are allocated this many at a time, as they are first used: a quiet scan pays for few. */
const SLOTS_PER_CHUNK = 256;

/** An actor's records: the oldest and newest of its slots (linked oldest to newest) and how many are live. */
interface ActorChain {
  actor: string;
  oldest: number;
  newest: number;
  count: number;
}

/**
 * Evidence material per actor without an open incident, so that a burst opening later in the scan shows its first
 * events. Bounded by design: at most `perActor` records per actor and `perScan` in all; past either cap the oldest go
 * first (with pages in timestamp order, the least likely to fall inside a burst that has not opened yet). Counts never
 * depend on it: an evicted record costs a burst some evidence, not a hit. Not carried to the next run: events of a
 * burst read by an earlier run (beyond the lateness overlap, which is read again) show in its counts, not its evidence.
 *
 * The records live outside the JS heap (#22): a ring of `perScan` fixed-size slots, each holding one record's capped
 * texts as UTF-8, its time in a Float64Array and its links in Int32Arrays. A busy window keeps a record for nearly every
 * event and drops it thousands of events later; as heap objects, every one of them was promoted before it died, and
 * the garbage collector's heap grew with the window. Here a record costs no allocation that outlives `keep`, and a
 * scan's pending evidence is at most `perScan × SLOT_BYTES` (5 MB at 5,000), allocated as it is used.
 */
export class PendingEvidence {
  private readonly capacity: number;
  private readonly chunks: Buffer[] = [];
  // Per slot, grown with the slots used (see `grow`): a scan starts every run, and most use few of their `perScan`.
  private times = new Float64Array(0);
  /** Bytes written in each slot. */
  private lengths = new Int32Array(0);
  /** The next newer slot of the same actor, or -1. */
  private next = new Int32Array(0);
  /** The chain a live slot belongs to; undefined when the slot is free (never used, taken, or let go). */
  private readonly owners: Array<ActorChain | undefined> = [];
  private readonly ruleLists: Array<readonly string[] | undefined> = [];
  private readonly derived: Array<DerivedEvidence | undefined> = [];
  private readonly chains = new Map<string, ActorChain>();
  /** Slots written so far; the next record goes to `written % capacity`, over the oldest record. */
  private written = 0;
  private liveCount = 0;
  /** Records evicted by a cap (the run reports it: those bursts' evidence may miss early events). */
  evicted = 0;

  constructor(private readonly limits: PendingLimits) {
    this.capacity = Math.max(1, limits.perScan);
  }

  get size(): number {
    return this.liveCount;
  }

  /** Records held, live or not: never more than `perScan`. */
  get retained(): number {
    return Math.min(this.written, this.capacity);
  }

  keep(actor: string, facts: EventFacts, rules: readonly string[]): void {
    if (this.limits.perScan <= 0 || this.limits.perActor <= 0) {
      this.evicted++;
      return;
    }
    const slot = this.written % this.capacity;
    this.written++;
    if (slot === this.times.length) this.grow();
    // The slot's record is the oldest of all, and so the oldest of its actor's: it leaves from the front of its chain.
    if (this.owners[slot] !== undefined) {
      this.evicted++;
      this.dropOldestOf(this.owners[slot]!);
    }
    let chain = this.chains.get(actor);
    if (chain === undefined) {
      chain = { actor, oldest: slot, newest: slot, count: 0 };
      this.chains.set(actor, chain);
    } else {
      this.next[chain.newest] = slot;
      chain.newest = slot;
    }
    chain.count++;
    this.liveCount++;
    this.write(slot, facts);
    this.next[slot] = -1;
    this.owners[slot] = chain;
    this.ruleLists[slot] = rules;
    this.derived[slot] = facts.derived;
    if (chain.count > this.limits.perActor) {
      this.evicted++;
      this.dropOldestOf(chain);
    }
  }

  /** The actor's live records, oldest first, and forgets them. */
  take(actor: string): PendingRecord[] {
    const chain = this.chains.get(actor);
    if (chain === undefined) return [];
    const records: PendingRecord[] = [];
    for (let slot = chain.oldest; chain.count > 0; slot = this.next[slot]) {
      records.push({ facts: this.read(slot), rules: this.ruleLists[slot]! });
      this.free(slot);
      chain.count--;
      this.liveCount--;
    }
    this.chains.delete(actor);
    return records;
  }

  /** Room for more slots: the per-slot arrays double (up to `capacity`), as the Buffer chunks are added as used. */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(SLOTS_PER_CHUNK, 2 * this.times.length));
    const times = new Float64Array(size);
    times.set(this.times);
    this.times = times;
    const lengths = new Int32Array(size);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const next = new Int32Array(size);
    next.set(this.next);
    this.next = next;
    for (let slot = this.owners.length; slot < size; slot++) {
      this.owners.push(undefined);
      this.ruleLists.push(undefined);
      this.derived.push(undefined);
    }
  }

  private dropOldestOf(chain: ActorChain): void {
    const slot = chain.oldest;
    chain.oldest = this.next[slot];
    chain.count--;
    this.liveCount--;
    this.free(slot);
    if (chain.count === 0) this.chains.delete(chain.actor);
  }

  private free(slot: number): void {
    this.owners[slot] = undefined;
    this.ruleLists[slot] = undefined;
    this.derived[slot] = undefined;
  }

  private chunkOf(slot: number): Buffer {
    const index = Math.floor(slot / SLOTS_PER_CHUNK);
    while (this.chunks.length <= index) {
      const slots = Math.min(SLOTS_PER_CHUNK, this.capacity - this.chunks.length * SLOTS_PER_CHUNK);
      this.chunks.push(Buffer.allocUnsafe(slots * SLOT_BYTES));
    }
    return this.chunks[index];
  }

  private write(slot: number, facts: EventFacts): void {
    const chunk = this.chunkOf(slot);
    const offset = offsetOf(slot);
    // Spelled out in TEXT_FIELDS' order: named reads, where a loop over the field names read each through a lookup by name.
    const { id, message } = facts;
    const country = facts.country ?? '';
    const ip = facts.ip ?? '';
    const authMethod = facts.authMethod ?? '';
    const actorType = facts.actorType ?? '';
    const assetType = facts.assetType ?? '';
    const assetId = facts.assetId ?? '';
    const assetName = facts.assetName ?? '';
    const userAgent = facts.userAgent ?? '';
    let end = -1;
    // Most records are ASCII and fit their slot: their UTF-8 is their characters, copied here one by one (no joined
    // string to build, flatten and hand to Buffer.write). Any other record is written as below, from the slot's start.
    const joinedLength = id.length + country.length + ip.length + authMethod.length + actorType.length + assetType.length + assetId.length
      + assetName.length + message.length + userAgent.length + TEXT_FIELDS.length - 1;
    if (joinedLength <= SLOT_BYTES) {
      end = writeAscii(chunk, offset, id);
      end = writeAscii(chunk, separate(chunk, end), country);
      end = writeAscii(chunk, separate(chunk, end), ip);
      end = writeAscii(chunk, separate(chunk, end), authMethod);
      end = writeAscii(chunk, separate(chunk, end), actorType);
      end = writeAscii(chunk, separate(chunk, end), assetType);
      end = writeAscii(chunk, separate(chunk, end), assetId);
      end = writeAscii(chunk, separate(chunk, end), assetName);
      end = writeAscii(chunk, separate(chunk, end), message);
      end = writeAscii(chunk, separate(chunk, end), userAgent);
    }
    if (end < 0) {
      // One write of the texts joined (a short-lived string): the slot then holds copies, the event's own strings none.
      // Past SLOT_BYTES, Buffer.write stops at the last whole character that fits.
      const text = `${id}${SEPARATOR}${country}${SEPARATOR}${ip}${SEPARATOR}${authMethod}${SEPARATOR}${actorType}${SEPARATOR}${assetType}`
        + `${SEPARATOR}${assetId}${SEPARATOR}${assetName}${SEPARATOR}${message}${SEPARATOR}${userAgent}`;
      end = offset + chunk.write(text, offset, SLOT_BYTES, 'utf8');
    }
    this.lengths[slot] = end - offset;
    this.times[slot] = facts.ts;
  }

  private read(slot: number): EventFacts {
    const chunk = this.chunkOf(slot);
    const offset = offsetOf(slot);
    const texts = chunk.toString('utf8', offset, offset + this.lengths[slot]).split(SEPARATOR);
    const facts: EventFacts = { ts: this.times[slot], id: texts[0] ?? '', message: texts[MESSAGE_INDEX] ?? '' };
    for (let i = 1; i < TEXT_FIELDS.length; i++) {
      const field = TEXT_FIELDS[i];
      const value = texts[i];
      if (field !== 'message' && value) facts[field as Exclude<TextField, 'id' | 'message'>] = value;
    }
    const derived = this.derived[slot];
    if (derived !== undefined) facts.derived = derived;
    return facts;
  }
}
