import { ConfigError } from '../../src/config/errors';
import { parseConfigText } from '../../src/config/load';

/** Catalog v3: rules choose a method; every option is validated, and a mistake names the field and what is allowed. */
function problems(yaml: string): string[] {
  try {
    parseConfigText(yaml, 'audit-spike.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const custom = (lines: string) => `detection:\n  rules:\n    - id: custom\n${lines}`;

test.each([
  [custom('      method: new_valu\n'), 'detection.rules[0].method (line 4): must be one of threshold, new_value, impossible_travel, multi_rule'],
  [custom('      method: new_value\n      minKm: 100\n'), 'detection.rules[0].minKm (line 5): minKm applies only to method impossible_travel; method new_value takes field, learning, forgetAfter'],
  [custom('      method: multi_rule\n      field: usr.email\n'), 'detection.rules[0].field (line 5): field applies only to method new_value; method multi_rule takes within, minRules'],
  [custom('      method: impossible_travel\n      minKm: -5\n'), 'detection.rules[0].minKm (line 5): must be more than 0 km'],
  [custom('      method: impossible_travel\n      minKmh: fast\n'), 'detection.rules[0].minKmh (line 5): must be a speed in km/h such as 1000'],
  [custom('      method: multi_rule\n      minRules: 1\n'), 'detection.rules[0].minRules (line 5): must be at least 2 (the rule being crossed and one other)'],
  [custom('      method: multi_rule\n      within: 2d\n'), 'detection.rules[0].within (line 5): must be between 1m and 24h'],
  [custom('      method: new_value\n      forgetAfter: 10m\n'), 'detection.rules[0].forgetAfter (line 5): must be between 1h and 365d'],
  [custom('      method: new_value\n      learning: soon\n'), 'detection.rules[0].learning (line 5): must be a duration'],
  [custom('      method: new_value\n      field: "bad field!"\n'), 'detection.rules[0].field (line 5): must be an attribute path'],
  [custom('      method: multi_rule\n      match: { action: deleted }\n'), 'detection.rules[0].match (line 5): method multi_rule takes no match'],
  ['detection:\n  rules:\n    - id: role_grant\n      minKmh: 900\n', 'detection.rules[0] (id "role_grant").minKmh (line 4): minKmh applies only to method impossible_travel; this rule\'s method is threshold (set method: to use it)'],
  ['detection:\n  rules:\n    - id: impossible_travel\n      within: 30m\n', 'detection.rules[0] (id "impossible_travel").within (line 4): within applies only to method multi_rule; this rule\'s method is impossible_travel, which takes minKm, minKmh, learning, forgetAfter'],
])('%j is refused: %s', (yaml, expected) => {
  expect(problems(yaml).join('\n')).toContain(expected);
});

test('a custom new-value rule on another field, with defaults for what it leaves out (one firing pages at warning)', () => {
  const { args } = parseConfigText(custom('      method: new_value\n      field: network.client.geoip.as.number\n      forgetAfter: 14d\n'), 'x');
  const rule = args.detection.rules.find((r) => r.id === 'custom')!;
  expect(rule).toMatchObject({
    anyOf: [], windowMs: 600_000, tiers: [{ count: 1, severity: 'warning' }],
    method: { kind: 'new_value', field: 'network.client.geoip.as.number', learningMs: 7 * 86_400_000, forgetAfterMs: 14 * 86_400_000 },
  });
});

test('a default v3 rule takes its method\'s options as overrides', () => {
  const { args } = parseConfigText('detection:\n  rules:\n    - { id: impossible_travel, minKm: 800, minKmh: 900 }\n    - { id: multi_rule, minRules: 4, within: 30m }\n', 'x');
  expect(args.detection.rules.find((r) => r.id === 'impossible_travel')?.method).toEqual({ kind: 'impossible_travel', minKm: 800, minKmh: 900, learningMs: 7 * 86_400_000, forgetAfterMs: 28 * 86_400_000 });
  expect(args.detection.rules.find((r) => r.id === 'multi_rule')?.method).toEqual({ kind: 'multi_rule', withinMs: 1_800_000, minRules: 4 });
});
