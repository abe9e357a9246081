import { DEFAULT_RULES } from '../../src/config/default-rules';
import { CompiledRules } from '../../src/detection/rules';
import { replay, timeOrder, type ReplayReport } from '../../src/replay/engine';
import type { AuditEventLike } from '../../src/detection/types';
import { argsFrom } from '../support/settings';

/** The default catalog v2 (design.md), replayed through the live path, with events shaped as the v2 API returns them. */
const T0 = Date.parse('2026-11-24T10:02:00.000Z');
const SEC = 1000;

let seq = 0;
function event(at: number, inner: Record<string, unknown>, email = 'mallory@example.com'): AuditEventLike {
  seq++;
  return {
    id: `AQAA-v2-${seq}`, type: 'audit',
    attributes: { timestamp: new Date(at).toISOString(), message: `event ${seq}`, attributes: { usr: { email, id: `u-${email}` }, ...inner } },
  };
}

function times(count: number, inner: Record<string, unknown>): AuditEventLike[] {
  return Array.from({ length: count }, (_, i) => event(T0 + i * 20 * SEC, inner));
}

function run(events: AuditEventLike[], yaml = ''): ReplayReport {
  return replay(timeOrder(events).ordered, argsFrom(yaml));
}

const asset = (type: string, extra: Record<string, unknown> = {}) => ({ asset: { type, id: `${type}-1`, name: `${type} one`, ...extra } });

interface V2Case {
  id: string;
  severity: string;
  threshold: number;
  inner: Record<string, unknown>;
  /** For rules that page on one event: the nearest event that must not count. */
  nearMiss?: Record<string, unknown>;
}

const V2: V2Case[] = [
  { id: 'audit_trail_disabled', severity: 'critical', threshold: 1,
    inner: { evt: { name: 'Organization Management' }, action: 'modified', asset: { type: 'audit_trail_state', new_value: { enabled: false } } },
    nearMiss: { evt: { name: 'Organization Management' }, action: 'modified', asset: { type: 'audit_trail_state', new_value: { enabled: true } } } },
  { id: 'security_notification_change', severity: 'error', threshold: 1,
    inner: { evt: { name: 'Security Monitoring' }, action: 'deleted', ...asset('notification_profile') },
    nearMiss: { evt: { name: 'Security Monitoring' }, action: 'created', ...asset('notification_profile') } },
  { id: 'public_dashboard_share', severity: 'warning', threshold: 1,
    inner: { evt: { name: 'Dashboard' }, action: 'created', ...asset('dashboard_share_link') },
    nearMiss: { evt: { name: 'Dashboard' }, action: 'deleted', ...asset('dashboard_share_link') } },
  { id: 'admin_role_grant', severity: 'critical', threshold: 1,
    inner: { evt: { name: 'Access Management' }, action: 'modified', asset: { type: 'role', id: 'r-admin', name: 'Datadog Admin Role' } },
    nearMiss: { evt: { name: 'Access Management' }, action: 'modified', asset: { type: 'role', id: 'r-ro', name: 'Datadog Read Only Role' } } },
  { id: 'support_user_write', severity: 'warning', threshold: 1,
    inner: { evt: { name: 'Monitor', actor: { type: 'SUPPORT_USER' } }, action: 'modified', ...asset('monitor') },
    nearMiss: { evt: { name: 'Monitor', actor: { type: 'USER' } }, action: 'modified', ...asset('monitor') } },
  { id: 'datadog_security_notification', severity: 'error', threshold: 1,
    inner: { evt: { name: 'Security Notification' }, ...asset('api_key') },
    nearMiss: { evt: { name: 'Security Monitoring' }, ...asset('security_signal'), action: 'modified' } },
  { id: 'sds_change', severity: 'warning', threshold: 1,
    inner: { evt: { name: 'Sensitive Data Scanner' }, action: 'deleted', ...asset('sensitive_data_scanner_scanning_group') },
    nearMiss: { evt: { name: 'Sensitive Data Scanner' }, action: 'created', ...asset('sensitive_data_scanner_rule') } },
  { id: 'log_archive_change', severity: 'warning', threshold: 1,
    inner: { evt: { name: 'Log Management' }, action: 'modified', ...asset('archive') },
    nearMiss: { evt: { name: 'Log Management' }, action: 'created', ...asset('archive') } },
  { id: 'restriction_policy_change', severity: 'warning', threshold: 3,
    inner: { evt: { name: 'Access Management' }, action: 'modified', ...asset('restriction_policy') } },
  { id: 'api_key_delete', severity: 'error', threshold: 5,
    inner: { evt: { name: 'Authentication' }, action: 'deleted', ...asset('api_key') } },
];

