import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { loadConfig, parseConfigText } from '../../src/config/load';

function problems(yaml: string): string[] {
  try {
    parseConfigText(yaml, 'audit-spike.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const rule = (extra: string) => `detection:\n  rules:\n    - id: custom\n      match: { action: deleted }\n      window: 5m\n      tiers: [{ count: 2, severity: error }]\n${extra}`;

test('an empty file gives the default catalog, every rule enabled', () => {
  const { args, schedule, ruleTests } = parseConfigText('', 'empty');
  expect(args.detection.rules.map((r) => r.id)).toEqual([
    'role_grant', 'api_key_create', 'app_key_create', 'monitor_delete', 'user_invite', 'org_auth_change', 'audit_defense_evasion',
    'audit_trail_disabled', 'security_notification_change', 'public_dashboard_share', 'admin_role_grant', 'support_user_write',
    'datadog_security_notification', 'sds_change', 'log_archive_change', 'restriction_policy_change', 'api_key_delete',
    'new_country_sensitive', 'impossible_travel', 'multi_rule',
  ]);
  expect(args.detection.rules.every((r) => r.enabled)).toBe(true);
  expect(schedule).toMatchObject({ scheduleId: 'audit-spike-default', intervalMs: 300_000 });
  expect(args.datadog).toMatchObject({ apiKeyEnv: 'DD_API_KEY', appKeyEnv: 'DD_APP_KEY', query: '' });
  expect(args.detection.actorFields.map((f) => f.path)).toEqual(['usr.email', 'usr.id', 'metadata.api_key.id']);
  // Every default rule carries its own tests, kept out of the schedule's arguments.
  expect(ruleTests.map((entry) => entry.ruleId)).toEqual(args.detection.rules.map((r) => r.id));
  expect(ruleTests.every((entry) => entry.where === 'default rule' && entry.tests.length >= 2)).toBe(true);
  expect(JSON.stringify(args)).not.toMatch(/sim-|secret/);
});

test('overriding a default rule by id changes only what is given', () => {
  const { args } = parseConfigText('detection:\n  rules:\n    - id: role_grant\n      window: 15m\n    - id: user_invite\n      enabled: false\n', 'x');
  const grant = args.detection.rules.find((r) => r.id === 'role_grant')!;
  expect(grant.windowMs).toBe(15 * 60_000);
  expect(grant.tiers).toEqual([{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }]);
  expect(args.detection.rules.find((r) => r.id === 'user_invite')!.enabled).toBe(false);
});

test('the file declares the query filter, field mappings, catalog, allowlists, tiers, PagerDuty target and templates', () => {
  const { args } = parseConfigText([
    'datadog: { query: "-@usr.email:*@ci.example.com" }',
    'pagerduty: { mode: rest, serviceId: PSEC, fromEmail: bot@example.com, tokenEnv: PD_TOKEN }',
    'detection:',
    '  actorFields:',
    '    - { path: usr.id, kind: service_account, when: { usr.email: "*@svc.example.com" } }',
    '    - { path: usr.email, kind: email }',
    '    - { path: metadata.api_key.id, kind: api_key, prefix: "key:" }',
    '  actorNameFields: [usr.name, usr.handle]',
    '  rules:',
    '    - { id: dash, matchAny: [{ asset.type: dashboard, action: deleted }, { asset.type: notebook, action: [deleted, archived] }], window: 2m, tiers: [{ count: 4, severity: info }] }',
    '    - { id: all, combine: ["*"], window: 10m, tiers: [{ count: 20, severity: critical }] }',
    '  suppress:',
    '    actors: ["*@ci.example.com"]',
    '    maintenanceWindows: [{ from: 2026-12-01T22:00:00Z, to: 2026-12-02T02:00:00Z, reason: review }]',
    '  templates: { title: "{{actor}} x{{events}}", body: "{{countLines}}" }',
  ].join('\n'), 'full.yaml');
  expect(args.datadog.query).toBe('-@usr.email:*@ci.example.com');
  expect(args.pagerduty).toMatchObject({ mode: 'rest', serviceId: 'PSEC', tokenEnv: 'PD_TOKEN' });
  expect(args.detection.actorFields[0]).toEqual({
    path: 'usr.id', kind: 'service_account', prefix: 'service_account:', when: [{ all: [{ path: 'usr.email', values: ['*@svc.example.com'] }] }],
  });
  expect(args.detection.actorFields[2].prefix).toBe('key:');
  expect(args.detection.rules.find((r) => r.id === 'dash')!.anyOf).toHaveLength(2);
  expect(args.detection.rules.find((r) => r.id === 'all')!.combines).toEqual(['*']);
  expect(args.detection.suppress.maintenanceWindows[0]).toEqual({ fromMs: Date.parse('2026-12-01T22:00:00Z'), toMs: Date.parse('2026-12-02T02:00:00Z'), actors: [], reason: 'review' });
  expect(args.detection.templates).toEqual({ title: '{{actor}} x{{events}}', body: '{{countLines}}' });
});

test('JSON is accepted too', () => {
  const { args } = parseConfigText('{"org": "acme", "detection": {"rules": [{"id": "role_grant", "enabled": false}]}}', 'c.json');
  expect(args.orgId).toBe('acme');
  expect(args.detection.rules.find((r) => r.id === 'role_grant')!.enabled).toBe(false);
});

// Each bad config, and what the message must say: the path of the bad field, its line, what was wrong and what is allowed.
test.each([
  ['bogus: 1\n', 'bogus (line 1): unknown key "bogus"; allowed here: org, datadog, pagerduty, schedule, detection'],
  ['schedule:\n  intervall: 5m\n', 'schedule.intervall (line 2): unknown key "intervall" (did you mean "interval"?)'],
  ['schedule:\n  interval: fast\n', 'schedule.interval (line 2): must be a duration such as 90s, 10m, 1h or 7d'],
  ['schedule:\n  interval: true\n', 'schedule.interval (line 2): must be a duration such as 90s, 10m, 1h or 7d (or a number of milliseconds)'],
  ['schedule:\n  interval: 30s\n', 'schedule.interval (line 2): must be at least 1m (got 30000 ms)'],
  ['schedule: 5\n', 'schedule (line 1): must be a map (key: value) (got 5)'],
  ['- a\n- b\n', '(top level): must be a map (key: value) (got a list)'],
  ['pagerduty:\n  mode: email\n', 'pagerduty.mode (line 2): must be one of "events", "rest" (got "email")'],
  ['pagerduty:\n  mode: rest\n', 'pagerduty.serviceId (line 2): required when mode is rest'],
  ['pagerduty:\n  mode: rest\n  serviceId: P1\n  fromEmail: nope\n', 'pagerduty.fromEmail (line 4): must be an email address'],
  ['datadog:\n  pageLimit: 5000\n', 'datadog.pageLimit (line 2): must be at most 1000 (got 5000)'],
  ['datadog:\n  pageLimit: "x"\n', 'datadog.pageLimit (line 2): must be a number (got "x")'],
  ['datadog:\n  apiKeyEnv: "my key"\n', 'datadog.apiKeyEnv (line 2): must be an environment variable name such as DD_API_KEY'],
  ['datadog:\n  site: datadoghq.eu\n  baseUrl: http://127.0.0.1:8126\n', 'datadog.baseUrl (line 3): set either site or baseUrl, not both'],
  ['datadog:\n  baseUrl: not a url\n', 'datadog.baseUrl (line 2): must be a URL'],
  ['detection:\n  rules: {}\n', 'detection.rules (line 2): must be a list (got a map)'],
  ['detection:\n  rules:\n    - id: Bad Id\n', 'detection.rules[0].id (line 3): must be lower-case letters, digits, _ . or - (got "Bad Id")'],
  ['detection:\n  rules:\n    - id: x\n      matchh: {}\n', 'detection.rules[0].matchh (line 4): unknown key "matchh" (did you mean "match"?); allowed here: id, description, enabled, match, matchAny, combine, window, tiers, runbook, method, field, learning, forgetAfter, minKm, minKmh, within, minRules, tests'],
  ['detection:\n  rules:\n    - id: custom\n      window: 5m\n', 'detection.rules[0] (id "custom") (line 3): a new rule needs match (or matchAny, or combine), tiers'],
  ['detection:\n  rules:\n    - id: x\n      match: { action: a }\n      combine: ["*"]\n', 'detection.rules[0] (line 3): use only one of match, matchAny or combine'],
  ['detection:\n  rules:\n    - id: x\n      match: {}\n      window: 5m\n      tiers: [{ count: 1, severity: error }]\n', 'detection.rules[0].match (line 4): needs at least one attribute'],
  ['detection:\n  rules:\n    - id: x\n      match: { "bad path!": 1 }\n', 'detection.rules[0].match.bad path! (line 4): "bad path!" is not a valid key: must be an attribute path such as asset.type or usr.email'],
  ['detection:\n  rules:\n    - id: x\n      match: { action: { nested: 1 } }\n', 'detection.rules[0].match.action (line 4): must be a value (text, number, true/false) or a list of values; * is a wildcard'],
  [rule('').replace('count: 2', 'count: 0'), 'detection.rules[0].tiers[0].count (line 6): must be at least 1 (got 0)'],
  [rule('').replace('severity: error', 'severity: high'), 'detection.rules[0].tiers[0].severity (line 6): must be one of "info", "warning", "error", "critical" (got "high")'],
  [rule('').replace('tiers: [{ count: 2, severity: error }]', 'tiers: []'), 'detection.rules[0].tiers (line 6): needs at least 1 entry'],
  ['detection:\n  rules:\n    - id: role_grant\n      tiers: [{count: 5, severity: critical}, {count: 3, severity: error}]\n', 'detection.rules[0] (id "role_grant").tiers[1].count (line 4): tier counts must increase (got 5 then 3)'],
  ['detection:\n  rules:\n    - id: role_grant\n      tiers: [{count: 3, severity: critical}, {count: 5, severity: error}]\n', 'a higher tier cannot have a lower severity (critical then error)'],
  ['detection:\n  rules:\n    - id: role_grant\n      window: soon\n', 'detection.rules[0].window (line 4): must be a duration'],
  ['detection:\n  rules:\n    - { id: role_grant, window: 0 }\n', 'detection.rules[0] (id "role_grant").window (line 3): must be greater than 0 (got 0)'],
  ['detection:\n  rules:\n    - { id: a, combine: [nope], window: 5m, tiers: [{ count: 2, severity: error }] }\n', 'detection.rules[0] (id "a").combine (line 3): combines unknown rule "nope"; allowed: "*" or one of role_grant'],
  ['detection:\n  rules:\n    - { id: a, combine: [b], window: 5m, tiers: [{ count: 2, severity: error }] }\n    - { id: b, combine: ["*"], window: 5m, tiers: [{ count: 2, severity: error }] }\n', 'combines "b", itself a combined rule'],
  ['detection:\n  rules:\n    - { id: role_grant, enabled: false }\n    - { id: role_grant, window: 5m }\n', 'detection.rules[1] (id "role_grant").id (line 4): rule "role_grant" is already defined at detection.rules[0]; merge the two entries'],
  ['detection:\n  limits: { maxHitsPerRule: 15 }\n', 'default rule "monitor_delete".tiers: the highest tier (20) must be below limits.maxHitsPerRule (15)'],
  ['detection:\n  templates:\n    title: "{{actor}} did {{nonsense}}"\n', 'detection.templates.title (line 3): unknown placeholder {{nonsense}}; allowed: {{actor}} {{actorName}}'],
  ['detection:\n  templates:\n    body: "{{ actor.name }} at {{firstSeen}}"\n', 'detection.templates.body (line 3): unknown placeholder {{actor.name}}'],
  ['detection:\n  actorFields:\n    - { path: usr.email, kind: person }\n', 'detection.actorFields[0].kind (line 3): must be one of "email", "id", "service_account", "api_key" (got "person")'],
  ['detection:\n  actorFields: []\n', 'detection.actorFields (line 2): needs at least 1 entry'],
  ['detection:\n  actorFields:\n    - { path: usr.id, kind: id, when: {} }\n', 'detection.actorFields[0].when (line 3): needs at least one attribute'],
  ['detection:\n  suppress:\n    actors: terraform@example.com\n', 'detection.suppress.actors (line 3): must be a list (got "terraform@example.com")'],
  ['detection:\n  suppress:\n    maintenanceWindows:\n      - from: yesterday\n        to: 2026-01-01\n', 'detection.suppress.maintenanceWindows[0].from (line 4): "yesterday" is not a timestamp; use ISO 8601'],
  ['detection:\n  suppress:\n    maintenanceWindows:\n      - { from: 2026-01-02T00:00:00Z, to: 2026-01-01T00:00:00Z }\n', 'detection.suppress.maintenanceWindows[0].to (line 4): must be after from (2026-01-02T00:00:00.000Z)'],
  [rule('      tests:\n        - name: t\n          events: []\n          expect: { pages: true }\n'), 'detection.rules[0].tests[0].events (line 9): needs at least 1 entry'],
  [rule('      tests:\n        - name: t\n          events: [{ atributes: { action: deleted } }]\n          expect: { pages: true }\n'), 'detection.rules[0].tests[0].events[0].atributes (line 9): unknown key "atributes" (did you mean "attributes"?)'],
  [rule('      tests:\n        - name: t\n          events: [{ attributes: { action: deleted }, at: noon }]\n          expect: { pages: true }\n'), 'detection.rules[0].tests[0].events[0].at (line 9): must be an offset from the test\'s start such as 0s, 90s or 5m, or an ISO time'],
  [rule('      tests:\n        - name: t\n          events: [{ type: audit, attributes: { timestamp: nope, attributes: {} } }]\n          expect: { pages: true }\n'), 'detection.rules[0].tests[0].events[0].attributes.timestamp (line 9): must be an ISO 8601 time'],
  [rule('      tests:\n        - name: t\n          events: [{ type: event, attributes: { timestamp: 0, attributes: {} } }]\n          expect: { pages: true }\n'), 'detection.rules[0].tests[0].events[0].type (line 9): must be "audit" (got "event")'],
  [rule('      tests:\n        - name: t\n          events: [{ attributes: { action: deleted } }]\n          expect: { pages: no }\n'), 'detection.rules[0].tests[0].expect.pages (line 10): must be true or false (got "no")'],
  [rule('      tests:\n        - name: t\n          events: [{ attributes: { action: deleted } }]\n          expect: { pages: false, severity: error }\n'), 'detection.rules[0].tests[0].expect (line 10): severity and count only apply when pages is true'],
  [rule('      tests:\n        - events: [{ attributes: { action: deleted } }]\n          expect: { pages: true }\n'), 'detection.rules[0].tests[0].name (line 8): is required: text'],
  ['[unclosed', 'not valid YAML/JSON'],
])('%j is refused: %s', (yaml, expected) => {
  expect(problems(yaml).join('\n')).toContain(expected);
});

test('every problem in a file is reported at once, not only the first', () => {
  expect(problems('schedule:\n  interval: fast\npagerduty:\n  mode: email\nbogus: 1\n')).toHaveLength(3);
});

test('the error message names the file', () => {
  expect(() => parseConfigText('schedule:\n  interval: 0x\n', 'team.yaml')).toThrow(/Invalid configuration in team\.yaml/);
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-config-'));
  const file = join(dir, 'prod.yaml');
  writeFileSync(file, 'org: prod\ndetection:\n  rules:\n    - id: role_grant\n      window: 1 hour\n');
  expect(() => loadConfig(file)).toThrow(`Invalid configuration in ${file}:\n  - detection.rules[0].window (line 5): must be a duration`);
  expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow(/^the config file .*missing\.yaml: no such file \(looked for .*missing\.yaml\); check the path$/);
});

test('rule tests are collected with the rule they belong to, and kept out of the schedule arguments', () => {
  const config = parseConfigText(rule('      tests:\n        - name: two page\n          events: [{ actor: a@example.com, attributes: { action: deleted }, repeat: 2 }]\n          expect: { pages: true }\n'), 'x');
  const written = config.ruleTests.filter((entry) => entry.where !== 'default rule');
  expect(written).toHaveLength(1);
  expect(written[0]).toMatchObject({ ruleId: 'custom', where: 'detection.rules[0]' });
  expect(written[0].tests[0].events).toHaveLength(2);
  expect(JSON.stringify(config.args)).not.toContain('two page');
});
