import { ConfigError } from '../../src/config/errors';
import { parseConfigText } from '../../src/config/load';

function problems(yaml: string): string[] {
  try {
    parseConfigText(yaml, 'audit-spike.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

test('an empty file gives the default catalog, every rule enabled', () => {
  const { args, schedule } = parseConfigText('', 'empty');
  expect(args.detection.rules.map((r) => r.id)).toEqual([
    'role_grant', 'api_key_create', 'app_key_create', 'monitor_delete', 'user_invite', 'org_auth_change', 'audit_defense_evasion',
  ]);
  expect(schedule).toMatchObject({ scheduleId: 'audit-spike-default', intervalMs: 300_000 });
  expect(args.datadog).toMatchObject({ apiKeyEnv: 'DD_API_KEY', appKeyEnv: 'DD_APP_KEY' });
  expect(JSON.stringify(args)).not.toMatch(/sim-|secret/);
});

test('overriding a default rule by id changes only what is given', () => {
  const { args } = parseConfigText('detection:\n  rules:\n    - id: role_grant\n      window: 15m\n    - id: user_invite\n      enabled: false\n', 'x');
  const grant = args.detection.rules.find((r) => r.id === 'role_grant')!;
  expect(grant.windowMs).toBe(15 * 60_000);
  expect(grant.tiers).toEqual([{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }]);
  expect(args.detection.rules.find((r) => r.id === 'user_invite')!.enabled).toBe(false);
});

test.each([
  ['schedule:\n  interval: fast\n', 'schedule.interval: must be a duration such as 90s, 10m, 1h or 7d'],
  ['pagerduty:\n  mode: email\n', 'pagerduty.mode'],
  ['detection:\n  rules:\n    - id: custom\n      window: 5m\n', 'detection.rules[0] (id "custom"): a new rule needs match (or matchAny, or combine), tiers'],
  ['detection:\n  rules:\n    - id: role_grant\n      tiers: [{count: 5, severity: critical}, {count: 3, severity: error}]\n', 'detection.rules[0] (id "role_grant").tiers[1].count: tier counts must increase'],
  ['detection:\n  templates:\n    title: "{{actor}} did {{nonsense}}"\n', 'detection.templates.title: unknown placeholder {{nonsense}}'],
  ['datadog:\n  pageLimit: 5000\n', 'datadog.pageLimit'],
  ['datadog:\n  apiKeyEnv: "my key"\n', 'datadog.apiKeyEnv: must be an environment variable name'],
  ['bogus: 1\n', 'bogus'],
  ['pagerduty:\n  mode: rest\n', 'pagerduty.serviceId: required when mode is rest'],
  ['[unclosed', 'not valid YAML/JSON'],
])('%j is refused with a message naming the field', (yaml, expected) => {
  expect(problems(yaml).join('\n')).toContain(expected);
});

test('the error message names the file', () => {
  expect(() => parseConfigText('schedule:\n  interval: 0x\n', 'team.yaml')).toThrow(/Invalid configuration in team\.yaml/);
});
