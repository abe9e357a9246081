import { Detector } from '../../src/detection/detector';
import { Scan, type ScanResult } from '../../src/detection/scan';
import { eventIdHash, hash64 } from '../../src/detection/hash';
import { emptyState, isCarriedState, type CarriedStateV1, type StoredState } from '../../src/detection/state';
import { ACTIONS, NOISE, auditEvent, burst, type AuditEventJson } from '../../sim/audit-events';
import { hitCount } from '../../src/detection/windows';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const MIN = 60_000;
const mallory = { id: 'u1', email: 'Mallory@Example.com', name: 'Mallory' };
const bob = { id: 'u2', email: 'bob@example.com' };

function scanOnce(events: AuditEventJson[], options: { yaml?: string; state?: StoredState; from?: number; to?: number } = {}): ScanResult {
  const args = argsFrom(options.yaml);
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const from = options.from ?? T0 - 60 * MIN;
  const to = options.to ?? T0 + 60 * MIN;
  const scan = Scan.start(detector, { orgId: 'test', window: { readFrom: from, from, to }, runAt: to, lateAfterMs: 24 * 60 * MIN }, options.state ?? emptyState(from));
  for (const event of events) scan.add(event);
  return scan.finish();
}

function triggers(result: ScanResult) {
  return result.actions.filter((a) => a.kind === 'trigger').map((a) => a.summary);
}

describe('thresholds and tiers', () => {
  test.each([
    [2, undefined],
    [3, 'error'],
    [9, 'error'],
    [10, 'critical'],
    [11, 'critical'],
  ])('%i role grants in 10 minutes → %s', (count, severity) => {
    const result = scanOnce(burst(mallory, ACTIONS.roleGrant, count, T0, 5 * MIN));
    const paged = triggers(result);
    if (severity === undefined) expect(paged).toHaveLength(0);
    else {
      expect(paged).toHaveLength(1);
      expect(paged[0].severity).toBe(severity);
      expect(paged[0].counts).toEqual({ role_grant: count });
    }
  });

  test('any monitor deletion pages at warning; 5 at error; 20 at critical', () => {
    expect(triggers(scanOnce(burst(bob, ACTIONS.monitorDelete, 1, T0, 0)))[0].severity).toBe('warning');
    expect(triggers(scanOnce(burst(bob, ACTIONS.monitorDelete, 5, T0, 4 * MIN)))[0].severity).toBe('error');
    expect(triggers(scanOnce(burst(bob, ACTIONS.monitorDelete, 20, T0, 9 * MIN)))[0].severity).toBe('critical');
  });

  test('several rules crossed by one actor → one incident at the highest severity', () => {
    const events = [...burst(mallory, ACTIONS.roleGrant, 11, T0, 6 * MIN), ...burst(mallory, ACTIONS.apiKeyCreate, 3, T0 + 4 * MIN, 3 * MIN)];
    const paged = triggers(scanOnce(events));
    expect(paged).toHaveLength(1);
    expect(paged[0]).toMatchObject({
      actor: 'mallory@example.com',
      actorName: 'Mallory',
      severity: 'critical',
      counts: { role_grant: 11, api_key_create: 3 },
      events: 14,
      firstSeen: '2026-11-24T10:00:00.000Z',
      lastSeen: '2026-11-24T10:07:00.000Z',
    });
    expect(paged[0].rules.sort()).toEqual(['api_key_create', 'role_grant']);
    expect(paged[0].link).toContain('/audit-trail?query=');
    expect(paged[0].title).toContain('mallory@example.com');
  });
});

