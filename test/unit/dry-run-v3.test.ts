import { dryRunEvents } from '../../src/replay/dry-run';
import { ACTIONS, LOGIN, PLACES, auditEvent, locatedEvent, type AuditEventJson } from '../../sim/audit-events';
import { sampleDay } from '../../sim/sample-day';
import { argsFrom } from '../support/settings';

/**
 * Catalog v3 through `audit-spike dry-run`'s own code (design.md "Default rule catalog v3", stable): each new default
 * rule pages as it says, with its evidence and in words, and incidents of events without geoip do not change.
 */
const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.parse('2026-11-10T09:00:00.000Z');
const alice = { id: 'u-alice', email: 'Alice@Example.com', name: 'Alice' };

/** Eight days of Alice's logins from New York (her baseline: the United States). */
function baselineWeek(): AuditEventJson[] {
  return Array.from({ length: 8 }, (_, day) => locatedEvent(T0 + day * DAY, alice, LOGIN, PLACES.newYork));
}

const run = (events: AuditEventJson[], yaml = '') => dryRunEvents(events, 0, argsFrom(yaml));

test('new_country_sensitive: a role grant from Romania after warm-up pages at warning, in words', () => {
  const output = run([...baselineWeek(), locatedEvent(T0 + 8 * DAY + 30 * MIN, alice, ACTIONS.roleGrant, PLACES.bucharest)]);
  expect(output.incidents).toHaveLength(1);
  const [incident] = output.incidents;
  expect(incident).toMatchObject({ actor: 'alice@example.com', severity: 'warning', rules: ['new_country_sensitive'], counts: { role_grant: 1, new_country_sensitive: 1 } });
  expect(incident.evidence.countries).toEqual(['RO']);
  expect(incident.evidence.newValues).toEqual([{ rule: 'new_country_sensitive', field: 'network.client.geoip.country.iso_code', value: 'RO', seenBefore: ['US'] }]);
  expect(incident.title).toContain('first sensitive change from Romania (seen before: United States)');
});

test('new_country_sensitive: during warm-up, quiet; the country has joined the baseline afterwards', () => {
  const week = baselineWeek();
  expect(run([week[0], locatedEvent(T0 + 6 * DAY, alice, ACTIONS.roleGrant, PLACES.bucharest)]).incidents).toEqual([]);
  // Learned at day 6 (during warm-up): at day 8 Romania is in her baseline.
  expect(run([...week, locatedEvent(T0 + 6 * DAY, alice, ACTIONS.roleGrant, PLACES.bucharest), locatedEvent(T0 + 8 * DAY + MIN, alice, ACTIONS.roleGrant, PLACES.bucharest)]).incidents).toEqual([]);
});

test('impossible_travel: New York then Singapore 40 minutes later pages at warning, in words', () => {
  const output = run([...baselineWeek(), locatedEvent(T0 + 8 * DAY, alice, LOGIN, PLACES.newYork), locatedEvent(T0 + 8 * DAY + 40 * MIN, alice, LOGIN, PLACES.singapore)]);
  expect(output.incidents).toHaveLength(1);
  const [incident] = output.incidents;
  expect(incident).toMatchObject({ actor: 'alice@example.com', severity: 'warning', rules: ['impossible_travel'], counts: { impossible_travel: 1 } });
  expect(incident.evidence.travel).toMatchObject({
    from: { country: 'US', city: 'New York', timestamp: new Date(T0 + 8 * DAY).toISOString() },
    to: { country: 'SG', city: 'Singapore', timestamp: new Date(T0 + 8 * DAY + 40 * MIN).toISOString() },
  });
  expect(incident.evidence.travel!.km).toBeGreaterThan(15_300);
  expect(incident.evidence.travel!.kmh).toBeGreaterThan(22_900);
  expect(incident.evidence.countries).toEqual(['SG']);
  expect(incident.title).toContain('impossible travel: New York → Singapore, 15,300 km in 40 min');
  // A day later is possible (about 620 km/h): quiet.
  expect(run([...baselineWeek(), locatedEvent(T0 + 8 * DAY + 40 * MIN, alice, LOGIN, PLACES.singapore)]).incidents).toEqual([]);
});

test('multi_rule: a third distinct rule within the hour makes the actor\'s incident critical and lists multi_rule', () => {
  const mallory = { id: 'u-bad', email: 'mallory@example.com', name: 'Mallory' };
  const output = run([
    auditEvent(T0, mallory, ACTIONS.samlChange),
    auditEvent(T0 + 20 * MIN, mallory, ACTIONS.securityRuleDelete),
    auditEvent(T0 + 40 * MIN, mallory, ACTIONS.monitorDelete),
  ]);
  const third = output.incidents.find((i) => i.rules.includes('multi_rule'));
  expect(third).toMatchObject({ actor: 'mallory@example.com', severity: 'critical', rules: ['monitor_delete', 'multi_rule'], counts: { monitor_delete: 1, multi_rule: 1 } });
  // Without multi_rule the same events page three times at their own severities, never critical.
  const events = [auditEvent(T0, mallory, ACTIONS.samlChange), auditEvent(T0 + 20 * MIN, mallory, ACTIONS.securityRuleDelete), auditEvent(T0 + 40 * MIN, mallory, ACTIONS.monitorDelete)];
  const without = run(events, 'detection:\n  rules:\n    - { id: multi_rule, enabled: false }\n');
  expect(without.incidents.map((i) => i.severity).sort()).toEqual(['error', 'warning', 'warning']);
});

test('events without geoip: the sample day pages exactly as it did before catalog v3', () => {
  const events = sampleDay({ end: new Date('2026-11-24T18:00:00Z') });
  const v3 = run(events);
  const before = run(events, 'detection:\n  rules:\n    - { id: new_country_sensitive, enabled: false }\n    - { id: impossible_travel, enabled: false }\n    - { id: multi_rule, enabled: false }\n');
  expect(v3.incidents).toEqual(before.incidents);
  expect(v3.incidents).toHaveLength(5);
});
