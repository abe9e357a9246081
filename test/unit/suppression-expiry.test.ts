import { expiredExemptions } from '../../src/cli/config';
import { AuditSpikeArgsSchema } from '../../src/config/args-schema';
import { Detector } from '../../src/detection/detector';
import { Scan, type ScanResult } from '../../src/detection/scan';
import { emptyState } from '../../src/detection/state';
import { suppressionFor } from '../../src/detection/suppression';
import type { AuditEventLike } from '../../src/detection/types';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const MIN = 60_000;
const TERRAFORM = 'terraform@service.example.com';
const EXEMPT = [
  'detection:',
  '  suppress:',
  '    actors:',
  '      - "*@ci.example.com"',
  `      - { actor: "${TERRAFORM}", rules: [monitor_delete], expires: 2026-12-01T00:00:00Z, reason: Terraform apply }`,
].join('\n');

function event(i: number, inner: Record<string, unknown>, email = TERRAFORM): AuditEventLike {
  return { id: `e-${i}`, type: 'audit', attributes: { timestamp: new Date(T0 + i * 20_000).toISOString(), attributes: { usr: { email }, ...inner } } };
}
const monitorDelete = { evt: { name: 'Monitor' }, action: 'deleted', asset: { type: 'monitor' } };
const keyCreate = { evt: { name: 'Authentication' }, action: 'created', asset: { type: 'api_key' } };

/** One scan over [T0, T0 + 20m), as a run scheduled at `runAt` would make it. */
function scanAt(runAt: number, events: AuditEventLike[], yaml = EXEMPT): ScanResult {
  const args = argsFrom(yaml);
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const window = { readFrom: T0, from: T0, to: T0 + 20 * MIN };
  const scan = Scan.start(detector, { orgId: 'o', window, runAt, lateAfterMs: 365 * 24 * 60 * MIN }, emptyState(T0));
  for (const e of events) scan.add(e);
  return scan.finish();
}

describe('per-rule suppression with an expiry', () => {
  const deletions = [0, 1, 2, 3, 4, 5].map((i) => event(i, monitorDelete));

  test('the config resolves string entries as allowlisted patterns and objects as exemptions', () => {
    const { suppress } = argsFrom(EXEMPT).detection;
    expect(suppress.actors).toEqual(['*@ci.example.com']);
    expect(suppress.exemptions).toEqual([{ actor: TERRAFORM, rules: ['monitor_delete'], expiresMs: Date.parse('2026-12-01T00:00:00Z'), reason: 'Terraform apply' }]);
  });

  test('before the expiry, Terraform\'s monitor deletions are counted and listed as suppressed, never paged', () => {
    const result = scanAt(T0 + 20 * MIN, deletions);
    expect(result.actions).toEqual([]);
    expect(result.suppressed).toEqual([expect.objectContaining({
      actor: TERRAFORM, severity: 'error', events: 6,
      reason: 'actor exempted from monitor_delete (terraform@service.example.com) until 2026-12-01T00:00:00.000Z: Terraform apply',
    })]);
  });

  test('the exemption is for monitor_delete only: Terraform minting keys pages, and so does a burst crossing both', () => {
    const keys = [10, 11, 12].map((i) => event(i, keyCreate));
    expect(scanAt(T0 + 20 * MIN, keys).actions.map((a) => [a.kind, a.summary.rules])).toEqual([['trigger', ['api_key_create']]]);
    const both = scanAt(T0 + 20 * MIN, [...deletions, ...keys]);
    expect(both.actions.map((a) => [a.kind, a.summary.rules, a.summary.counts])).toEqual([
      ['trigger', ['monitor_delete', 'api_key_create'], { monitor_delete: 6, api_key_create: 3 }],
    ]);
    expect(both.suppressed).toEqual([]);
  });

  test('from the expiry on, judged by the run\'s scheduled time (not the clock), the entry is ignored and the burst pages', () => {
    const expires = Date.parse('2026-12-01T00:00:00Z');
    expect(scanAt(expires - 1, deletions).actions).toEqual([]);
    const after = scanAt(expires, deletions);
    expect(after.actions.map((a) => [a.kind, a.summary.actor, a.summary.severity])).toEqual([['trigger', TERRAFORM, 'error']]);
    expect(after.suppressed).toEqual([]);
  });

  test('other actors and plain patterns are unaffected; an exemption without rules covers every rule', () => {
    expect(scanAt(T0 + 20 * MIN, [0, 1].map((i) => event(i, monitorDelete, 'ops@example.com'))).actions).toHaveLength(1);
    const all = 'detection:\n  suppress:\n    actors: [{ actor: "terraform@*", expires: 2030-01-01 }]\n';
    const result = scanAt(T0 + 20 * MIN, [...deletions, ...[10, 11, 12].map((i) => event(i, keyCreate))], all);
    expect(result.actions).toEqual([]);
    expect(result.suppressed[0].reason).toBe('actor exempted (terraform@*) until 2030-01-01T00:00:00.000Z');
    const settings = argsFrom(all).detection.suppress;
    expect(suppressionFor(settings, TERRAFORM, T0, Date.parse('2030-01-01T00:00:00Z'), ['monitor_delete'])).toBeUndefined();
  });

  test('config check reports expired entries; bad entries are config errors that say what is allowed', () => {
    const { exemptions } = argsFrom(EXEMPT).detection.suppress;
    expect(expiredExemptions(exemptions!, Date.parse('2026-11-30T23:59:59Z'))).toEqual([]);
    expect(expiredExemptions(exemptions!, Date.parse('2026-12-01T00:00:00Z'))).toEqual([
      'expired: the exemption of terraform@service.example.com from monitor_delete ended 2026-12-01T00:00:00.000Z and is ignored; ' +
        'remove it from detection.suppress.actors or move its expires later',
    ]);
    expect(() => argsFrom('detection:\n  suppress:\n    actors: [{ actor: a@example.com, rules: [monitor_delet] }]\n'))
      .toThrow(/detection\.suppress\.actors\[0\]\.rules \(line 3\): unknown rule "monitor_delet"; allowed: role_grant, /);
    expect(() => argsFrom('detection:\n  suppress:\n    actors: [{ actor: a@example.com, expires: soon }]\n'))
      .toThrow(/detection\.suppress\.actors\[0\]\.expires \(line 3\): "soon" is not a timestamp/);
    expect(() => argsFrom('detection:\n  suppress:\n    actors: [{ actr: a@example.com }]\n')).toThrow(/unknown key "actr" \(did you mean "actor"\?\)/);
    expect(() => argsFrom('detection:\n  suppress:\n    actors: [3]\n')).toThrow(/must be an actor id or pattern/);
  });

  test('schedule arguments from before exemptions existed (no exemptions key) still validate and run', () => {
    const args = argsFrom('');
    const { exemptions: _dropped, ...older } = args.detection.suppress;
    expect(AuditSpikeArgsSchema.safeParse({ ...args, detection: { ...args.detection, suppress: older } }).success).toBe(true);
    const detector = new Detector({ ...args.detection, suppress: older }, args.cadence.latenessMs);
    const window = { readFrom: T0, from: T0, to: T0 + 20 * MIN };
    const scan = Scan.start(detector, { orgId: 'o', window, runAt: window.to, lateAfterMs: 60 * MIN }, emptyState(T0));
    for (const e of deletions) scan.add(e);
    expect(scan.finish().actions).toHaveLength(1);
  });
});
