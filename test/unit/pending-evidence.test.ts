import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Detector } from '../../src/detection/detector';
import { eventFacts } from '../../src/detection/evidence';
import { PendingEvidence, SLOT_BYTES } from '../../src/detection/pending-evidence';
import { PENDING_LIMITS, Scan } from '../../src/detection/scan';
import { emptyState } from '../../src/detection/state';
import { ACTIONS, auditEvent, burst, type AuditEventJson } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const SEC = 1_000;
const MIN = 60 * SEC;

function startScan() {
  const args = argsFrom();
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const from = T0 - 60 * MIN;
  const to = T0 + 60 * MIN;
  return Scan.start(detector, { orgId: 'test', window: { readFrom: from, from, to }, runAt: to, lateAfterMs: 24 * 60 * MIN }, emptyState(from));
}

function factsOf(event: AuditEventJson) {
  return eventFacts(event, event.attributes!.attributes as Record<string, unknown>, Date.parse(event.attributes!.timestamp as string));
}

const person = (i: number) => ({ id: `u${i}`, email: `person${i}@example.com`, name: `Person ${i}` });

/** A record with every text at its cap (EVIDENCE_TEXT_LIMITS) and derived evidence; the long texts as given. */
function factsAtCaps(long: { message: string; userAgent: string; assetName: string }): ReturnType<typeof factsOf> {
  return {
    ts: T0 + 1, id: 'i'.repeat(96), ip: 'f'.repeat(45), authMethod: 'a'.repeat(32), actorType: 'b'.repeat(32), assetType: 'c'.repeat(48),
    assetId: 'd'.repeat(64), country: 'RO', ...long,
    derived: { newValues: [{ rule: 'new_country_sensitive', field: 'country', value: 'RO', seenBefore: ['US'] }] },
  } as unknown as ReturnType<typeof factsOf>;
}

