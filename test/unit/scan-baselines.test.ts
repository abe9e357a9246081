import { Detector } from '../../src/detection/detector';
import { Baselines } from '../../src/detection/methods';
import { Scan, type ScanProgress } from '../../src/detection/scan';
import { emptyState } from '../../src/detection/state';
import { ACTIONS, LOGIN, PLACES, locatedEvent } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

/** A live scan resumed from its checkpoint keeps what it had learned before it (the baseline changes ride in it). */
const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.parse('2026-11-10T09:00:00.000Z');
const alice = { id: 'u-alice', email: 'alice@example.com', name: 'Alice' };

function stored(): Baselines {
  // What the store holds before the scan: eight days of New York.
  const baselines = new Baselines();
  for (let day = 0; day < 8; day++) baselines.learn('alice@example.com', T0 + day * DAY, 'network.client.geoip.country.iso_code', 'US');
  baselines.takeDelta();
  return baselines;
}

test.each([[true], [false]])('resumed with the checkpoint\'s baseline changes: %s', (withChanges) => {
  const args = argsFrom();
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const from = T0 + 8 * DAY;
  const context = (baselines: Baselines) => ({ orgId: 'acme', window: { readFrom: from, from, to: from + 30 * MIN }, runAt: from + 31 * MIN, lateAfterMs: 10 * MIN, baselines });
  const first = Scan.start(detector, context(stored()), emptyState(from));
  // Page 1: she logs in from Bucharest (a login only teaches).
  first.add(locatedEvent(from + MIN, alice, LOGIN, PLACES.bucharest));
  const checkpoint = JSON.parse(JSON.stringify(first.progress())) as ScanProgress;
  if (!withChanges) delete checkpoint.baselines;
  // The worker dies; the retry loads the store again (which never saw page 1) and resumes from the checkpoint.
  const resumed = Scan.resume(detector, context(stored()), checkpoint);
  resumed.add(locatedEvent(from + 20 * MIN, alice, ACTIONS.roleGrant, PLACES.bucharest));
  const triggers = resumed.finish().actions.filter((a) => a.kind === 'trigger').map((a) => a.summary.rules);
  // With the changes, Romania was learned on page 1 (an earlier login taught it): quiet. Without them, a false page.
  expect(triggers).toEqual(withChanges ? [] : [['new_country_sensitive']]);
});