describe('sliding windows', () => {
  test('3 grants spread over exactly 10 minutes do not burst (span is [first, first + 10m))', () => {
    expect(triggers(scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0, 10 * MIN)))).toHaveLength(0);
  });

  test('3 grants over 10 minutes less 1 ms burst', () => {
    expect(triggers(scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0, 10 * MIN - 1)))).toHaveLength(1);
  });

  test('events arriving out of order are windowed by their own time', () => {
    const events = burst(mallory, ACTIONS.roleGrant, 3, T0, 4 * MIN).reverse();
    expect(triggers(scanOnce(events))).toHaveLength(1);
  });

  test('a burst straddling two scans is detected, with state carried between them', () => {
    const events = [
      auditEvent(T0 + 4 * MIN, mallory, ACTIONS.roleGrant),
      auditEvent(T0 + 4 * MIN + 30_000, mallory, ACTIONS.roleGrant),
      auditEvent(T0 + 6 * MIN, mallory, ACTIONS.roleGrant),
    ];
    const first = scanOnce(events.slice(0, 2), { from: T0, to: T0 + 5 * MIN });
    expect(first.actions).toHaveLength(0);
    const second = scanOnce(events.slice(2), { from: T0 + 5 * MIN, to: T0 + 10 * MIN, state: first.state });
    expect(triggers(second)).toHaveLength(1);
    expect(triggers(second)[0].counts).toEqual({ role_grant: 3 });
    expect(triggers(second)[0].firstSeen).toBe(new Date(T0 + 4 * MIN).toISOString());
  });
});

describe('grouping and actors', () => {
  test('emails are grouped case-insensitively', () => {
    const events = [
      auditEvent(T0, { email: 'Mallory@Example.com' }, ACTIONS.roleGrant),
      auditEvent(T0 + MIN, { email: 'mallory@example.com' }, ACTIONS.roleGrant),
      auditEvent(T0 + 2 * MIN, { email: 'MALLORY@EXAMPLE.COM' }, ACTIONS.roleGrant),
    ];
    expect(triggers(scanOnce(events)).map((s) => s.actor)).toEqual(['mallory@example.com']);
  });

  test('different actors do not add up', () => {
    const events = [...burst(mallory, ACTIONS.roleGrant, 2, T0, MIN), ...burst(bob, ACTIONS.roleGrant, 2, T0, MIN)];
    expect(triggers(scanOnce(events))).toHaveLength(0);
  });

  test('no email → user id; no user → api_key:<id>; nothing → unknown, counted', () => {
    const events = [
      ...burst({ id: 'svc-1' }, ACTIONS.apiKeyCreate, 3, T0, MIN),
      ...burst({ apiKeyId: 'k9' }, ACTIONS.appKeyCreate, 3, T0, MIN),
      ...burst({}, ACTIONS.monitorDelete, 1, T0, 0),
    ];
    const result = scanOnce(events);
    expect(triggers(result).map((s) => s.actor).sort()).toEqual(['api_key:k9', 'svc-1', 'unknown']);
    expect(result.counters.unknownActor).toBe(1);
  });
});

describe('what never counts', () => {
  test('read-only actions and everyday noise never page', () => {
    const events = NOISE.flatMap((action, i) => burst(mallory, action, 25, T0 + i * 1000, 5 * MIN));
    const result = scanOnce(events);
    expect(result.actions).toHaveLength(0);
    expect(result.counters.matched).toBe(0);
    expect(result.counters.read).toBe(NOISE.length * 25);
  });

  test('a key listed or accessed is not a key created', () => {
    const listed = burst(mallory, { ...ACTIONS.apiKeyCreate, action: 'listed' }, 5, T0, MIN);
    const accessed = burst(mallory, { ...ACTIONS.apiKeyCreate, action: 'accessed' }, 5, T0, MIN);
    expect(scanOnce([...listed, ...accessed]).actions).toHaveLength(0);
  });

  test('malformed events are skipped and counted, never thrown', () => {
    const good = burst(mallory, ACTIONS.roleGrant, 3, T0, MIN);
    const bad: unknown[] = [
      null,
      {},
      { id: 'x', attributes: {} },
      { id: 'y', attributes: { timestamp: 'not a time', attributes: { action: 'created', asset: { type: 'api_key' } } } },
      { id: 'z', attributes: { timestamp: '2026-02-30T10:00:00Z', attributes: { action: 'created' } } },
      { id: 'w', attributes: { timestamp: T0, attributes: 'not an object' } },
      { id: 'v', attributes: { timestamp: T0, attributes: { action: ['weird'], asset: 7, usr: { email: 42 } } } },
    ];
    const result = scanOnce([...good, ...(bad as AuditEventJson[])]);
    expect(triggers(result)).toHaveLength(1);
    expect(result.counters.skipped).toBe(6);
  });
});