describe('PendingEvidence: evidence material of bursts not yet open, under fixed caps', () => {
  test('keeps at most perActor records per actor, the newest', () => {
    const pending = new PendingEvidence({ perActor: 3, perScan: 100 });
    const events = burst(person(1), ACTIONS.roleGrant, 10, T0, 9 * SEC);
    for (const event of events) pending.keep('person1@example.com', factsOf(event), ['role_grant']);
    expect(pending.size).toBeLessThanOrEqual(2 * 3);
    const taken = pending.take('person1@example.com');
    expect(taken.length).toBeLessThanOrEqual(2 * 3);
    expect(taken.length).toBeGreaterThanOrEqual(3);
    // The newest are kept: the last event is among them, in arrival order.
    expect(taken[taken.length - 1].facts.ts).toBe(T0 + 9 * SEC);
    expect(taken.map((r) => r.facts.ts)).toEqual([...taken.map((r) => r.facts.ts)].sort((a, b) => a - b));
    expect(pending.size).toBe(0);
  });

  test('keeps at most perScan records in all, evicting the oldest across actors, and counts what it let go', () => {
    const pending = new PendingEvidence({ perActor: 100, perScan: 50 });
    for (let i = 0; i < 400; i++) {
      const event = auditEvent(T0 + i * SEC, person(i % 40), ACTIONS.roleGrant);
      pending.keep(`person${i % 40}@example.com`, factsOf(event), ['role_grant']);
      expect(pending.size).toBeLessThanOrEqual(50);
    }
    expect(pending.evicted).toBe(350);
    // The 50 kept are the newest 50: events 350..399, i.e. actors 30..39 then 0..39's last ones.
    let kept = 0;
    let oldest = Infinity;
    for (let a = 0; a < 40; a++) {
      for (const record of pending.take(`person${a}@example.com`)) {
        kept++;
        oldest = Math.min(oldest, record.facts.ts);
      }
    }
    expect(kept).toBe(50);
    expect(oldest).toBe(T0 + 350 * SEC);
  });

  test('records let go are not referenced any more: what is retained stays within twice the cap, however many pass', () => {
    const pending = new PendingEvidence({ perActor: 16, perScan: 100 });
    const facts = factsOf(auditEvent(T0, person(1), ACTIONS.roleGrant));
    for (let i = 0; i < 50_000; i++) {
      pending.keep(`person${i % 3_000}@example.com`, facts, ['role_grant']);
      if (i % 7 === 0) pending.take(`person${(i * 13) % 3_000}@example.com`);
    }
    expect(pending.size).toBeLessThanOrEqual(100);
    expect(pending.retained).toBeLessThanOrEqual(2 * 100 + 1024);
  });

  test('a record comes back as it was kept: every ASCII text at its cap, absent fields, derived evidence', () => {
    const pending = new PendingEvidence({ perActor: 16, perScan: 8 });
    const full = factsAtCaps({ message: 'm'.repeat(199) + '.', userAgent: 'u'.repeat(160), assetName: 'n'.repeat(80) });
    pending.keep('a', full, ['role_grant']);
    expect(pending.take('a').map((r) => r.facts)).toEqual([full]);
  });

  test('a record of long non-ASCII texts fits its slot: only the end of its user agent, then of its message, is lost', () => {
    const pending = new PendingEvidence({ perActor: 16, perScan: 8 });
    const full = factsAtCaps({ message: '東'.repeat(199) + '…', userAgent: '🚀'.repeat(80), assetName: 'é'.repeat(80) });
    const sparse = { ts: T0 + 2, id: '', message: '' };
    pending.keep('a', full, ['role_grant']);
    pending.keep('a', sparse, ['api_key_create']);
    const taken = pending.take('a');
    const { message, userAgent, ...short } = full as unknown as { message: string; userAgent: string };
    const kept = taken[0].facts as unknown as Record<string, unknown>;
    // 1,408 bytes of UTF-8 in a slot of SLOT_BYTES: the short texts whole, the message cut at a whole character, no user agent.
    expect(Buffer.byteLength(Object.values(full).filter((v) => typeof v === 'string').join('\u0000'))).toBeGreaterThan(SLOT_BYTES);
    expect(kept).toMatchObject(short);
    expect(message.startsWith(kept.message as string)).toBe(true);
    expect((kept.message as string).length).toBeGreaterThan(100);
    expect(kept.userAgent).toBeUndefined();
    expect(userAgent.length).toBeGreaterThan(0);
    expect(taken[1].facts).toEqual(sparse);
    expect(taken.map((r) => r.rules)).toEqual([['role_grant'], ['api_key_create']]);
    // Slots are reused: the ring's own records come back too after thousands of others passed through it.
    for (let i = 0; i < 5_000; i++) pending.keep(`p${i % 5}`, { ts: i, id: `e${i}`, message: `m${i}`, ip: `10.0.0.${i % 256}` }, ['role_grant']);
    expect(pending.size).toBe(8);
    expect(pending.take('p4').map((r) => r.facts)).toEqual([{ ts: 4_994, id: 'e4994', message: 'm4994', ip: '10.0.0.130' }, { ts: 4_999, id: 'e4999', message: 'm4999', ip: '10.0.0.135' }]);
  });

  test('a record holds a few capped texts, never the event', () => {
    const event = auditEvent(T0, person(1), ACTIONS.roleGrant);
    (event.attributes as Record<string, unknown>).message = 'x'.repeat(10_000);
    const facts = factsOf(event);
    for (const value of Object.values(facts)) expect(['string', 'number']).toContain(typeof value);
    expect(facts.message.length).toBeLessThanOrEqual(200);
    expect(JSON.stringify(facts).length).toBeLessThan(1_300);
  });
});

describe('Scan: no deserialized event outlives its page', () => {
  test('events of actors under every threshold are garbage once folded (the scan keeps their facts only)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const scan = startScan();
    const refs: Array<WeakRef<object>> = [];
    // One page: 2 role grants each by 500 people, under the threshold of 3: every event is pending material.
    (() => {
      for (let i = 0; i < 500; i++) {
        for (const event of burst(person(i), ACTIONS.roleGrant, 2, T0 + i * SEC, SEC)) {
          refs.push(new WeakRef(event));
          scan.add(event);
        }
      }
    })();
    // WeakRefs are only cleared after the current job: let it end, then collect.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const alive = refs.filter((ref) => ref.deref() !== undefined).length;
    expect(alive).toBe(0);
    // And the pending material still gives a burst opened later its first events as evidence.
    const third = auditEvent(T0 + 499 * SEC + 2 * SEC, person(499), ACTIONS.roleGrant);
    scan.add(third);
    const trigger = scan.finish().actions.find((a) => a.kind === 'trigger');
    expect(trigger?.summary.counts).toEqual({ role_grant: 3 });
    expect(trigger?.summary.evidence.samples).toHaveLength(3);
  });

  test('a window far beyond the caps: pending stays within PENDING_LIMITS and counts stay exact', () => {
    const scan = startScan();
    const people = 15_000;
    for (let i = 0; i < people; i++) {
      for (const event of burst(person(i), ACTIONS.roleGrant, 2, T0 + (i % 1200) * SEC, SEC)) scan.add(event);
    }
    // A real burst at the very end: 11 role grants; its first events are the newest pending, never evicted.
    for (const event of burst(person(-1), ACTIONS.roleGrant, 11, T0 + 1300 * SEC, 5 * MIN)) scan.add(event);
    const result = scan.finish();
    expect(result.evidenceEvicted).toBeGreaterThanOrEqual(2 * people - PENDING_LIMITS.perScan);
    const triggers = result.actions.filter((a) => a.kind === 'trigger');
    expect(triggers).toHaveLength(1);
    expect(triggers[0].summary).toMatchObject({ actor: 'person-1@example.com', severity: 'critical', counts: { role_grant: 11 } });
    expect(triggers[0].summary.evidence.samples).toHaveLength(10);
  });
});

