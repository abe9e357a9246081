import { outcomeReport } from '../../src/workflows/pagerduty-steps';
import type { IncidentRecord } from '../../src/workflows/run-result';

function record(kind: IncidentRecord['kind'], result: 'opened' | 'updated' | 'skipped' | 'resolved', detail: string): IncidentRecord {
  return {
    kind, actor: 'mallory@example.com', severity: 'critical', rules: ['role_grant', 'api_key_create'], counts: { role_grant: 11, api_key_create: 3 },
    events: 14, firstSeen: '2026-11-24T10:01:02.000Z', lastSeen: '2026-11-24T10:07:40.000Z', dedupKey: 'audit-spike-0123', late: false,
    outcome: { result, detail },
  } as IncidentRecord;
}

test('a run whose actor\'s burst continues (not re-sent) says "burst continues", never "quiet" (#26)', () => {
  const parts = outcomeReport([record('update', 'skipped', 'not re-sent: severity still critical')]);
  const line = parts.join('; ');
  expect(line).not.toMatch(/quiet/i);
  expect(parts[0]).toBe('burst continues: mallory@example.com (critical, 14 events)');
  expect(line).toContain('1 incident update: 1 skipped');
  expect(line).not.toContain('(s)');
});

test('paged, continuing and quiet runs each read as what happened', () => {
  expect(outcomeReport([])).toEqual(['quiet: no actor crossed a threshold']);
  const both = outcomeReport([record('trigger', 'opened', 'opened'), { ...record('update', 'updated', 'updated'), actor: 'ops@example.com' }, { ...record('update', 'updated', 'x'), actor: 'b@example.com' }]);
  expect(both[0]).toBe('paged 1: mallory@example.com (critical)');
  expect(both[1]).toBe('burst continues: ops@example.com (critical, 14 events), b@example.com (critical, 14 events)');
  expect(both[2]).toBe('2 incident updates: 2 updated');
  // A resolve alone means the burst went quiet.
  expect(outcomeReport([record('resolve', 'resolved', 'resolved')])[0]).toBe('quiet: no actor crossed a threshold');
});
