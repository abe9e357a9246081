import type { ActorState, CarriedState, IncidentState, PackedState } from './state';
import { ByteReader, ByteWriter, fromBase64, toBase64 } from './byte-packing';

export type { PackedState } from './state';
import type { Hits } from './windows';

/**
 * The carried state as it crosses Temporal (version 4): the same content as `CarriedState`, packed. Incidents stay
 * JSON (few, and read by people in the web UI); the actors and their hits are one base64 string:
 *
 * - actors in id order, each id and display name front- and back-coded against the previous actor's (emails and names
 *   of one org share most of their characters);
 * - each rule's hits newest first, as varint gaps (the newest from the watermark), so a hit costs 1 to 3 bytes;
 * - an event-id hash (7 bytes) only for hits at or after `rereadFrom`, the start of the lateness overlap the next run
 *   reads again: only those can be read twice and need telling apart. An older hit keeps its time and, when its actor
 *   has hits of several rules, which older event it is (so an event counting toward two rules still counts once);
 *   it comes back with a negative placeholder id, distinct per event of its actor, that no real hash can equal.
 *
 * Pure TypeScript, no dependency: the detection core and the activities share it; the workflow never unpacks it.
 */

const HASH_BYTES = 7;
/** Hashes are 52-bit: a stored value at or above this is an older hit's placeholder (value − PLACEHOLDER = index). */
const PLACEHOLDER = 2 ** 52;

/**
 * Packs the state for Temporal; `latenessMs` is how far before the watermark the next run reads again (hits from there
 * on keep their event-id hash). Does not change `state`.
 */
export function packState(state: CarriedState, latenessMs: number): PackedState {
  const rereadFrom = state.watermark - latenessMs;
  const ruleIndex = new Map<string, number>();
  const rules: string[] = [];
  const incidents: Record<string, IncidentState> = {};
  let crossed: Record<string, Record<string, number>> | undefined;
  const out = new ByteWriter();
  const ids = Object.keys(state.actors).sort();
  out.varint(ids.length);
  let previousId = '';
  let previousName = '';
  for (const id of ids) {
    const actor = state.actors[id];
    if (actor.incident) incidents[id] = actor.incident;
    if (actor.crossed !== undefined && Object.keys(actor.crossed).length > 0) (crossed ??= {})[id] = actor.crossed;
    const ruleIds = Object.keys(actor.hits).filter((ruleId) => actor.hits[ruleId].length > 0);
    out.delta(id, previousId);
    previousId = id;
    out.varint((actor.name !== undefined ? 1 : 0) + ruleIds.length * 2);
    if (actor.name !== undefined) {
      out.delta(actor.name, previousName);
      previousName = actor.name;
    }
    // Which older event each older hit is, when the actor has hits of several rules (one event, several rules).
    const older = ruleIds.length > 1 ? new Map<number, number>() : undefined;
    for (const ruleId of ruleIds) {
      let index = ruleIndex.get(ruleId);
      if (index === undefined) {
        ruleIndex.set(ruleId, (index = rules.length));
        rules.push(ruleId);
      }
      const hits = actor.hits[ruleId];
      const n = hits.length >> 1;
      out.varint(index);
      out.varint(n);
      // Newest first: the newest as its distance from the watermark, each older one as its gap to the next.
      let next = state.watermark;
      for (let i = n - 1; i >= 0; i--) {
        const ts = hits[i << 1];
        out.signed(next - ts);
        next = ts;
      }
      for (let i = 0; i < n; i++) {
        const ts = hits[i << 1];
        const idHash = hits[(i << 1) + 1];
        if (ts >= rereadFrom) out.fixed(idHash >= 0 ? idHash : PLACEHOLDER - idHash - 1, HASH_BYTES);
        else if (older) {
          const seen = older.get(idHash);
          if (seen === undefined) {
            older.set(idHash, older.size);
            out.varint(0);
          } else out.varint(seen + 1);
        }
      }
    }
  }
  return { v: 4, watermark: state.watermark, rereadFrom, rules, actors: toBase64(out.done()), incidents, ...(crossed ? { crossed } : {}) };
}

/** The state a `PackedState` holds, as the detection core works on it (version 3). */
export function unpackState(packed: PackedState): CarriedState {
  const input = new ByteReader(fromBase64(packed.actors), 'packed state');
  const actors: Record<string, ActorState> = Object.create(null) as Record<string, ActorState>;
  const count = input.varint();
  let previousId = '';
  let previousName = '';
  for (let a = 0; a < count; a++) {
    const id = input.delta(previousId);
    previousId = id;
    const flags = input.varint();
    const actor: ActorState = { hits: {} };
    if (flags & 1) {
      actor.name = input.delta(previousName);
      previousName = actor.name;
    }
    const ruleCount = Math.floor(flags / 2);
    let olderEvents = 0;
    for (let r = 0; r < ruleCount; r++) {
      const ruleId = packed.rules[input.varint()];
      if (ruleId === undefined) throw new Error('packed state: unknown rule index');
      const n = input.varint();
      const hits: Hits = new Array<number>(n * 2);
      let next = packed.watermark;
      for (let i = n - 1; i >= 0; i--) {
        next -= input.signed();
        hits[i << 1] = next;
      }
      for (let i = 0; i < n; i++) {
        const ts = hits[i << 1];
        let idHash: number;
        if (ts >= packed.rereadFrom) {
          const stored = input.fixed(HASH_BYTES);
          idHash = stored >= PLACEHOLDER ? -(stored - PLACEHOLDER) - 1 : stored;
        } else if (ruleCount > 1) {
          const seen = input.varint();
          idHash = seen === 0 ? -(++olderEvents) : -seen;
        } else idHash = -(++olderEvents);
        hits[(i << 1) + 1] = idHash;
      }
      actor.hits[ruleId] = hits;
    }
    const incident = packed.incidents[id];
    if (incident) actor.incident = incident;
    actors[id] = actor;
  }
  for (const id of Object.keys(packed.incidents)) if (!(id in actors)) actors[id] = { hits: {}, incident: packed.incidents[id] };
  // Catalog v3: when each actor last crossed each rule, for correlation (multi_rule), kept as JSON (few, small).
  for (const id of Object.keys(packed.crossed ?? {})) (actors[id] ??= { hits: {} }).crossed = { ...packed.crossed![id] };
  return { v: 3, watermark: packed.watermark, actors };
}
