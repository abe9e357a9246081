import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(__dirname, '..', '..', 'bin', 'audit-spike.js');
const SUBCOMMANDS = ['dry-run', 'backtest', 'rules', 'config', 'worker', 'schedule', 'codec-server', 'dev', 'respond', 'webhooks', 'incidents'];

function cli(args: string[]) {
  // A short timeout: a help request that starts something (the dev stack, a worker) would not return by itself.
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } });
}

describe('--help on every subcommand', () => {
  test('audit-spike --help and audit-spike help list every subcommand and exit 0', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const run = cli(args);
      expect(run.status).toBe(0);
      for (const name of SUBCOMMANDS) expect(run.stdout).toContain(`audit-spike ${name}`);
    }
  });

  test.each(SUBCOMMANDS)('%s --help and help %s print its usage, flags and an example on stdout, exit 0, start nothing', (name) => {
    const viaFlag = cli([name, '--help']);
    const viaHelp = cli(['help', name]);
    for (const run of [viaFlag, viaHelp]) {
      expect(run.error).toBeUndefined();
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: audit-spike ${name}`));
      expect(run.stdout).toContain('Example:');
      expect(run.stderr).toBe('');
    }
    expect(viaFlag.stdout).toBe(viaHelp.stdout);
  });

  test('dev --help prints help and starts no stack', () => {
    const run = cli(['dev', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--config FILE');
    expect(run.stderr).not.toContain('[audit-spike dev]');
  });

  test('help after a nested subcommand still prints that command\'s help', () => {
    expect(cli(['rules', 'test', '--help'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^Usage: audit-spike rules test/) });
    expect(cli(['schedule', 'apply', '-h'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^Usage: audit-spike schedule/) });
  });

  test('an unknown flag exits 2 and points to the subcommand\'s --help', () => {
    for (const name of ['dry-run', 'backtest', 'worker', 'codec-server', 'dev', 'respond', 'webhooks', 'incidents']) {
      const run = cli([name, '--bogus']);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain("Unknown option '--bogus'");
      expect(run.stderr).toContain(`audit-spike ${name} --help`);
    }
  });

  test('an unknown command or help topic exits 2 and lists the commands', () => {
    for (const args of [['frobnicate'], ['help', 'frobnicate']]) {
      const run = cli(args);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('unknown command "frobnicate"');
      expect(run.stderr).toContain('audit-spike --help');
    }
  });
});
