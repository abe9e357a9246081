import { dryRunEvents } from '../../src/replay/dry-run';
import { suppressionReason } from '../../src/detection/suppression';
import { ACTIONS, burst } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T10:02:00.000Z');
const MIN = 60_000;
const tf = { id: 'u-tf', email: 'terraform@example.com' };
const alice = { id: 'u-a', email: 'alice@example.com' };

function dryRun(events: unknown[], yaml: string) {
  return dryRunEvents(events as never[], 0, argsFrom(yaml));
}

describe('allowlists', () => {
  test('an allowlisted actor is counted and reported as suppressed with the reason, never paged', () => {
    const output = dryRun(burst(tf, ACTIONS.monitorDelete, 6, T0, 2 * MIN), 'detection:\n  suppress:\n    actors: [terraform@example.com]\n');
    expect(output.incidents).toEqual([]);
    expect(output.sensitiveEvents).toBe(6);
    expect(output.suppressed).toEqual([expect.objectContaining({
      actor: 'terraform@example.com', severity: 'error', events: 6, reason: 'actor allowlisted (terraform@example.com)',
      firstSeen: new Date(T0).toISOString(), lastSeen: new Date(T0 + 2 * MIN).toISOString(),
    })]);
  });

  test('actor patterns match with wildcards, case-insensitively, including prefixed ids', () => {
    const settings = { actors: ['*@ci.example.com', 'API_KEY:*'], maintenanceWindows: [] };
    expect(suppressionReason(settings, 'bot@ci.example.com', T0)).toBe('actor allowlisted (*@ci.example.com)');
    expect(suppressionReason(settings, 'api_key:AbC', T0)).toBe('actor allowlisted (API_KEY:*)');
    expect(suppressionReason(settings, 'bot@example.com', T0)).toBeUndefined();
  });

  test('others in the same file still page', () => {
    const events = [...burst(tf, ACTIONS.monitorDelete, 6, T0, 2 * MIN), ...burst(alice, ACTIONS.roleGrant, 3, T0, MIN)];
    const output = dryRun(events, 'detection:\n  suppress:\n    actors: ["terraform@*"]\n');
    expect(output.incidents.map((i) => i.actor)).toEqual(['alice@example.com']);
    expect(output.suppressed.map((s) => s.actor)).toEqual(['terraform@example.com']);
  });
});

describe('maintenance windows', () => {
  const window = (actors = '') =>
    `detection:\n  suppress:\n    maintenanceWindows:\n      - { from: 2026-11-24T10:00:00Z, to: 2026-11-24T11:00:00Z, reason: quarterly access review${actors} }\n`;

  test('a burst that starts inside the window is counted, not paged, and the reason is reported', () => {
    const output = dryRun(burst(alice, ACTIONS.roleGrant, 5, T0, MIN), window());
    expect(output.incidents).toEqual([]);
    expect(output.suppressed).toHaveLength(1);
    expect(output.suppressed[0].reason).toBe('maintenance window 2026-11-24T10:00:00.000Z..2026-11-24T11:00:00.000Z: quarterly access review');
  });

  test('the window is [from, to): a burst starting at `to` pages, one starting at `from` does not', () => {
    const at = (ms: number) => dryRun(burst(alice, ACTIONS.roleGrant, 3, ms, MIN), window());
    expect(at(Date.parse('2026-11-24T10:00:00Z')).incidents).toEqual([]);
    expect(at(Date.parse('2026-11-24T11:00:00Z') - 1).incidents).toEqual([]);
    expect(at(Date.parse('2026-11-24T11:00:00Z')).incidents).toHaveLength(1);
    expect(at(Date.parse('2026-11-24T09:59:59Z')).incidents).toHaveLength(1);
  });

  test('a window limited to some actors leaves the others paging', () => {
    const events = [...burst(tf, ACTIONS.roleGrant, 3, T0, MIN), ...burst(alice, ACTIONS.roleGrant, 3, T0, MIN)];
    const output = dryRun(events, window(', actors: ["terraform@*"]'));
    expect(output.incidents.map((i) => i.actor)).toEqual(['alice@example.com']);
    expect(output.suppressed.map((s) => s.actor)).toEqual(['terraform@example.com']);
  });

  test('a suppressed burst is reported once, not by every run that sees it grow', () => {
    const output = dryRun(burst(alice, ACTIONS.roleGrant, 12, T0, 8 * MIN), window());
    expect(output.runs).toBeGreaterThan(1);
    expect(output.suppressed).toHaveLength(1);
  });
});
