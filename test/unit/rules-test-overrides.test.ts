import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load';
import { DERIVED_WHERE, runRuleTests, untestedRules } from '../../src/replay/rules-test';

// #26 item 6: a default rule whose tiers are overridden keeps tests that follow the new tiers, or is listed as untested.
const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'audit-spike.js');
const dir = mkdtempSync(join(tmpdir(), 'audit-spike-rules-overrides-'));

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    return { status: 0, stdout: execFileSync('node', [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

const TIERS = 'detection:\n  rules:\n    - id: role_grant\n      tiers: [{ count: 5, severity: warning }, { count: 8, severity: critical }]\n';
const MATCH = 'detection:\n  rules:\n    - id: role_grant\n      match: { evt.name: Access Management, asset.type: role, action: [modified, created] }\n';

describe('a default rule with overridden tiers keeps its tests, following the new tiers', () => {
  test('role_grant\'s own tests run again with expectations from the new tiers, and pass', () => {
    const results = runRuleTests(parseConfigText(TIERS, 'x')).filter((r) => r.ruleId === 'role_grant');
    expect(results.map((r) => [r.name, r.outcome, r.where])).toEqual([
      ['three grants in ten minutes page at error [re-derived: no page]', 'pass', DERIVED_WHERE],
      ['ten grants page at critical [re-derived: critical, role_grant=10]', 'pass', DERIVED_WHERE],
      ['two grants stay quiet [re-derived: no page]', 'pass', DERIVED_WHERE],
      ['a role created or read stays quiet [re-derived: no page]', 'pass', DERIVED_WHERE],
    ]);
    // Three grants no longer page under "5 → warning": the re-derived test expects (and sees) no page.
    expect(results[0].detail).toBe('no page');
    expect(results[1].detail).toMatch(/^a page at critical for .* \(role_grant=10\)$/);
    expect(untestedRules(parseConfigText(TIERS, 'x'))).toEqual([]);
  });

  test('a default whose match is overridden is listed as untested, with the reason', () => {
    const config = parseConfigText(MATCH, 'x');
    expect(runRuleTests(config).filter((r) => r.ruleId === 'role_grant')).toEqual([]);
    expect(untestedRules(config)).toEqual([{ org: config.args.orgId, ruleId: 'role_grant', reason: expect.stringContaining('changes what this default rule matches') }]);
  });

  test('the command lists role_grant (tested or UNTESTED), and --rule tells "no such rule" from "no tests"', () => {
    const tiers = join(dir, 'tiers.yaml');
    writeFileSync(tiers, TIERS);
    const all = cli(['rules', 'test', '--config', tiers]);
    expect(all.status).toBe(0);
    expect(all.stdout).toContain(`role_grant (${DERIVED_WHERE})\n  PASS  three grants in ten minutes page at error [re-derived: no page]`);
    expect(cli(['rules', 'test', '--config', tiers, '--rule', 'role_grant'])).toMatchObject({ status: 0, stdout: expect.stringContaining('4 passed, 0 failed') });

    const match = join(dir, 'match.yaml');
    writeFileSync(match, MATCH);
    const listed = cli(['rules', 'test', '--config', match]);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain('UNTESTED  role_grant: the config changes what this default rule matches');
    expect(listed.stdout).toMatch(/\d+ passed, 0 failed, 1 rule untested/);
    const json = JSON.parse(cli(['rules', 'test', '--config', match, '--json']).stdout);
    expect(json.untested).toEqual([expect.objectContaining({ ruleId: 'role_grant' })]);

    const noTests = cli(['rules', 'test', '--config', match, '--rule', 'role_grant']);
    expect(noTests).toMatchObject({ status: 1, stdout: expect.stringContaining('Rule "role_grant" exists in') });
    expect(noTests.stdout).toContain('but has no tests: the config changes what this default rule matches');
    const noRule = cli(['rules', 'test', '--config', match, '--rule', 'role_grnat']);
    expect(noRule).toMatchObject({ status: 2, stderr: expect.stringContaining('--rule: no rule "role_grnat" in') });
    expect(noRule.stderr).toContain('role_grant');
  });
});
