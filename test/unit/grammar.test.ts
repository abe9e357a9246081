import { formatBacktest } from '../../src/replay/backtest-report';
import type { BacktestReport } from '../../src/replay/backtest';
import { dryRunEvents, formatDryRun } from '../../src/replay/dry-run';
import { isoSpan, plural, spanPhrase } from '../../src/detection/grammar';
import type { AuditEventLike } from '../../src/detection/types';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T12:07:00.000Z');

function monitorDelete(i: number, at: number, email = 'ops@example.com'): AuditEventLike {
  return { id: `g-${i}`, type: 'audit', attributes: { timestamp: new Date(at).toISOString(), message: 'monitor deleted',
    attributes: { usr: { email }, evt: { name: 'Monitor' }, action: 'deleted', asset: { type: 'monitor', id: `m-${i}`, name: 'CPU high' } } } };
}

test('counts agree with their nouns, and a single instant reads "at HH:MM"', () => {
  expect(plural(1, 'sensitive Datadog change')).toBe('1 sensitive Datadog change');
  expect(plural(2, 'sensitive Datadog change')).toBe('2 sensitive Datadog changes');
  expect(plural(0, 'event')).toBe('0 events');
  expect(spanPhrase(T0, T0)).toBe('at 12:07');
  expect(spanPhrase(T0, T0 + 7 * 60_000)).toBe('in 7m');
  expect(isoSpan('2026-11-24T12:07:00.000Z', '2026-11-24T12:07:00.000Z')).toBe('at 2026-11-24T12:07:00.000Z');
});

test('one monitor deleted: the title, the body and the dry-run report read like a person wrote them', () => {
  const output = dryRunEvents([monitorDelete(1, T0)], 0, argsFrom(''));
  expect(output.incidents.map((i) => i.title)).toEqual(['[warning] ops@example.com: 1 sensitive Datadog change at 12:07 (monitor_delete=1)']);
  const report = formatDryRun(output);
  expect(report).toContain('Read 1 event (0 skipped) in ');
  expect(report).toContain('PAGE WARNING ops@example.com  at 2026-11-24T12:07:00.000Z');
  expect(report).not.toMatch(/0ms|1 events|changes in/);
  const two = dryRunEvents([monitorDelete(1, T0), monitorDelete(2, T0 + 90_000)], 0, argsFrom(''));
  expect(two.incidents[0].title).toBe('[warning] ops@example.com: 2 sensitive Datadog changes in 1m30s (monitor_delete=2)');
  expect(formatDryRun(two)).toContain('PAGE WARNING ops@example.com  2026-11-24T12:07:00.000Z → 2026-11-24T12:08:30.000Z');
});

test('the backtest report: one run, one page, one event, one incident', () => {
  const at = '2026-11-24T12:07:00.000Z';
  const incident = dryRunEvents([monitorDelete(1, T0)], 0, argsFrom('')).incidents[0];
  const report: BacktestReport = {
    org: 'acme', intervalMs: 300_000, requested: { from: at, to: at }, read: { from: at, to: at },
    counters: { read: 1, matched: 1, skipped: 0, duplicates: 0, unknownActor: 0, outOfRange: 0, pages: 1 },
    runs: [{ scheduledAt: '2026-11-24T12:10:00.000Z', window: { from: at, to: at }, eventsRead: 1, matched: 1, pages: 1,
      actions: [{ kind: 'trigger', actor: 'ops@example.com', severity: 'warning', rules: ['monitor_delete'], counts: { monitor_delete: 1 }, events: 1,
        firstSeen: at, lastSeen: at, dedupKey: incident.dedupKey, late: false, title: incident.title }],
      suppressed: [{ actor: 'bot@example.com', reason: 'actor allowlisted (bot@*)', severity: 'warning', events: 1, firstSeen: at, lastSeen: at }] }],
    incidents: [incident],
    suppressed: [{ actor: 'bot@example.com', reason: 'actor allowlisted (bot@*)', severity: 'warning', events: 1, firstSeen: at, lastSeen: at }],
  };
  const text = formatBacktest(report);
  expect(text).toContain('Backtest of org "acme": 1 scheduled run every 5m');
  expect(text).toContain(`(at ${at})  dedup ${incident.dedupKey}`);
  expect(text).toContain('bot@example.com  1 event: actor allowlisted (bot@*)');
  expect(text).toContain('Datadog returned 1 audit event for the rules\' query (1 sensitive, 0 re-read in the lateness overlap, 0 unusable) in 1 run and 1 page.');
  expect(text).toContain('Would have opened 1 incident:');
  expect(text).toContain(`SUPPRESSED bot@example.com (warning, 1 event, at ${at}): actor allowlisted (bot@*)`);
  expect(text).not.toMatch(/\(s\)|1 events|1 runs/);
});
