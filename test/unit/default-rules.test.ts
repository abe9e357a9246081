import { DEFAULT_RULES } from '../../src/config/default-rules';
import { replay, timeOrder, type ReplayReport } from '../../src/replay/engine';
import { ACTIONS, burst, type ActionSpec, type AuditEventJson } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

/**
 * The default catalog against audit events shaped as the v2 API returns them, replayed through the live path
 * (window planning, one run per interval, state carried between runs).
 */
const T0 = Date.parse('2026-11-24T10:02:00.000Z');
const MIN = 60_000;
const actor = { id: 'u-1', email: 'Alice@Example.com', name: 'Alice' };

function run(events: AuditEventJson[], yaml = ''): ReplayReport {
  return replay(timeOrder(events).ordered, argsFrom(yaml));
}

/** What each default rule must count, and near misses it must not. */
const CASES: Record<string, { positives: ActionSpec[]; negatives: ActionSpec[] }> = {
  role_grant: {
    positives: [ACTIONS.roleGrant],
    negatives: [
      { ...ACTIONS.roleGrant, action: 'accessed' },
      { ...ACTIONS.roleGrant, action: 'created' },
      { ...ACTIONS.roleGrant, evt: 'Dashboard' },
      { ...ACTIONS.roleGrant, assetType: 'role_request' },
    ],
  },
  api_key_create: {
    positives: [ACTIONS.apiKeyCreate],
    negatives: [{ ...ACTIONS.apiKeyCreate, action: 'listed' }, { ...ACTIONS.apiKeyCreate, action: 'accessed' }, { ...ACTIONS.apiKeyCreate, action: 'deleted' }],
  },
  app_key_create: {
    positives: [ACTIONS.appKeyCreate, ACTIONS.serviceAccountAppKeyCreate],
    negatives: [{ ...ACTIONS.appKeyCreate, action: 'modified' }, { ...ACTIONS.appKeyCreate, action: 'accessed' }],
  },
  monitor_delete: {
    positives: [ACTIONS.monitorDelete],
    negatives: [{ ...ACTIONS.monitorDelete, action: 'modified' }, { ...ACTIONS.monitorDelete, action: 'created' }, { ...ACTIONS.monitorDelete, assetType: 'dashboard', evt: 'Dashboard' }],
  },
  user_invite: {
    positives: [ACTIONS.userInvite],
    negatives: [{ ...ACTIONS.userInvite, action: 'modified' }, { ...ACTIONS.userInvite, action: 'listed' }, { ...ACTIONS.userInvite, evt: 'Authentication', action: 'login' }],
  },
  org_auth_change: {
    positives: [ACTIONS.samlChange, { ...ACTIONS.samlChange, evt: 'Access Management', action: 'created' }, { ...ACTIONS.samlChange, action: 'deleted' }],
    negatives: [{ ...ACTIONS.samlChange, action: 'accessed' }, { ...ACTIONS.samlChange, assetType: 'org' }],
  },
  audit_defense_evasion: {
    positives: [
      ACTIONS.securityRuleDelete,
      ACTIONS.pipelineDelete,
      { ...ACTIONS.pipelineDelete, assetType: 'archive', assetName: 'audit archive' },
      ACTIONS.auditSettingsDisable,
    ],
    negatives: [
      { ...ACTIONS.securityRuleDelete, action: 'modified' },
      { ...ACTIONS.pipelineDelete, action: 'modified' },
      { ...ACTIONS.pipelineDelete, assetType: 'archive', action: 'created' },
      { ...ACTIONS.auditSettingsDisable, action: 'accessed' },
    ],
  },
};

// The catalog v1; the rules v2 added have their cases in default-rules-v2.test.ts.
describe.each(DEFAULT_RULES.filter((rule) => rule.id in CASES).map((rule) => [rule.id, rule] as const))('default rule %s', (id, rule) => {
  const threshold = rule.tiers[0].count;
  const { positives, negatives } = CASES[id];

  test.each(positives.map((action) => [`${action.evt} ${action.assetType} ${action.action}`, action]))('counts %s', (_, action) => {
    const report = run(burst(actor, action, threshold, T0, Math.min(rule.windowMs / 2, 4 * MIN)));
    expect(report.incidents).toHaveLength(1);
    expect(report.incidents[0]).toMatchObject({ actor: 'alice@example.com', severity: rule.tiers[0].severity, rules: [id], counts: { [id]: threshold } });
  });

  test.each(negatives.map((action) => [`${action.evt} ${action.assetType} ${action.action}`, action]))('never counts %s', (_, action) => {
    const report = run(burst(actor, action, 25, T0, 4 * MIN));
    // Another rule may count it (an API key deleted is api_key_delete's), never this one.
    expect(report.incidents.filter((incident) => id in incident.counts)).toEqual([]);
    if (report.incidents.length === 0) expect(report.counters.matched).toBe(0);
  });

  // Each tier at N-1, N and N+1 events within the window.
  const tierCases = rule.tiers.flatMap((tier, i) => {
    const below = i === 0 ? undefined : rule.tiers[i - 1].severity;
    const above = rule.tiers[i + 1]?.count === tier.count + 1 ? rule.tiers[i + 1].severity : tier.severity;
    return [[tier.count - 1, below], [tier.count, tier.severity], [tier.count + 1, above]] as Array<[number, string | undefined]>;
  }).filter(([count]) => count > 0);
  test.each(tierCases)('%i events within the window → %s', (count, severity) => {
    const report = run(burst(actor, positives[0], count, T0, Math.min(rule.windowMs - MIN, 8 * MIN)));
    if (severity === undefined) expect(report.incidents).toEqual([]);
    else expect(report.incidents.map((i) => [i.severity, i.counts[id]])).toEqual([[severity, count]]);
  });

  if (threshold > 1) {
    test('the threshold spread over exactly the window does not burst; 1 ms less does', () => {
      expect(run(burst(actor, positives[0], threshold, T0, rule.windowMs)).incidents).toEqual([]);
      expect(run(burst(actor, positives[0], threshold, T0, rule.windowMs - 1)).incidents).toHaveLength(1);
    });
  } else if (rule.tiers[1]) {
    test('the next tier spread over exactly the window stays at the first tier', () => {
      const report = run(burst(actor, positives[0], rule.tiers[1].count, T0, rule.windowMs));
      expect(report.incidents.map((i) => i.severity)).toEqual([rule.tiers[0].severity]);
    });
  } else {
    test('two events exactly a window apart are two bursts, each paged once', () => {
      const report = run(burst(actor, positives[0], 2, T0, rule.windowMs));
      expect(report.incidents.map((i) => [i.severity, i.counts[id]])).toEqual([[rule.tiers[0].severity, 1], [rule.tiers[0].severity, 1]]);
    });
  }
});

