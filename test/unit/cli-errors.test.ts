import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliInProcess, type CliRun } from '../support/cli';
import { freePort } from '../support/ports';

/** Runs the CLI in this process (test/support/cli.ts), and how long it took. */
async function cli(args: string[]): Promise<CliRun & { ms: number }> {
  const started = Date.now();
  const run = await runCliInProcess(args);
  return { ...run, ms: Date.now() - started };
}

/** #26: a Temporal that cannot be reached, or a file that is not there, is one line that says what to do; never a stack. */
describe('clear errors, fast', () => {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-cli-errors-'));
  let address = '';
  beforeAll(async () => {
    address = `127.0.0.1:${await freePort()}`;
    // Load (and transpile) the commands first: the 5 s are about waiting for Temporal, not about ts-jest.
    await Promise.all([import('../../src/cli/schedule'), import('../../src/cli/respond'), import('../../src/cli/webhooks'), import('../../src/cli/incidents'), import('../../src/paged-runs'), import('../../src/schedule'),
      import('../../src/response/plan'), import('../../src/response/messages'), import('../../src/webhooks/receiver'), import('../../src/webhooks/incident-key')]);
    writeFileSync(join(dir, 'response.yaml'), 'response: { enabled: true }\n');
  }, 60_000);
  beforeEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('TEMPORAL_')) delete process.env[key];
    process.env.TEMPORAL_ADDRESS = address;
    process.env.TEMPORAL_CONFIG_FILE = join(dir, 'no-profiles.toml');
    process.env.PAGERDUTY_WEBHOOK_SECRET = 'whsec-test';
  });
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  const commands: Array<[string, () => string[]]> = [
    ['schedule describe', () => ['schedule', 'describe']],
    ['respond', () => ['respond', 'audit-spike-0123456789abcdef']],
    ['webhooks', () => ['webhooks', '--port', '0', '--config', join(dir, 'response.yaml')]],
    ['incidents', () => ['incidents', '--since', '7d']],
  ];
  test.each(commands)('%s: an unreachable Temporal is one line within 5 s naming the address, where it came from and how to start it', async (_name, args) => {
    const run = await cli(args());
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(5_000);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`cannot reach Temporal at ${address} (from TEMPORAL_ADDRESS)`);
    expect(run.stderr).toContain('npm start');
    expect(run.stderr).not.toMatch(/\n\s+at |Failed to connect before the deadline/);
  }, 15_000);

  test('worker: an unreachable Temporal is the same one line, found before the worker loads', async () => {
    const run = await cli(['worker']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n').filter((line) => line.startsWith('audit-spike worker:'))).toEqual([
      expect.stringContaining(`cannot reach Temporal at ${address} (from TEMPORAL_ADDRESS)`),
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at |TransportError|tonic/);
  }, 60_000);

  test('the address\'s source is an envconfig profile or the default when TEMPORAL_ADDRESS is not set', async () => {
    delete process.env.TEMPORAL_ADDRESS;
    const profiles = join(dir, 'temporal.toml');
    writeFileSync(profiles, `[profile.default]\naddress = "${address}"\n`);
    process.env.TEMPORAL_CONFIG_FILE = profiles;
    let run = await cli(['schedule', 'describe']);
    expect(run.stderr).toContain(`cannot reach Temporal at ${address} (from envconfig profile "default" in ${profiles})`);
    process.env.TEMPORAL_CONFIG_FILE = join(dir, 'no-profiles.toml');
    const { temporalUnreachableMessage } = await import('../../src/temporal-connection');
    run = { ...run, stderr: temporalUnreachableMessage(process.env) };
    expect(run.stderr).toContain('cannot reach Temporal at localhost:7233 (from the default (no TEMPORAL_ADDRESS, no envconfig profile))');
  }, 15_000);

  test.each([
    ['config check', ['config', 'check', 'nowhere.yaml']],
    ['config check --config', ['config', 'check', '--config', 'nowhere.yaml']],
    ['backtest --config', ['backtest', '--from', 'now-1h', '--config', 'nowhere.yaml']],
    ['respond --config', ['respond', 'Q1ABCDEF', '--config', 'nowhere.yaml']],
    ['dry-run --events', ['dry-run', '--events', 'nowhere.jsonl']],
    ['dry-run --config', ['dry-run', '--events', __filename, '--config', 'nowhere.yaml']],
    ['rules test --config', ['rules', 'test', '--config', 'nowhere.yaml']],
    ['schedule apply --config', ['schedule', 'apply', '--config', 'nowhere.yaml']],
    ['webhooks --config', ['webhooks', '--port', '0', '--config', 'nowhere.yaml']],
  ])('%s: a missing file is one line naming it, where it was looked for and what to do, never a raw ENOENT', async (_name, args) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    const missing = args[args.length - 1];
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^audit-spike \\w[\\w-]*: (--events|the config file) ${missing}: no such file \\(looked for ${join(process.cwd(), missing)}\\); check the path$`))]);
    expect(run.stderr).not.toMatch(/ENOENT|Invalid configuration|\n\s+at /);
  });

  test('an events file that is a directory says so, in one line', async () => {
    const run = await cli(['dry-run', '--events', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`audit-spike dry-run: --events ${dir}: is a directory, not a file; give the path of the file itself`);
  });
});