describe('default rule catalog v2: each rule at its threshold pages, just under stays quiet', () => {
  test('the catalog holds every v2 id with the severities of design.md', () => {
    for (const { id, severity, threshold } of V2) {
      const rule = DEFAULT_RULES.find((r) => r.id === id)!;
      expect({ id, first: rule.tiers[0], window: rule.windowMs }).toEqual({ id, first: { count: threshold, severity }, window: 600_000 });
    }
  });

  test.each(V2)('$id: $threshold → $severity', ({ id, severity, threshold, inner, nearMiss }) => {
    const at = run(times(threshold, inner));
    const paging = at.incidents.filter((i) => i.rules.includes(id));
    expect(paging).toHaveLength(1);
    expect(paging[0]).toMatchObject({ severity, counts: expect.objectContaining({ [id]: threshold }) });
    const under = nearMiss ? run(times(2, nearMiss)) : run(times(threshold - 1, inner));
    expect(under.incidents.filter((i) => i.rules.includes(id))).toEqual([]);
    expect(under.incidents).toEqual([]);
  });

  test('api_key_delete: 20 deletions page at critical', () => {
    const report = run(times(20, { evt: { name: 'Authentication' }, action: 'deleted', ...asset('api_key') }));
    expect(report.incidents.map((i) => [i.severity, i.counts.api_key_delete])).toEqual([['critical', 20]]);
  });

  test('one event can match several rules: a Datadog Admin Role grant is also a role_grant, in one incident', () => {
    const inner = { evt: { name: 'Access Management' }, action: 'modified', asset: { type: 'role', id: 'r-admin', name: 'Datadog Admin Role' } };
    const report = run(times(3, inner));
    expect(report.incidents).toHaveLength(1);
    expect(report.incidents[0]).toMatchObject({ severity: 'critical', rules: ['admin_role_grant', 'role_grant'], counts: { role_grant: 3, admin_role_grant: 3 } });
    expect(Object.keys(report.incidents[0].evidence.assets)).toEqual(['role_grant', 'admin_role_grant']);
  });
});

describe('boolean and nested matches', () => {
  const rules = new CompiledRules(DEFAULT_RULES, ['accessed', 'listed', 'login']);
  const index = (id: string) => rules.rules.findIndex((r) => r.id === id);
  const matches = (inner: Record<string, unknown>) => (rules.match(inner) ?? []).map((i) => rules.rules[i].id);
  const disabled = (enabled: unknown) => ({ action: 'modified', asset: { type: 'audit_trail_state', new_value: { enabled } } });

  test('asset.new_value.enabled: false matches the boolean and the string, in any case; true does not', () => {
    expect(index('audit_trail_disabled')).toBeGreaterThanOrEqual(0);
    expect(matches(disabled(false))).toEqual(['audit_trail_disabled']);
    expect(matches(disabled('false'))).toEqual(['audit_trail_disabled']);
    expect(matches(disabled('FALSE'))).toEqual(['audit_trail_disabled']);
    expect(matches(disabled(true))).toEqual([]);
    expect(matches(disabled('true'))).toEqual([]);
    expect(matches({ action: 'modified', asset: { type: 'audit_trail_state' } })).toEqual([]);
    expect(matches({ action: 'modified', asset: { type: 'audit_trail_state', new_value: false } })).toEqual([]);
  });

  test('evt.actor.type is read under evt, next to evt.name', () => {
    expect(matches({ evt: { name: 'Dashboard', actor: { type: 'SUPPORT_USER' } }, action: 'deleted', asset: { type: 'dashboard' } })).toEqual(['support_user_write']);
    expect(matches({ evt: { name: 'Dashboard', actor: { type: 'support_user' } }, action: 'created', asset: { type: 'dashboard' } })).toEqual(['support_user_write']);
    expect(matches({ evt: { name: 'Dashboard', actor: { type: 'SUPPORT_USER' } }, action: 'accessed', asset: { type: 'dashboard' } })).toEqual([]);
    expect(matches({ evt: { name: 'Dashboard', actor: 'SUPPORT_USER' }, action: 'deleted', asset: { type: 'dashboard' } })).toEqual([]);
  });

  test('a config may match booleans and numbers written as YAML scalars', () => {
    const args = argsFrom([
      'detection:',
      '  defaultRules: false',
      '  rules:',
      '    - { id: mfa_off, match: { asset.type: org, asset.new_value.mfa_required: false, asset.new_value.level: 2 }, window: 10m, tiers: [{ count: 1, severity: error }] }',
    ].join('\n'));
    const custom = new CompiledRules(args.detection.rules, []);
    expect(custom.match({ asset: { type: 'org', new_value: { mfa_required: false, level: 2 } } })).toEqual([0]);
    expect(custom.match({ asset: { type: 'org', new_value: { mfa_required: 'false', level: '2' } } })).toEqual([0]);
    expect(custom.match({ asset: { type: 'org', new_value: { mfa_required: true, level: 2 } } })).toBeUndefined();
  });
});