describe('windows and runs', () => {
  test('a burst split across two scheduled runs is one incident, raised as it grows', () => {
    // 10 role grants from 10:02 to 10:08: the 10:05 run sees the first ones (error), the 10:10 run the rest (critical).
    const report = run(burst(actor, ACTIONS.roleGrant, 10, T0, 6 * MIN));
    expect(report.runs).toBeGreaterThan(1);
    expect(report.incidents.map((i) => [i.severity, i.counts.role_grant])).toEqual([['critical', 10]]);
  });

  test('two bursts by one actor a window apart are two incidents with their own dedup keys', () => {
    const events = [...burst(actor, ACTIONS.apiKeyCreate, 3, T0, MIN), ...burst(actor, ACTIONS.apiKeyCreate, 3, T0 + 11 * MIN, MIN)];
    const report = run(events);
    expect(report.incidents).toHaveLength(2);
    expect(new Set(report.incidents.map((i) => i.dedupKey)).size).toBe(2);
  });

  test('a burst resumed less than a window after its last event updates the same incident', () => {
    const events = [...burst(actor, ACTIONS.apiKeyCreate, 3, T0, MIN), ...burst(actor, ACTIONS.apiKeyCreate, 3, T0 + 10 * MIN, MIN)];
    const report = run(events);
    expect(report.incidents).toHaveLength(1);
    expect(report.incidents[0].counts.api_key_create).toBe(6);
  });

  test('a combined rule counts sensitive actions of every kind, and the incident takes the highest severity', () => {
    const yaml = 'detection:\n  rules:\n    - { id: any_sensitive, combine: ["*"], window: 10m, tiers: [{ count: 6, severity: critical }] }\n';
    const events = [
      ...burst(actor, ACTIONS.userInvite, 2, T0, MIN),
      ...burst(actor, ACTIONS.apiKeyCreate, 2, T0 + 2 * MIN, MIN),
      ...burst(actor, ACTIONS.roleGrant, 2, T0 + 4 * MIN, MIN),
    ];
    expect(run(events).incidents).toEqual([]);
    const report = run(events, yaml);
    expect(report.incidents).toHaveLength(1);
    expect(report.incidents[0]).toMatchObject({ severity: 'critical', rules: ['any_sensitive'], counts: { any_sensitive: 6, user_invite: 2, api_key_create: 2, role_grant: 2 } });
  });

  test('a combined rule over a list of ids counts only those rules', () => {
    const yaml = 'detection:\n  rules:\n    - { id: keys, combine: [api_key_create, app_key_create], window: 10m, tiers: [{ count: 4, severity: error }] }\n';
    const keys = [...burst(actor, ACTIONS.apiKeyCreate, 2, T0, MIN), ...burst(actor, ACTIONS.appKeyCreate, 2, T0 + 2 * MIN, MIN)];
    expect(run(keys, yaml).incidents[0]).toMatchObject({ rules: ['keys'], counts: { keys: 4 } });
    const invites = burst(actor, ACTIONS.userInvite, 4, T0, MIN);
    expect(run(invites, yaml).incidents).toEqual([]);
  });

  test('a disabled rule never counts', () => {
    expect(run(burst(actor, ACTIONS.roleGrant, 12, T0, MIN), 'detection:\n  rules:\n    - { id: role_grant, enabled: false }\n').incidents).toEqual([]);
  });

  test('custom matches: any attribute path, lists and wildcards, case-insensitive', () => {
    const yaml = 'detection:\n  defaultRules: false\n  rules:\n    - { id: prod_delete, match: { asset.name: "PROD-*", action: [deleted, archived], http.method: delete }, window: 5m, tiers: [{ count: 2, severity: error }] }\n';
    const hit = { evt: 'Dashboard', assetType: 'dashboard', action: 'Deleted', assetName: 'prod-overview', method: 'DELETE' };
    expect(run(burst(actor, hit, 2, T0, MIN), yaml).incidents).toHaveLength(1);
    expect(run(burst(actor, { ...hit, assetName: 'staging-overview' }, 2, T0, MIN), yaml).incidents).toEqual([]);
    expect(run(burst(actor, { ...hit, action: 'modified' }, 2, T0, MIN), yaml).incidents).toEqual([]);
  });
});
