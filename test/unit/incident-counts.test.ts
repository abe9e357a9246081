import { Detector } from '../../src/detection/detector';
import { Scan } from '../../src/detection/scan';
import { emptyState } from '../../src/detection/state';
import { ACTIONS, auditEvent } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const SEC = 1_000;
const actor = { id: 'u1', email: 'eve@example.com' };

/**
 * Found by the fault suite: when the first event of one rule is indexed late, the rule that crosses first may have a
 * span starting after another rule's first events; those still belong to the burst and must be counted.
 */
describe('an incident counts every rule over its own window, whichever rule crossed first', () => {
  const args = argsFrom('');
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const window = { readFrom: T0 - 600_000, from: T0 - 600_000, to: T0 + 120_000 };
  const next = { readFrom: T0 - 180_000, from: T0 + 120_000, to: T0 + 420_000 };
  const apiKeys = [0, 12, 24, 36].map((s, i) => auditEvent(T0 + s * SEC, actor, ACTIONS.apiKeyCreate, `api-${i}`));
  const appKeys = [0, 7, 14, 21].map((s, i) => auditEvent(T0 + s * SEC, actor, ACTIONS.appKeyCreate, `app-${i}`));

  test('the late event arrives in a later run: counts end complete', () => {
    const first = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 3_600_000 }, emptyState(window.from));
    const inOrder = [...apiKeys, ...appKeys.slice(1)].sort((a, b) => a.attributes.timestamp.localeCompare(b.attributes.timestamp));
    for (const event of inOrder) first.add(event);
    const opened = first.finish();
    expect(opened.actions.map((a) => [a.kind, a.summary.counts])).toEqual([['trigger', { api_key_create: 4, app_key_create: 3 }]]);
    expect(opened.actions[0].summary.firstSeen).toBe(new Date(T0).toISOString());

    const second = Scan.start(detector, { orgId: 'o', window: next, runAt: next.to, lateAfterMs: 3_600_000 }, opened.state);
    second.add(appKeys[0]);
    const updated = second.finish();
    expect(updated.actions.map((a) => [a.kind, a.summary.counts])).toEqual([['update', { api_key_create: 4, app_key_create: 4 }]]);
  });

  test('an earlier lone action of another kind inside its window is part of the burst', () => {
    const scan = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 3_600_000 }, emptyState(window.from));
    scan.add(auditEvent(T0 - 9 * 60 * SEC, actor, ACTIONS.apiKeyCreate, 'early-key'));
    for (const [i, s] of [0, 10, 20].entries()) scan.add(auditEvent(T0 + s * SEC, actor, ACTIONS.roleGrant, `grant-${i}`));
    const [paged] = scan.finish().actions;
    expect(paged.summary.counts).toEqual({ role_grant: 3, api_key_create: 1 });
    expect(paged.summary.firstSeen).toBe(new Date(T0 - 9 * 60 * SEC).toISOString());
  });
});

describe('the carried state stays bounded by the hit cap, not by distinct actors', () => {
  test('actors whose hits the cap dropped leave the state', () => {
    const args = argsFrom('detection:\n  limits: { maxHitsTotal: 100 }\n');
    const detector = new Detector(args.detection, args.cadence.latenessMs);
    const window = { readFrom: T0 - 600_000, from: T0 - 600_000, to: T0 + 60_000 };
    const scan = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 3_600_000 }, emptyState(window.from));
    for (let i = 0; i < 300; i++) scan.add(auditEvent(T0 - 300_000 + i * 1000, { id: `u${i}`, email: `u${i}@example.com` }, ACTIONS.roleGrant, `e${i}`));
    const { state } = scan.finish();
    const actors = Object.values(state.actors);
    expect(actors.length).toBeLessThanOrEqual(101);
    expect(actors.every((actor) => Object.keys(actor.hits).length > 0 || actor.incident)).toBe(true);
  });
});