describe('quiet by default (design.md): everyday actions never page on the default catalog', () => {
  const actor = { type: 'USER' };
  const EVERYDAY: Array<[string, Record<string, unknown>]> = [
    ...['accessed', 'listed', 'login', 'queried', 'authorized', 'executed', 'completed', 'started'].flatMap((action): Array<[string, Record<string, unknown>]> => [
      [`${action} a role`, { evt: { name: 'Access Management', actor }, action, asset: { type: 'role', name: 'Datadog Admin Role' } }],
      [`${action} an API key`, { evt: { name: 'Authentication', actor }, action, asset: { type: 'api_key' } }],
      [`${action} a monitor`, { evt: { name: 'Monitor', actor }, action, asset: { type: 'monitor' } }],
      [`${action} logs`, { evt: { name: 'Log Management', actor }, action, asset: { type: 'logs_query' } }],
    ]),
    ['dashboard created', { evt: { name: 'Dashboard', actor }, action: 'created', asset: { type: 'dashboard' } }],
    ['dashboard modified', { evt: { name: 'Dashboard', actor }, action: 'modified', asset: { type: 'dashboard' } }],
    ['dashboard accessed', { evt: { name: 'Dashboard', actor }, action: 'accessed', asset: { type: 'dashboard' } }],
    ['monitor created', { evt: { name: 'Monitor', actor }, action: 'created', asset: { type: 'monitor' } }],
    ['monitor modified', { evt: { name: 'Monitor', actor }, action: 'modified', asset: { type: 'monitor' } }],
    ['monitor resolved', { evt: { name: 'Monitor', actor }, action: 'resolved', asset: { type: 'monitor' } }],
    ['notebook created', { evt: { name: 'Notebook', actor }, action: 'created', asset: { type: 'notebook' } }],
    ['notebook modified', { evt: { name: 'Notebook', actor }, action: 'modified', asset: { type: 'notebook' } }],
    ['notebook deleted', { evt: { name: 'Notebook', actor }, action: 'deleted', asset: { type: 'notebook' } }],
    ['log index modified', { evt: { name: 'Log Management', actor }, action: 'modified', asset: { type: 'index' } }],
    ['security rule modified', { evt: { name: 'Security Monitoring', actor }, action: 'modified', asset: { type: 'security_rule' } }],
    ['security signal modified', { evt: { name: 'Security Monitoring', actor }, action: 'modified', asset: { type: 'security_signal' } }],
    ['role created', { evt: { name: 'Access Management', actor }, action: 'created', asset: { type: 'role', name: 'New team' } }],
    ['role request created', { evt: { name: 'Access Management', actor }, action: 'created', asset: { type: 'role_request' } }],
    ['role request modified', { evt: { name: 'Access Management', actor }, action: 'modified', asset: { type: 'role_request' } }],
    ['user modified', { evt: { name: 'Access Management', actor }, action: 'modified', asset: { type: 'user' } }],
    ['password modified', { evt: { name: 'Authentication', actor }, action: 'modified', asset: { type: 'password' } }],
    ['agent configuration by the SYSTEM actor', { evt: { name: 'Fleet Automation', actor: { type: 'SYSTEM' } }, action: 'modified', asset: { type: 'agent_configuration' } }],
    ['agent configuration created by the SYSTEM actor', { evt: { name: 'Fleet Automation', actor: { type: 'SYSTEM' } }, action: 'created', asset: { type: 'agent_configuration' } }],
  ];

  test.each(EVERYDAY)('%s, 30 times in 10 minutes', (_name, inner) => {
    const report = run(times(30, inner));
    expect(report.incidents).toEqual([]);
    expect(report.counters.matched).toBe(0);
  });
});
