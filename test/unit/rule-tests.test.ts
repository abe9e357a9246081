import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load';
import { RULE_TEST_START } from '../../src/config/rule-tests-schema';
import { DEFAULT_RULES } from '../../src/config/default-rules';
import type { ResolvedConfig } from '../../src/config/resolve';
import { runRuleTests, type RuleTestResult } from '../../src/replay/rules-test';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'audit-spike.js');
const dir = mkdtempSync(join(tmpdir(), 'audit-spike-rule-tests-'));

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    return { status: 0, stdout: execFileSync('node', [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The tests written in the file, without those the default rules carry. */
const written = (config: ResolvedConfig) => config.ruleTests.filter((entry) => entry.where !== 'default rule');
const ofFile = (results: RuleTestResult[]) => results.filter((result) => result.where !== 'default rule');

const DELETE = '{ evt.name: Dashboard, asset.type: dashboard, action: deleted }';
const rule = (tests: string) => [
  'detection:',
  '  rules:',
  '    - id: dashboard_mass_delete',
  `      match: ${DELETE}`,
  '      window: 10m',
  '      tiers: [{ count: 3, severity: warning }, { count: 5, severity: error }]',
  '      tests:',
  tests,
].join('\n');

test('compact events expand to API-shaped events: actor, attributes by path, at, repeat, every', () => {
  const config = parseConfigText(rule([
    '        - name: t',
    '          events:',
    `            - { actor: Mallory@Example.com, name: Mallory, at: 90s, repeat: 3, every: 30s, attributes: ${DELETE} }`,
    `            - { actor: "api_key:k1", at: "2026-11-24T10:00:00Z", attributes: { action: deleted, tags: [a, b] } }`,
    `            - { actor: u-42, attributes: { action: deleted } }`,
    '          expect: { pages: true }',
  ].join('\n')), 'x');
  const events = written(config)[0].tests[0].events;
  expect(events).toHaveLength(5);
  expect(events[0]).toEqual({
    id: 'test-t-1-1', type: 'audit',
    attributes: {
      timestamp: new Date(RULE_TEST_START + 90_000).toISOString(), service: 'datadog', tags: ['source:audit'],
      attributes: { usr: { email: 'Mallory@Example.com', name: 'Mallory' }, evt: { name: 'Dashboard' }, asset: { type: 'dashboard' }, action: 'deleted' },
    },
  });
  expect(events[2].attributes?.timestamp).toBe(new Date(RULE_TEST_START + 150_000).toISOString());
  expect(events[3].attributes?.attributes).toEqual({ metadata: { api_key: { id: 'k1' } }, action: 'deleted', tags: ['a', 'b'] });
  expect(events[3].attributes?.timestamp).toBe('2026-11-24T10:00:00.000Z');
  expect(events[4].attributes?.attributes).toEqual({ usr: { id: 'u-42' }, action: 'deleted' });
});

test('each test passes or fails on pages, severity and count, judged on the incident that crossed the rule', () => {
  const config = parseConfigText(rule([
    `        - { name: three page at warning, events: [{ actor: a@example.com, repeat: 3, attributes: ${DELETE} }], expect: { pages: true, severity: warning, count: 3 } }`,
    `        - { name: two do not page, events: [{ actor: a@example.com, repeat: 2, attributes: ${DELETE} }], expect: { pages: false } }`,
    `        - { name: wrong severity, events: [{ actor: a@example.com, repeat: 6, attributes: ${DELETE} }], expect: { pages: true, severity: warning } }`,
    `        - { name: wrong count, events: [{ actor: a@example.com, repeat: 4, attributes: ${DELETE} }], expect: { pages: true, count: 3 } }`,
    `        - { name: expected a page, events: [{ actor: a@example.com, repeat: 3, every: 5m, attributes: ${DELETE} }], expect: { pages: true } }`,
    '        - { name: other rules do not count, events: [{ actor: a@example.com, repeat: 3, attributes: { evt.name: Monitor, asset.type: monitor, action: deleted } }], expect: { pages: false } }',
  ].join('\n')), 'x');
  const results = ofFile(runRuleTests(config));
  expect(results.map((r) => [r.name, r.outcome])).toEqual([
    ['three page at warning', 'pass'],
    ['two do not page', 'pass'],
    ['wrong severity', 'fail'],
    ['wrong count', 'fail'],
    ['expected a page', 'fail'],
    ['other rules do not count', 'pass'],
  ]);
  expect(results[2].detail).toBe('expected severity warning; got a page at error for a@example.com (dashboard_mass_delete=6) (6 of 6 events match the rule)');
  expect(results[3].detail).toContain('expected dashboard_mass_delete=3; got');
  expect(results[4].detail).toBe('expected a page; got no page (3 of 3 events match the rule)');
});

test('tests run without allowlists (they test the rule), and a disabled rule\'s tests are skipped', () => {
  const suppressed = parseConfigText(`${rule(`        - { name: t, events: [{ actor: a@example.com, repeat: 3, attributes: ${DELETE} }], expect: { pages: true } }`)}\n  suppress:\n    actors: ["*"]\n`, 'x');
  expect(ofFile(runRuleTests(suppressed)).map((r) => r.outcome)).toEqual(['pass']);
  const disabled = parseConfigText(rule(`        - { name: t, events: [{ actor: a@example.com, repeat: 3, attributes: ${DELETE} }], expect: { pages: true } }`).replace('    - id: dashboard_mass_delete', '    - id: dashboard_mass_delete\n      enabled: false'), 'x');
  expect(ofFile(runRuleTests(disabled))).toEqual([expect.objectContaining({ outcome: 'skip', detail: 'the rule is disabled' })]);
});

test('tests on an overridden default rule and on a combined rule use the whole catalog', () => {
  const config = parseConfigText([
    'detection:',
    '  rules:',
    '    - id: role_grant',
    '      tests:',
    '        - { name: ten grants are critical, events: [{ actor: a@example.com, repeat: 10, attributes: { evt.name: Access Management, asset.type: role, action: modified } }], expect: { pages: true, severity: critical, count: 10 } }',
    '    - id: any',
    '      combine: ["*"]',
    '      window: 10m',
    '      tiers: [{ count: 4, severity: error }]',
    '      tests:',
    '        - name: two kinds add up',
    '          events:',
    '            - { actor: a@example.com, repeat: 2, attributes: { evt.name: Access Management, asset.type: user, action: created } }',
    '            - { actor: a@example.com, at: 1m, repeat: 2, attributes: { evt.name: Authentication, asset.type: api_key, action: created } }',
    '          expect: { pages: true, severity: error, count: 4 }',
  ].join('\n'), 'x');
  expect(ofFile(runRuleTests(config)).map((r) => [r.ruleId, r.outcome])).toEqual([['role_grant', 'pass'], ['any', 'pass']]);
});

describe('audit-spike rules test (the built command)', () => {
  test('the documented example passes', () => {
    const result = cli(['rules', 'test', '--config', join(root, 'examples', 'audit-spike.yaml')]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/PASS {2}ten deletions in five minutes page/);
    expect(result.stdout).toMatch(/\d+ passed, 0 failed/);
  });

  test('a failing test prints FAIL with the reason and exits 1; --json is machine-readable', () => {
    const file = join(dir, 'failing.yaml');
    writeFileSync(file, rule(`        - { name: two page, events: [{ actor: a@example.com, repeat: 2, attributes: ${DELETE} }], expect: { pages: true } }`));
    const result = cli(['rules', 'test', '--config', file]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('dashboard_mass_delete (detection.rules[0])\n  FAIL  two page: expected a page; got no page');
    const json = cli(['rules', 'test', '--config', file, '--json']);
    expect(json.status).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.failed).toBe(1);
    expect(parsed.results.filter((r: RuleTestResult) => r.outcome === 'fail')).toEqual([expect.objectContaining({ ruleId: 'dashboard_mass_delete' })]);
  });

  test('bad arguments and bad tests exit 2 with the reason', () => {
    expect(cli(['rules'])).toMatchObject({ status: 2, stderr: expect.stringContaining('usage: audit-spike rules test') });
    expect(cli(['rules', 'run'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown rules command "run"') });
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, rule('        - { name: t, events: [{ actor: a@example.com }], expect: { pages: maybe } }'));
    const bad = cli(['rules', 'test', '--config', file]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('detection.rules[0].tests[0].events[0].attributes (line 8): is required');
    expect(bad.stderr).toContain('detection.rules[0].tests[0].expect.pages (line 8): must be true or false (got "maybe")');
    expect(cli(['rules', 'test', '--config', join(root, 'examples', 'audit-spike.yaml'), '--rule', 'nope'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--rule: no rule "nope"') });
  });

  test('a config watching several orgs runs each org\'s catalog; --org picks one; config check lists every org', () => {
    const file = join(dir, 'fleet.yaml');
    const test = '{ name: three grants page, events: [{ actor: a@example.com, repeat: 3, attributes: { evt.name: Access Management, asset.type: role, action: modified } }], expect: { pages: true } }';
    writeFileSync(file, [
      'orgs:',
      '  - org: us',
      `    detection: { rules: [{ id: role_grant, tests: [${test}] }] }`,
      '  - org: eu',
      `    detection: { rules: [{ id: role_grant, tiers: [{ count: 5, severity: error }], tests: [${test}] }] }`,
    ].join('\n'));
    const all = cli(['rules', 'test', '--config', file]);
    expect(all.status).toBe(1);
    expect(all.stdout).toContain('role_grant (detection.rules[0]) [org us]\n  PASS  three grants page');
    expect(all.stdout).toContain('role_grant (detection.rules[0]) [org eu]\n  FAIL  three grants page: expected a page; got no page');
    expect(cli(['rules', 'test', '--config', file, '--org', 'us'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/\d+ passed, 0 failed/) });
    expect(cli(['rules', 'test', '--config', file, '--org', 'ap'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--org: no org "ap"') });
    const check = cli(['config', 'check', file]);
    expect(check.status).toBe(0);
    expect(check.stdout.split('\n').filter(Boolean).map((line) => line.match(/org "(\w+)"/)?.[1])).toEqual(['us', 'eu']);
  });

  test('the built-in defaults carry a page and a quiet case for every default rule, and all pass', () => {
    const result = cli(['rules', 'test', '--json']);
    expect(result.status).toBe(0);
    const { failed, results } = JSON.parse(result.stdout) as { failed: number; results: RuleTestResult[] };
    expect(failed).toBe(0);
    for (const { id } of DEFAULT_RULES) {
      const own = results.filter((r) => r.ruleId === id && r.outcome === 'pass');
      expect({ id, pages: own.some((r) => r.detail.startsWith('a page')), quiet: own.some((r) => r.detail === 'no page') }).toEqual({ id, pages: true, quiet: true });
    }
  });

  test('a config without tests says how to add them and exits 0', () => {
    const file = join(dir, 'no-tests.yaml');
    writeFileSync(file, 'detection:\n  defaultRules: false\n  rules:\n    - { id: x, match: { action: deleted }, window: 10m, tiers: [{ count: 3, severity: warning }] }\n');
    expect(cli(['rules', 'test', '--config', file])).toMatchObject({ status: 0, stdout: expect.stringContaining('No rule tests in') });
  });
});