describe('incident lifecycle', () => {
  test('an ongoing burst updates its incident instead of paging again', () => {
    const first = scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0, MIN), { from: T0, to: T0 + 5 * MIN });
    expect(triggers(first)).toHaveLength(1);
    const second = scanOnce(burst(mallory, ACTIONS.roleGrant, 8, T0 + 5 * MIN, 3 * MIN), { from: T0 + 5 * MIN, to: T0 + 10 * MIN, state: first.state });
    expect(triggers(second)).toHaveLength(0);
    const updates = second.actions.filter((a) => a.kind === 'update');
    expect(updates).toHaveLength(1);
    expect(updates[0].summary.dedupKey).toBe(triggers(first)[0].dedupKey);
    expect(updates[0].summary.severity).toBe('critical');
    expect(updates[0].summary.counts).toEqual({ role_grant: 11 });
  });

  test('a quiet scan after a page sends nothing', () => {
    const first = scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0, MIN), { from: T0, to: T0 + 5 * MIN });
    const quiet = scanOnce([auditEvent(T0 + 6 * MIN, bob, NOISE[0])], { from: T0 + 5 * MIN, to: T0 + 10 * MIN, state: first.state });
    expect(quiet.actions).toHaveLength(0);
  });

  test('a new burst after a quiet window pages anew, with a new dedup key', () => {
    const first = scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0, MIN));
    const later = scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0 + 40 * MIN, MIN), { state: first.state, from: T0 + 60 * MIN, to: T0 + 120 * MIN });
    expect(triggers(first)).toHaveLength(1);
    expect(triggers(later)).toHaveLength(0); // those events are outside the window read
    const inWindow = scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0 + 70 * MIN, MIN), { state: first.state, from: T0 + 60 * MIN, to: T0 + 120 * MIN });
    expect(triggers(inWindow)).toHaveLength(1);
    expect(triggers(inWindow)[0].dedupKey).not.toBe(triggers(first)[0].dedupKey);
  });

  test('events re-read in the overlap are not counted twice', () => {
    const events = burst(mallory, ACTIONS.roleGrant, 3, T0, MIN);
    const first = scanOnce(events, { from: T0, to: T0 + 5 * MIN });
    const again = scanOnce([...events, auditEvent(T0 + 2 * MIN, mallory, ACTIONS.roleGrant)], { from: T0, to: T0 + 10 * MIN, state: first.state });
    expect(again.counters.duplicates).toBe(3);
    expect(again.actions.map((a) => a.kind)).toEqual(['update']);
    expect(again.actions[0].summary.counts).toEqual({ role_grant: 4 });
  });

  test('a state carried by version 1 (hits as [ts, hash64 of the id]) is upgraded: re-read events still count once', () => {
    const events = burst(mallory, ACTIONS.roleGrant, 3, T0, MIN);
    const first = scanOnce(events, { from: T0, to: T0 + 5 * MIN });
    const hexOf = new Map(events.map((event) => [eventIdHash(event.id), hash64(event.id)]));
    const actors = JSON.parse(JSON.stringify(first.state.actors)) as Record<string, { hits: Record<string, unknown> }>;
    for (const actor of Object.values(actors)) {
      for (const [ruleId, flat] of Object.entries(actor.hits) as Array<[string, number[]]>) {
        const pairs: Array<[number, string]> = [];
        for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], hexOf.get(flat[i + 1])!]);
        actor.hits[ruleId] = pairs;
      }
    }
    const v1 = { v: 1, watermark: first.state.watermark, actors } as unknown as CarriedStateV1;
    expect(isCarriedState(v1)).toBe(true);
    const again = scanOnce([...events, auditEvent(T0 + 2 * MIN, mallory, ACTIONS.roleGrant)], { from: T0, to: T0 + 10 * MIN, state: v1 });
    expect(again.state.v).toBe(3);
    expect(again.counters.duplicates).toBe(3);
    expect(again.actions.map((a) => a.kind)).toEqual(['update']);
    expect(again.actions[0].summary.counts).toEqual({ role_grant: 4 });
  });

  test('autoResolve resolves a burst once it has been quiet for its window and the lateness overlap', () => {
    const yaml = 'detection:\n  autoResolve: true\n';
    const first = scanOnce(burst(mallory, ACTIONS.roleGrant, 3, T0, MIN), { yaml, from: T0, to: T0 + 5 * MIN });
    const soon = scanOnce([], { yaml, from: T0 + 5 * MIN, to: T0 + 10 * MIN, state: first.state });
    expect(soon.actions).toHaveLength(0);
    const later = scanOnce([], { yaml, from: T0 + 10 * MIN, to: T0 + 30 * MIN, state: soon.state });
    expect(later.actions.map((a) => a.kind)).toEqual(['resolve']);
  });
});

