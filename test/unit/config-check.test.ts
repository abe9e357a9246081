import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliInProcess } from '../support/cli';

/** #26: `config check` takes --config like every command, counts read as words, errors come in file order on the right line. */
describe('audit-spike config check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-config-check-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const valid = () => file('valid.yaml', [
    'detection:',
    '  rules:',
    '    - { id: role_grant, tiers: [{ count: 5, severity: error }, { count: 12, severity: critical }] }',
    '    - { id: user_invite, enabled: false }',
    '  suppress:',
    '    actors:',
    '      - { actor: terraform@service.example.com, rules: [monitor_delete], expires: 2099-01-31, reason: "TF cleanup" }',
    '      - "*@ci.example.com"',
    '',
  ].join('\n'));

  test('--config FILE works, the positional FILE still does, and both at once must agree', async () => {
    const path = valid();
    const viaFlag = await runCliInProcess(['config', 'check', '--config', path]);
    expect(viaFlag).toMatchObject({ code: 0, stderr: '' });
    expect(viaFlag.stdout).toContain(`${path}: OK.`);
    expect((await runCliInProcess(['config', 'check', path])).stdout).toBe(viaFlag.stdout);
    const both = await runCliInProcess(['config', 'check', '--config', path, join(dir, 'other.yaml')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give the file once');
  });

  test('counts are written out: "1 exemption", "1 allowlisted actor pattern", never "(s)"', async () => {
    const { stdout } = await runCliInProcess(['config', 'check', '--config', valid()]);
    expect(stdout).toContain('1 allowlisted actor pattern, 1 exemption, 0 maintenance windows');
    expect(stdout).not.toContain('(s)');
    const two = file('two.yaml', 'detection:\n  suppress:\n    actors:\n      - { actor: a@example.com, rules: [monitor_delete] }\n      - { actor: b@example.com }\n');
    expect((await runCliInProcess(['config', 'check', two])).stdout).toContain('0 allowlisted actor patterns, 2 exemptions');
  });

  test('--show prints the effective catalog: tiers after overrides, disabled rules, suppressions with their expiry', async () => {
    const { stdout, code } = await runCliInProcess(['config', 'check', '--config', valid(), '--show']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/role_grant\s+5 → error, 12 → critical within 10m\s+\(overridden: tiers, default 3 → error, 10 → critical\)/);
    expect(stdout).toMatch(/api_key_create\s+3 → error, 10 → critical within 10m\s+\(default\)/);
    expect(stdout).toContain('disabled: user_invite');
    expect(stdout).toContain('exempted: terraform@service.example.com from monitor_delete (until 2099-01-31T00:00:00.000Z): TF cleanup');
    expect(stdout).toContain('allowlisted: *@ci.example.com');
  });

  test('a misspelt key whose value is an indented block is reported on its own line, and errors come in file order', async () => {
    const path = file('bad.yaml', [
      'datadog:',          // 1
      '  site: datadoghq.com',
      'detection:',        // 3
      '  rulez:',          // 4: misspelt, value an indented block
      '    - id: role_grant',
      '      window: 10m',
      'schedule:',         // 7
      '  intervall: 5m',   // 8
      'pagerduty:',        // 9
      '  mode: nope',      // 10
      '',
    ].join('\n'));
    const { code, stderr } = await runCliInProcess(['config', 'check', '--config', path]);
    expect(code).toBe(2);
    const lines = stderr.split('\n').filter((line) => line.startsWith('  - '));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/detection\.rulez \(line 4\): unknown key "rulez"/);
    expect(lines[1]).toMatch(/schedule\.intervall \(line 8\)/);
    expect(lines[2]).toMatch(/pagerduty\.mode \(line 10\)/);
  });

  test('audit-spike --version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(await runCliInProcess(['--version'])).toEqual({ code: 0, stdout: `audit-spike ${version}\n`, stderr: '' });
  });
});