describe('Scan: expired hits leave as the scan goes', () => {
  test('a few passes over the actors per horizon of event time, not per event; hits held for 17.5 minutes, not 25', () => {
    const scan = startScan();
    const passes = jest.spyOn(scan as unknown as { dropExpired(cutoff: number, removeEmptied: boolean): void }, 'dropExpired');
    // 40 minutes of events, one every 2 s, by 1,200 people under every threshold.
    for (let i = 0; i < 1_200; i++) scan.add(auditEvent(T0 - 50 * MIN + i * 2 * SEC, person(i), ACTIONS.roleGrant));
    // The default catalog's horizon is 10 minutes: at most one pass removing actors per 10 minutes of the 40, and at
    // most four passes in all per 10 minutes.
    const removing = passes.mock.calls.filter(([, removeEmptied]) => removeEmptied).length;
    expect(removing).toBeGreaterThanOrEqual(2);
    expect(removing).toBeLessThanOrEqual(4);
    expect(passes.mock.calls.length).toBeLessThanOrEqual(16);
    // Actors whose hits all expired are gone before the end of the window: at most the last horizon and margin's.
    const actors = (scan as unknown as { state: { actors: Record<string, { hits: Record<string, number[]> }> } }).state.actors;
    expect(Object.keys(actors).length).toBeLessThan(1_200);
    // Hits held at the end: at most horizon × 1.25 + the 5-minute margin (17.5 minutes: 525 events at one per 2 s);
    // with one pass per horizon they were 25 minutes' (750).
    const hits = Object.values(actors).reduce((sum, actor) => sum + Object.values(actor.hits).reduce((n, ruleHits) => n + ruleHits.length / 2, 0), 0);
    expect(hits).toBeLessThanOrEqual(526);
  });

  test('a scheduled run makes no pass: the run before left no hit one could drop', () => {
    const args = argsFrom();
    const detector = new Detector(args.detection, args.cadence.latenessMs);
    const interval = 5 * MIN;
    const lateness = args.cadence.latenessMs;
    let state = emptyState(T0);
    // Six scheduled runs, each reading its 5 minutes and the lateness overlap before them: one event every 2 s, each
    // by one of 300 people (under every threshold), so every run carries hits of the two runs before it.
    for (let run = 0; run < 6; run++) {
      const from = T0 + run * interval;
      const window = { readFrom: from - lateness, from, to: from + interval };
      const scan = Scan.start(detector, { orgId: 'test', window, runAt: window.to, lateAfterMs: 24 * 60 * MIN }, state);
      const passes = jest.spyOn(scan as unknown as { dropExpired(cutoff: number, removeEmptied: boolean): void }, 'dropExpired');
      for (let ts = window.readFrom; ts < window.to; ts += 2 * SEC) scan.add(auditEvent(ts, person((ts / (2 * SEC)) % 300), ACTIONS.roleGrant));
      expect(passes).not.toHaveBeenCalled();
      state = scan.finish().state;
      expect(Object.keys(state.actors).length).toBeGreaterThan(0);
      const oldest = Math.min(...Object.values(state.actors).flatMap((actor) => Object.values(actor.hits).map((hits) => hits[0])));
      expect(oldest).toBeGreaterThanOrEqual(window.to - detector.horizonMs);
    }
  });
});
