import { dryRunEvents } from '../../src/replay/dry-run';
import type { AuditEventLike } from '../../src/detection/types';
import { argsFrom } from '../support/settings';
import { Detector } from '../../src/detection/detector';
import { packState } from '../../src/detection/packed-state';
import { Scan } from '../../src/detection/scan';
import { emptyState, type CarriedState, type PackedState, type StoredState } from '../../src/detection/state';

const MIN = 60_000;
// 12:02:30: with 5-minute runs and a 1-minute ingestion delay, the run at 12:10 reads to 12:09, the next from there.
const T0 = Date.parse('2026-11-24T12:02:30.000Z');

function monitorDelete(i: number, at: number, email = 'terraform@ci.example.com'): AuditEventLike {
  return { id: `s-${i}`, type: 'audit', attributes: { timestamp: new Date(at).toISOString(), message: 'monitor deleted',
    attributes: { usr: { email }, evt: { name: 'Monitor' }, action: 'deleted', asset: { type: 'monitor', id: `m-${i}`, name: 'CPU high' } } } };
}

/**
 * #26 (8): a suppressed burst that spans two runs is counted whole, as the same burst unsuppressed is. Before the fix
 * only the 3 events the first run read were reported: a suppressed incident was reported only by the scan that opened
 * it. Now a scan reports it whenever its count changed since it was last reported (`IncidentState.reported`, carried
 * between runs), and the reports of one burst merge by its dedup key, the last wins.
 */
test('a suppressed burst spanning two runs counts every event, as the same burst does unsuppressed', () => {
  // Six monitor deletions a minute apart, 12:02:30 .. 12:07:30: the runs at 12:05 (to 12:04) and 12:10 (to 12:09) split them.
  const events = Array.from({ length: 6 }, (_, i) => monitorDelete(i, T0 + i * MIN));
  const unsuppressed = dryRunEvents(events, 0, argsFrom(''));
  expect(unsuppressed.incidents.map((i) => [i.actor, i.counts.monitor_delete])).toEqual([['terraform@ci.example.com', 6]]);

  const suppressed = dryRunEvents(events, 0, argsFrom('detection:\n  suppress:\n    actors: ["*@ci.example.com"]\n'));
  expect(suppressed.incidents).toEqual([]);
  // One burst, reported by both runs that saw it, merged into one report holding all six events.
  expect(suppressed.suppressed).toEqual([expect.objectContaining({
    actor: 'terraform@ci.example.com', dedupKey: unsuppressed.incidents[0].dedupKey, events: 6, severity: 'error',
    firstSeen: new Date(T0).toISOString(), lastSeen: new Date(T0 + 5 * MIN).toISOString(),
  })]);
});

function scanRun(detector: Detector, state: StoredState, from: number, to: number, events: AuditEventLike[]) {
  const scan = Scan.start(detector, { orgId: 'o', window: { readFrom: from - 5 * MIN, from, to }, runAt: to + MIN, lateAfterMs: 60 * MIN }, state);
  for (const event of events) scan.add(event);
  return scan.finish();
}

describe('each run reports a suppressed burst only when its count changed, across the packed state', () => {
  const args = argsFrom('detection:\n  suppress:\n    actors: ["*@ci.example.com"]\n');
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const events = Array.from({ length: 6 }, (_, i) => monitorDelete(i, T0 + i * MIN));
  const [from1, to1, to2, to3] = [Date.parse('2026-11-24T12:00:00Z'), Date.parse('2026-11-24T12:04:00Z'), Date.parse('2026-11-24T12:09:00Z'), Date.parse('2026-11-24T12:14:00Z')];
  const through = (state: CarriedState) => JSON.parse(JSON.stringify(packState(state, args.cadence.latenessMs))) as StoredState;

  test('run 1 reports 2, run 2 (reading the overlap again) 6, run 3 (nothing new) nothing', () => {
    const first = scanRun(detector, emptyState(from1), from1, to1, events.filter((e) => Date.parse(e.attributes!.timestamp as string) < to1));
    expect(first.suppressed.map((s) => s.events)).toEqual([2]);
    expect(first.actions).toEqual([]);
    const second = scanRun(detector, through(first.state), to1, to2, events);
    expect(second.suppressed.map((s) => [s.events, s.dedupKey])).toEqual([[6, first.suppressed[0].dedupKey]]);
    const third = scanRun(detector, through(second.state), to2, to3, []);
    expect(third.suppressed).toEqual([]);
  });

  test('a state carried before #26 (no `reported` on the incident) still loads, and its burst is reported when it grows', () => {
    const first = scanRun(detector, emptyState(from1), from1, to1, events.filter((e) => Date.parse(e.attributes!.timestamp as string) < to1));
    const older = through(first.state) as PackedState;
    for (const incident of Object.values(older.incidents)) delete incident.reported;
    const second = scanRun(detector, older, to1, to2, events);
    expect(second.suppressed.map((s) => s.events)).toEqual([6]);
  });
});