describe('carried state stays bounded', () => {
  test('a huge burst keeps at most maxHitsPerRule references, and old ones are pruned', () => {
    const events = burst(mallory, ACTIONS.roleGrant, 5000, T0, 5 * MIN - 1000);
    const result = scanOnce(events, { from: T0, to: T0 + 5 * MIN });
    const hits = result.state.actors['mallory@example.com'].hits.role_grant;
    expect(hitCount(hits)).toBeLessThanOrEqual(500 * 1.25);
    expect(triggers(result)[0].counts.role_grant).toBe(5000);
    // Her crossing of role_grant is carried for multi_rule's 60 minutes (catalog v3), then nothing.
    const later = scanOnce([], { from: T0 + 5 * MIN, to: T0 + 60 * MIN, state: result.state });
    expect(later.state.actors['mallory@example.com']).toEqual({ hits: {}, name: 'Mallory', crossed: { role_grant: expect.any(Number) } });
    const after = scanOnce([], { from: T0 + 60 * MIN, to: T0 + 66 * MIN, state: later.state });
    expect(after.state.actors['mallory@example.com']).toBeUndefined();
  });

  test('the end of a run drops expired hits and rules no longer enabled, and keeps an open burst whose hits are gone', () => {
    // Mallory: 2 role grants (no page) and 1 API key; Bob: a monitor deletion (pages at once, an open incident).
    const events = [
      ...burst(mallory, ACTIONS.roleGrant, 2, T0 + 6 * MIN, MIN),
      auditEvent(T0 + 8 * MIN, mallory, ACTIONS.apiKeyCreate),
      auditEvent(T0, bob, ACTIONS.monitorDelete),
    ];
    const first = scanOnce(events, { from: T0, to: T0 + 10 * MIN });
    expect(Object.keys(first.state.actors['mallory@example.com'].hits).sort()).toEqual(['api_key_create', 'role_grant']);
    expect(first.state.actors['bob@example.com'].incident).toBeDefined();

    // 5 minutes later, role_grant disabled: Mallory keeps only her API key (her role grants are recent, but the rule is
    // gone), Bob his burst (quiet for less than its window) although his one hit has left the horizon.
    const yaml = 'detection:\n  rules:\n    - { id: role_grant, enabled: false }\n';
    const next = scanOnce([], { yaml, from: T0 + 10 * MIN, to: T0 + 15 * MIN, state: first.state });
    expect(Object.keys(next.state.actors).sort()).toEqual(['bob@example.com', 'mallory@example.com']);
    expect(Object.keys(next.state.actors['mallory@example.com'].hits)).toEqual(['api_key_create']);
    expect(hitCount(next.state.actors['mallory@example.com'].hits.api_key_create)).toBe(1);
    expect(next.state.actors['bob@example.com'].hits).toEqual({});
    expect(next.state.actors['bob@example.com'].incident).toBeDefined();

    // Once every hit is past the horizon and the burst has been quiet for its window, only Bob's crossing of
    // monitor_delete is carried (catalog v3's multi_rule looks back 60 minutes); past that, nobody.
    const last = scanOnce([], { yaml, from: T0 + 15 * MIN, to: T0 + 40 * MIN, state: next.state });
    expect(last.state.actors).toEqual({ 'bob@example.com': { hits: {}, crossed: { monitor_delete: T0 } } });
    const gone = scanOnce([], { yaml, from: T0 + 40 * MIN, to: T0 + 61 * MIN, state: last.state });
    expect(gone.state.actors).toEqual({});
  });

  test('state size does not grow with noise', () => {
    const noise = Array.from({ length: 20_000 }, (_, i) => auditEvent(T0 + (i % 300) * 1000, { email: `u${i % 500}@example.com` }, NOISE[i % NOISE.length]));
    const result = scanOnce(noise, { from: T0, to: T0 + 5 * MIN });
    expect(JSON.stringify(result.state).length).toBeLessThan(200);
  });
});
