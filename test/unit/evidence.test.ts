import { Detector } from '../../src/detection/detector';
import {
  EVIDENCE_LIMITS, EVIDENCE_MAX_BYTES, EVIDENCE_TEXT_LIMITS, addEventEvidence, emptyEvidence, mergeEvidence, showEvidence, type EvidenceState,
} from '../../src/detection/evidence';
import { Scan, type ScanResult } from '../../src/detection/scan';
import { emptyState, upgradeState, type CarriedState, type CarriedStateV2 } from '../../src/detection/state';
import type { AuditEventLike } from '../../src/detection/types';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-30T10:20:00.000Z');
const SEC = 1000;
const MIN = 60 * SEC;

interface EventShape {
  id?: string;
  ip?: string;
  userAgent?: string;
  authMethod?: string;
  actorType?: string;
  asset?: { type: string; id?: string; name?: string };
  action?: string;
  evt?: string;
  message?: string;
}

/** An API-shaped audit event by mallory, a role grant unless told otherwise. */
function event(at: number, shape: EventShape = {}): AuditEventLike {
  return {
    id: shape.id ?? `AQAA-${at}`,
    type: 'audit',
    attributes: {
      timestamp: new Date(at).toISOString(),
      message: shape.message ?? `mallory granted a role at ${at}`,
      attributes: {
        evt: { name: shape.evt ?? 'Access Management', actor: { type: shape.actorType ?? 'USER' } },
        action: shape.action ?? 'modified',
        asset: shape.asset ?? { type: 'role', id: 'r-0001', name: 'Billing Admins' },
        usr: { email: 'mallory@example.com', id: 'u-1', name: 'Mallory' },
        network: { client: { ip: shape.ip ?? '203.0.113.77' } },
        http: { useragent: shape.userAgent ?? 'python-requests/2.31.0', method: 'PATCH' },
        auth_method: shape.authMethod ?? 'SESSION',
      },
    },
  };
}

function scanOnce(events: AuditEventLike[], state: CarriedState, window: { readFrom: number; from: number; to: number }): ScanResult {
  const args = argsFrom('');
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const scan = Scan.start(detector, { orgId: 'acme', window, runAt: window.to, lateAfterMs: 60 * MIN }, state);
  for (const e of events) scan.add(e);
  return scan.finish();
}

describe('evidence bounds', () => {
  test('10,000 events from one actor, every value distinct, stay within the caps; the frequent IP ranks first', () => {
    const events: AuditEventLike[] = [];
    for (let i = 0; i < 10_000; i++) {
      events.push(event(T0 + i * 50, {
        id: `AQAA-${String(i).padStart(5, '0')}`,
        // Every fourth event from the attacker's address; the rest from ever new ones.
        ip: i % 4 === 0 ? '203.0.113.77' : `198.51.${i >> 8}.${i & 255}`,
        userAgent: `agent-${i}/${'x'.repeat(500)}`,
        authMethod: `METHOD_${i % 50}`,
        actorType: `TYPE_${i % 50}`,
        asset: { type: 'role', id: `r-${i}`, name: `role ${i} ${'n'.repeat(300)}` },
        message: `m${i} ${'z'.repeat(5000)}`,
      }));
    }
    const result = scanOnce(events, emptyState(T0 - 10 * MIN), { readFrom: T0 - 10 * MIN, from: T0 - 10 * MIN, to: T0 + 10 * MIN });
    const trigger = result.actions.find((a) => a.kind === 'trigger')!;
    const { evidence } = trigger.summary;
    expect(trigger.summary.counts.role_grant).toBe(10_000);
    expect(evidence.ips).toHaveLength(EVIDENCE_LIMITS.ips);
    expect(evidence.ips[0]).toBe('203.0.113.77');
    expect(evidence.userAgents).toHaveLength(EVIDENCE_LIMITS.userAgents);
    expect(evidence.userAgents.every((ua) => ua.length <= EVIDENCE_TEXT_LIMITS.userAgent && ua.endsWith('…'))).toBe(true);
    expect(evidence.authMethods).toHaveLength(EVIDENCE_LIMITS.authMethods);
    expect(evidence.actorTypes).toHaveLength(EVIDENCE_LIMITS.actorTypes);
    expect(Object.keys(evidence.assets)).toEqual(['role_grant']);
    expect(evidence.assets.role_grant).toHaveLength(EVIDENCE_LIMITS.assetsPerRule);
    expect(evidence.assets.role_grant.every((a) => a.name!.length <= EVIDENCE_TEXT_LIMITS.assetName)).toBe(true);
    expect(evidence.samples.map((s) => s.id)).toEqual(Array.from({ length: 10 }, (_, i) => `AQAA-${String(i).padStart(5, '0')}`));
    expect(evidence.samples.every((s) => s.message.length <= EVIDENCE_TEXT_LIMITS.message && s.rule === 'role_grant')).toBe(true);
    // What the next run carries for this incident is as small as its evidence, not as its 10,000 events.
    const carried = result.state.actors['mallory@example.com'].incident!.evidence;
    expect(Buffer.byteLength(JSON.stringify(carried))).toBeLessThan(EVIDENCE_MAX_BYTES);
    expect(Buffer.byteLength(JSON.stringify(carried))).toBeLessThan(20_000);
  });

  test('the stated byte bound holds for the worst case: every cap reached with 3-byte characters', () => {
    const worst = (n: number) => '€'.repeat(n + 50);
    const evidence = emptyEvidence();
    const rules = ['r'.repeat(64), 's'.repeat(64), 't'.repeat(64), 'u'.repeat(64), 'v'.repeat(64), 'w'.repeat(64)];
    for (let i = 0; i < 200; i++) {
      const e = event(T0 + i, {
        id: `${i}${worst(EVIDENCE_TEXT_LIMITS.sampleId)}`,
        ip: `${i}${worst(EVIDENCE_TEXT_LIMITS.ip)}`,
        userAgent: `${i}${worst(EVIDENCE_TEXT_LIMITS.userAgent)}`,
        authMethod: `${i}${worst(40)}`,
        actorType: `${i}${worst(40)}`,
        asset: { type: `${i}${worst(EVIDENCE_TEXT_LIMITS.assetType)}`, id: `${i}${worst(EVIDENCE_TEXT_LIMITS.assetId)}`, name: `${i}"${worst(EVIDENCE_TEXT_LIMITS.assetName)}` },
        message: `${i}${worst(EVIDENCE_TEXT_LIMITS.message)}`,
      });
      addEventEvidence(evidence, e, e.attributes!.attributes as Record<string, unknown>, Date.parse('9999-12-31T23:59:59.999Z') - i, rules);
    }
    for (const list of Object.values(evidence.assets)) for (const asset of list) asset.count = Number.MAX_SAFE_INTEGER;
    for (const entry of [...evidence.ips, ...evidence.userAgents]) entry[1] = Number.MAX_SAFE_INTEGER;
    expect(Object.keys(evidence.assets)).toHaveLength(EVIDENCE_LIMITS.assetRules);
    expect(evidence.ips).toHaveLength(EVIDENCE_LIMITS.ips * EVIDENCE_LIMITS.trackedFactor);
    const carried = Buffer.byteLength(JSON.stringify(evidence));
    const shown = Buffer.byteLength(JSON.stringify(showEvidence(evidence)));
    expect(shown).toBeLessThanOrEqual(carried);
    expect(carried).toBeLessThanOrEqual(EVIDENCE_MAX_BYTES);
    // The figure is tight: within 5% of the worst case actually built.
    expect(carried).toBeGreaterThan(EVIDENCE_MAX_BYTES * 0.95);
  });
});

