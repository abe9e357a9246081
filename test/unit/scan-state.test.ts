import { Detector } from '../../src/detection/detector';
import { eventTimestamp } from '../../src/detection/event-fields';
import { Scan, type IncidentAction } from '../../src/detection/scan';
import { emptyState, type CarriedState } from '../../src/detection/state';
import { ACTIONS, burst } from '../../sim/audit-events';
import { sampleDay } from '../../sim/sample-day';
import { hitCount } from '../../src/detection/windows';
import { argsFrom } from '../support/settings';

const MIN = 60_000;

/**
 * A day of 5-minute runs, each re-reading the previous 5 minutes (as the live path does for late events), the state
 * handed from run to run through `prepare`.
 */
const end = new Date('2026-11-24T12:00:00Z');

/** Built once: both replays of a test read the very same events (ids and asset ids show in the evidence). */
function dayEvents() {
  // Plus 40 people minting 4 API keys each within 8 minutes: 160 hits at once, over the small cap below.
  const crowd = Array.from({ length: 40 }, (_, i) => burst({ id: `u-crowd-${i}`, email: `crowd.${i}@example.com` }, ACTIONS.apiKeyCreate, 4, end.getTime() - 3 * 60 * MIN + i * 1000, 8 * MIN));
  return [...sampleDay({ end, noiseEvents: 3000 }), ...crowd.flat()].sort((a, b) => eventTimestamp(a) - eventTimestamp(b));
}

function runDay(events: ReturnType<typeof dayEvents>, yaml: string, prepare: (state: CarriedState) => CarriedState) {
  const args = argsFrom(yaml);
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const first = Math.floor(eventTimestamp(events[0]) / (5 * MIN)) * 5 * MIN;
  let state = emptyState(first);
  const actions: IncidentAction[] = [];
  const sizes: number[] = [];
  const hits: number[] = [];
  for (let from = first; from < end.getTime() + 30 * MIN; from += 5 * MIN) {
    const window = { readFrom: from - 5 * MIN, from, to: from + 5 * MIN };
    const input = prepare(state);
    const scan = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 60 * MIN }, input);
    for (const event of events) {
      const ts = eventTimestamp(event);
      if (ts >= window.readFrom && ts < window.to) scan.add(event);
    }
    const result = scan.finish();
    actions.push(...result.actions);
    sizes.push(Object.keys(result.state.actors).length);
    hits.push(Object.values(result.state.actors).reduce((n, a) => n + Object.values(a.hits).reduce((m, h) => m + hitCount(h), 0), 0));
    state = result.state;
  }
  return { actions, finalState: JSON.parse(JSON.stringify(state)) as CarriedState, sizes, maxHits: Math.max(...hits) };
}

/**
 * A scan takes over the state it starts from and returns it changed in place. Live, the state reaches the next run
 * through JSON (Temporal); a backtest hands the object itself. Both must give the same day: no part of the returned
 * state may still be shared with what the scan goes on using, and nothing may depend on object identity.
 */
describe('the state handed to the next run, as the object itself or through JSON', () => {
  test.each([
    ['default settings', '', 160],
    ['a small hit cap and auto-resolve (actors copied to be trimmed and closed)', 'detection:\n  autoResolve: true\n  limits:\n    maxHitsTotal: 100\n', 100],
  ])('%s: the same day', (_name, yaml, maxHits) => {
    const events = dayEvents();
    const copied = runDay(events, yaml, (state) => JSON.parse(JSON.stringify(state)) as CarriedState);
    const live = runDay(events, yaml, (state) => state);
    expect(live).toEqual(copied);
    expect(copied.actions.filter((a) => a.kind === 'trigger').length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...copied.sizes)).toBeGreaterThanOrEqual(40);
    expect(copied.maxHits).toBe(maxHits);
  });
});

describe('actor ids are data, not object keys with a meaning', () => {
  test.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('a user whose id is "%s" is counted and paged like any other', (id) => {
    const args = argsFrom('');
    const detector = new Detector(args.detection, args.cadence.latenessMs);
    const t = Date.parse('2026-11-24T10:00:00Z');
    const window = { readFrom: t - 10 * MIN, from: t - 10 * MIN, to: t + 10 * MIN };
    const scan = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 60 * MIN }, emptyState(window.from));
    for (const event of burst({ id }, ACTIONS.roleGrant, 3, t, 60_000)) scan.add(event);
    const result = scan.finish();
    expect(result.actions.map((a) => [a.kind, a.summary.actor, a.summary.counts])).toEqual([['trigger', id, { role_grant: 3 }]]);
    const carried = JSON.parse(JSON.stringify(result.state)) as CarriedState;
    expect(Object.keys(carried.actors)).toEqual([id]);
    expect(Object.prototype.hasOwnProperty.call(carried.actors, id)).toBe(true);
  });
});
