import { Detector } from '../../src/detection/detector';
import { eventTimestamp } from '../../src/detection/event-fields';
import { emptyEvidence } from '../../src/detection/evidence';
import { fromBase64, toBase64 } from '../../src/detection/byte-packing';
import { packState, unpackState } from '../../src/detection/packed-state';
import { Scan } from '../../src/detection/scan';
import { emptyState, isCarriedState, isPackedState, upgradeState, type CarriedState, type CarriedStateV1, type CarriedStateV2, type StoredState } from '../../src/detection/state';
import { ACTIONS, auditEvent, burst } from '../../sim/audit-events';
import { sampleDay } from '../../sim/sample-day';
import { argsFrom } from '../support/settings';

const MIN = 60_000;
const T0 = Date.parse('2026-11-24T12:00:00Z');
const LATENESS = 5 * MIN;

/** Through Temporal: JSON of the packed state. */
function crossing(state: CarriedState, latenessMs = LATENESS): StoredState {
  return JSON.parse(JSON.stringify(packState(state, latenessMs))) as StoredState;
}

describe('the carried state packed for Temporal (version 4)', () => {
  test('base64 round-trips any bytes', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 13) % 256);
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
      expect([...fromBase64(toBase64(bytes))]).toEqual([...bytes]);
    }
    expect(() => fromBase64('ab$d')).toThrow(/not base64/);
  });

  test('hits in the re-read overlap keep their ids; older hits keep their times and which event they are', () => {
    const watermark = T0;
    const state: CarriedState = {
      v: 3, watermark, actors: {
        'mallory@example.com': {
          name: 'Mallory Ünïcode 日本',
          hits: {
            // The same older event (id 11) counts toward both rules; 12 only toward role_grant.
            role_grant: [T0 - 30 * MIN, 11, T0 - 20 * MIN, 12, T0 - 2 * MIN, 2 ** 52 - 1, T0 - 1, 0],
            any_sensitive: [T0 - 30 * MIN, 11, T0 - 2 * MIN, 2 ** 52 - 1],
          },
          incident: { dedupKey: 'audit-spike-x', firstSeen: T0 - 30 * MIN, lastSeen: T0 - 1, severity: 'critical', rules: ['role_grant'], counts: { role_grant: 4 }, events: 4, late: false, evidence: emptyEvidence(), notified: { severity: 'error', events: 3 } },
        },
        'mallory.two@example.com': { hits: { role_grant: [T0 - 50 * MIN, 7, T0 - 50 * MIN, 8] } },
        'api_key:1': { name: 'ci key', hits: {} , incident: { dedupKey: 'audit-spike-y', firstSeen: T0 - 9 * MIN, lastSeen: T0 - 8 * MIN, severity: 'warning', rules: ['api_key_create'], counts: { api_key_create: 3 }, events: 3, late: true, evidence: emptyEvidence() } },
      },
    };
    const packed = crossing(state);
    expect(isPackedState(packed)).toBe(true);
    expect(isCarriedState(packed)).toBe(true);
    const back = unpackState(packed as never);
    expect(back.watermark).toBe(watermark);
    expect(back.actors['mallory@example.com'].name).toBe('Mallory Ünïcode 日本');
    expect(back.actors['mallory@example.com'].incident).toEqual(state.actors['mallory@example.com'].incident);
    expect(back.actors['api_key:1']).toEqual({ name: 'ci key', hits: {}, incident: state.actors['api_key:1'].incident });
    const { role_grant, any_sensitive } = back.actors['mallory@example.com'].hits;
    // Times exact; ids exact from the overlap (T0 − 5 min) on; older ids are placeholders, one per event of the actor.
    expect(role_grant.filter((_, i) => i % 2 === 0)).toEqual([T0 - 30 * MIN, T0 - 20 * MIN, T0 - 2 * MIN, T0 - 1]);
    expect(role_grant.slice(4)).toEqual([T0 - 2 * MIN, 2 ** 52 - 1, T0 - 1, 0]);
    expect(role_grant[1]).toBeLessThan(0);
    expect(role_grant[3]).toBeLessThan(0);
    expect(role_grant[1]).not.toBe(role_grant[3]);
    expect(any_sensitive).toEqual([T0 - 30 * MIN, role_grant[1], T0 - 2 * MIN, 2 ** 52 - 1]);
    // Two older events at the same instant stay two.
    const two = back.actors['mallory.two@example.com'].hits.role_grant;
    expect(two[0]).toBe(two[2]);
    expect(two[1]).not.toBe(two[3]);
    // Packing what was unpacked gives the same packed state (placeholders are stable), also with the overlap widened.
    expect(crossing(back)).toEqual(packed);
    const wider = unpackState(crossing(back, 60 * MIN) as never);
    expect(wider.actors['mallory@example.com'].hits.role_grant).toEqual(role_grant);
    expect(wider.actors['mallory@example.com'].hits.any_sensitive).toEqual(any_sensitive);
  });

  test('a day of runs gives the same pages and the same state whether the state is handed on as it is or packed', () => {
    const args = argsFrom('');
    const detector = new Detector(args.detection, args.cadence.latenessMs);
    const end = T0;
    const crowd = Array.from({ length: 30 }, (_, i) => burst({ id: `u-crowd-${i}`, email: `crowd.${i}@example.com` }, ACTIONS.apiKeyCreate, 4, end - 3 * 60 * MIN + i * 1000, 8 * MIN));
    const events = [...sampleDay({ end: new Date(end), noiseEvents: 2000 }), ...crowd.flat()].sort((a, b) => eventTimestamp(a) - eventTimestamp(b));
    const first = Math.floor(eventTimestamp(events[0]) / (5 * MIN)) * 5 * MIN;
    const day = (hand: (state: CarriedState) => StoredState) => {
      let state: StoredState = emptyState(first);
      const actions: unknown[] = [];
      let packedMax = 0;
      for (let from = first; from < end + 30 * MIN; from += 5 * MIN) {
        const window = { readFrom: from - args.cadence.latenessMs, from, to: from + 5 * MIN };
        const scan = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 60 * MIN }, state);
        for (const event of events) {
          const ts = eventTimestamp(event);
          if (ts >= window.readFrom && ts < window.to) scan.add(event);
        }
        const result = scan.finish();
        actions.push(...result.actions.map(({ kind, summary }) => ({ kind, summary })));
        packedMax = Math.max(packedMax, JSON.stringify(packState(result.state, args.cadence.latenessMs)).length);
        state = hand(result.state);
      }
      return { actions, last: JSON.stringify(packState(upgradeForCompare(state), args.cadence.latenessMs)), packedMax };
    };
    const upgradeForCompare = (state: StoredState): CarriedState => (isPackedState(state) ? unpackState(state) : upgradeState(JSON.parse(JSON.stringify(state)) as CarriedState));
    const plain = day((state) => JSON.parse(JSON.stringify(state)) as CarriedState);
    const packed = day((state) => crossing(state, args.cadence.latenessMs));
    expect(packed.actions).toEqual(plain.actions);
    expect(packed.last).toBe(plain.last);
    expect(plain.actions.filter((a) => (a as { kind: string }).kind === 'trigger').length).toBeGreaterThanOrEqual(3);
  });

  test('what PagerDuty was told before the scan is on the scan\'s update action (the workflow never reads the state)', () => {
    const args = argsFrom('');
    const detector = new Detector(args.detection, args.cadence.latenessMs);
    const mallory = { email: 'mallory@example.com' };
    const window1 = { readFrom: T0, from: T0, to: T0 + 5 * MIN };
    const one = Scan.start(detector, { orgId: 'o', window: window1, runAt: window1.to, lateAfterMs: 60 * MIN }, emptyState(T0));
    for (const e of burst(mallory, ACTIONS.roleGrant, 4, T0 + MIN, 60_000)) one.add(e);
    const first = one.finish();
    expect(first.actions.map((a) => [a.kind, a.notifiedSeverity])).toEqual([['trigger', undefined]]);
    const window2 = { readFrom: T0 + 5 * MIN - LATENESS, from: T0 + 5 * MIN, to: T0 + 10 * MIN };
    const two = Scan.start(detector, { orgId: 'o', window: window2, runAt: window2.to, lateAfterMs: 60 * MIN }, crossing(first.state, args.cadence.latenessMs));
    for (const e of burst(mallory, ACTIONS.roleGrant, 12, T0 + 6 * MIN, 120_000)) two.add(e);
    const second = two.finish();
    expect(second.actions.map((a) => a.kind)).toEqual(['update']);
    expect(second.actions[0].notifiedSeverity).toBe(first.actions[0].summary.severity);
  });

  test('a state handed over by the previous version (3, inline) or older (2, 1) still starts a scan, and leaves packed', () => {
    const args = argsFrom('');
    const detector = new Detector(args.detection, args.cadence.latenessMs);
    const mallory = { email: 'mallory@example.com' };
    const events = burst(mallory, ACTIONS.roleGrant, 2, T0 + MIN, 60_000);
    const v3: CarriedState = { v: 3, watermark: T0, actors: {} };
    const v2: CarriedStateV2 = { v: 2, watermark: T0, actors: {} };
    const v1: CarriedStateV1 = { v: 1, watermark: T0, actors: {} };
    for (const start of [v3, v2, v1] as StoredState[]) {
      const window = { readFrom: T0, from: T0, to: T0 + 5 * MIN };
      const scan = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 60 * MIN }, start);
      for (const e of events) scan.add(e);
      // A third role grant in the next run: one more and the v4 state still knows the first two.
      const next = crossing(scan.finish().state, args.cadence.latenessMs);
      const window2 = { readFrom: T0 + 5 * MIN - LATENESS, from: T0 + 5 * MIN, to: T0 + 10 * MIN };
      const again = Scan.start(detector, { orgId: 'o', window: window2, runAt: window2.to, lateAfterMs: 60 * MIN }, next);
      for (const e of [...events, auditEvent(T0 + 6 * MIN, mallory, ACTIONS.roleGrant)]) again.add(e);
      const result = again.finish();
      expect(result.counters.duplicates).toBe(2);
      expect(result.actions.map((a) => [a.kind, a.summary.counts])).toEqual([['trigger', { role_grant: 3 }]]);
    }
  });
});