test('control characters become spaces, so JSON never spends 6 bytes on one character', () => {
  const evidence = emptyEvidence();
  const e = event(T0, { id: 'a\u0001b', message: 'line 1\nline 2\u0000', userAgent: 'x\ty' });
  addEventEvidence(evidence, e, e.attributes!.attributes as Record<string, unknown>, T0, ['role_grant']);
  expect(JSON.stringify(evidence)).not.toMatch(/\\u00|\\n|\\t/);
  expect(evidence.samples[0]).toMatchObject({ id: 'a b', message: 'line 1 line 2 ' });
  expect(evidence.userAgents).toEqual([['x y', 1]]);
});

describe('evidence across runs', () => {
  test('an ongoing burst merges the evidence of a later run into its incident, within the same bounds', () => {
    const first = [0, 1, 2].map((i) => event(T0 + i * 20 * SEC, { id: `run1-${i}`, asset: { type: 'role', id: 'r-1', name: 'Billing Admins' } }));
    const second = [0, 1, 2, 3].map((i) => event(T0 + 5 * MIN + i * 20 * SEC, {
      id: `run2-${i}`, ip: '192.0.2.9', userAgent: 'curl/8.4.0', authMethod: 'API_KEY', asset: { type: 'role', id: 'r-2', name: 'Org Owners' },
    }));
    const run1 = scanOnce(first, emptyState(T0 - 5 * MIN), { readFrom: T0 - 5 * MIN, from: T0 - 5 * MIN, to: T0 + 5 * MIN });
    expect(run1.actions.map((a) => a.kind)).toEqual(['trigger']);
    expect(run1.actions[0].summary.evidence).toMatchObject({ ips: ['203.0.113.77'], authMethods: ['SESSION'], assets: { role_grant: [{ id: 'r-1', count: 3 }] } });
    // The next run gets the state through JSON, as Temporal hands it over, and re-reads the overlap.
    const carried = JSON.parse(JSON.stringify(run1.state)) as CarriedState;
    const run2 = scanOnce([...first, ...second], carried, { readFrom: T0, from: T0 + 5 * MIN, to: T0 + 10 * MIN });
    expect(run2.actions.map((a) => a.kind)).toEqual(['update']);
    const { evidence, counts } = run2.actions[0].summary;
    expect(counts.role_grant).toBe(7);
    expect(evidence.ips).toEqual(['192.0.2.9', '203.0.113.77']);
    expect(evidence.userAgents).toEqual(['curl/8.4.0', 'python-requests/2.31.0']);
    expect(evidence.authMethods).toEqual(['SESSION', 'API_KEY']);
    // Events re-read in the overlap are not counted twice in the evidence either.
    expect(evidence.assets.role_grant).toEqual([
      { type: 'role', id: 'r-2', name: 'Org Owners', count: 4 },
      { type: 'role', id: 'r-1', name: 'Billing Admins', count: 3 },
    ]);
    expect(evidence.samples.map((s) => s.id)).toEqual(['run1-0', 'run1-1', 'run1-2', 'run2-0', 'run2-1', 'run2-2', 'run2-3']);
  });

  test('mergeEvidence folds one evidence into another within the caps, ranking by the summed counts', () => {
    const a = emptyEvidence();
    const b = emptyEvidence();
    for (let i = 0; i < 30; i++) {
      const e = event(T0 + i * SEC, { id: `a-${i}`, ip: `10.0.0.${i}`, asset: { type: 'role', id: `r-${i}` } });
      addEventEvidence(a, e, e.attributes!.attributes as Record<string, unknown>, T0 + i * SEC, ['role_grant']);
    }
    for (let i = 0; i < 5; i++) {
      const e = event(T0 - 10 * SEC + i, { id: `b-${i}`, ip: '10.0.0.29' });
      addEventEvidence(b, e, e.attributes!.attributes as Record<string, unknown>, T0 - 10 * SEC + i, ['role_grant']);
    }
    mergeEvidence(a, b);
    const shown = showEvidence(a);
    expect(shown.ips).toHaveLength(10);
    expect(shown.ips[0]).toBe('10.0.0.29');
    expect(shown.assets.role_grant).toHaveLength(20);
    expect(shown.samples.map((s) => s.id)).toEqual(['b-0', 'b-1', 'b-2', 'b-3', 'b-4', 'a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
  });

  test('a burst that opens mid-scan takes the scan\'s earlier events of the burst, not events from before it', () => {
    const lone = event(T0, { id: 'before', asset: { type: 'role', id: 'r-old', name: 'Old' } });
    const burst = [0, 1, 2].map((i) => event(T0 + 20 * MIN + i * 30 * SEC, { id: `burst-${i}` }));
    const result = scanOnce([lone, ...burst], emptyState(T0 - MIN), { readFrom: T0 - MIN, from: T0 - MIN, to: T0 + 30 * MIN });
    const { evidence } = result.actions[0].summary;
    expect(evidence.samples.map((s) => s.id)).toEqual(['burst-0', 'burst-1', 'burst-2']);
    expect(evidence.assets.role_grant).toEqual([{ type: 'role', id: 'r-0001', name: 'Billing Admins', count: 3 }]);
  });

  test('a state carried by version 2 (incidents without evidence) is upgraded in place and goes on', () => {
    const v2: CarriedStateV2 = {
      v: 2, watermark: T0,
      actors: { 'mallory@example.com': { name: 'Mallory', hits: { role_grant: [T0 - MIN, 1, T0 - 30 * SEC, 2, T0 - 10 * SEC, 3] },
        incident: { dedupKey: 'audit-spike-0000000000000001', firstSeen: T0 - MIN, lastSeen: T0 - 10 * SEC, severity: 'error', rules: ['role_grant'],
          counts: { role_grant: 3 }, events: 3, late: false, notified: { severity: 'error', events: 3 } } } },
    };
    const upgraded = upgradeState(JSON.parse(JSON.stringify(v2)));
    expect(upgraded.v).toBe(3);
    expect(upgraded.actors['mallory@example.com'].incident!.evidence).toEqual(emptyEvidence());
    const result = scanOnce([event(T0 + MIN, { id: 'later' })], JSON.parse(JSON.stringify(v2)), { readFrom: T0 - 5 * MIN, from: T0, to: T0 + 5 * MIN });
    expect(result.state.v).toBe(3);
    expect(result.actions.map((a) => [a.kind, a.summary.dedupKey, a.summary.events])).toEqual([['update', 'audit-spike-0000000000000001', 4]]);
    expect(result.actions[0].summary.evidence.samples.map((s) => s.id)).toEqual(['later']);
  });
});

test('evidence state is plain JSON: what a run carries reads back identically', () => {
  const evidence: EvidenceState = emptyEvidence();
  const e = event(T0);
  addEventEvidence(evidence, e, e.attributes!.attributes as Record<string, unknown>, T0, ['role_grant']);
  expect(JSON.parse(JSON.stringify(evidence))).toEqual(evidence);
  expect(showEvidence(evidence)).toEqual({
    ips: ['203.0.113.77'], userAgents: ['python-requests/2.31.0'], authMethods: ['SESSION'], actorTypes: ['USER'],
    assets: { role_grant: [{ type: 'role', id: 'r-0001', name: 'Billing Admins', count: 1 }] },
    samples: [{ id: `AQAA-${T0}`, timestamp: '2026-11-30T10:20:00.000Z', rule: 'role_grant', message: `mallory granted a role at ${T0}` }],
  });
});
