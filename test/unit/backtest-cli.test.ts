import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { runCliInProcess } from '../support/cli';

/** #26: a backtest past Datadog's retention asks nothing and says so before its verdict; a 403 advice fits a backtest. */
describe('audit-spike backtest: retention and a rejected key', () => {
  let sim: DatadogSimulator;
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-backtest-cli-'));
  const saved = { ...process.env };
  let config = '';
  beforeAll(async () => {
    sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
    config = join(dir, 'sim.yaml');
    writeFileSync(config, `org: acme\ndatadog:\n  baseUrl: ${sim.url}\n`);
  });
  afterAll(async () => {
    process.env = saved;
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--from now-10d --to now-9d sends no request past the 7-day retention and warns before the verdict', async () => {
    process.env.DD_API_KEY = sim.apiKey;
    process.env.DD_APP_KEY = sim.appKey;
    const before = sim.requests.length;
    const run = await runCliInProcess(['backtest', '--from', 'now-10d', '--to', 'now-9d', '--config', config]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(sim.requests.length - before).toBe(0);
    const warning = run.stdout.indexOf('Warning: Datadog keeps audit events for 7d');
    const verdict = run.stdout.indexOf('No run would have paged');
    expect(warning).toBeGreaterThan(0);
    expect(verdict).toBeGreaterThan(warning);
    expect(run.stdout).toContain('the backtest did not ask Datadog for them (288 windows skipped)');
  });

  test('a range that starts past the retention reads only what Datadog still holds', async () => {
    process.env.DD_API_KEY = sim.apiKey;
    process.env.DD_APP_KEY = sim.appKey;
    const before = sim.requests.length;
    const sevenDays = Date.now() - 7 * 86_400_000;
    const run = await runCliInProcess(['backtest', '--from', new Date(sevenDays - 3_600_000).toISOString(), '--to', new Date(sevenDays + 3_600_000).toISOString(), '--json', '--config', config]);
    expect(run.code).toBe(0);
    // Only the runs whose windows reach into the last 7 days ask Datadog: about an hour of 5-minute runs, not two.
    const asked = sim.requests.length - before;
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThanOrEqual(14);
    expect(run.stderr.indexOf('warning: Datadog keeps audit events')).toBeGreaterThanOrEqual(0);
  });

  test('a 403 says to fix the keys in this shell and run the backtest again, not that a scheduled run will retry', async () => {
    process.env.DD_API_KEY = 'nope-key';
    process.env.DD_APP_KEY = 'nope-app';
    const run = await runCliInProcess(['backtest', '--from', 'now-10m', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Datadog answered 403');
    expect(run.stderr).not.toMatch(/scheduled run will retry|worker's environment/);
    expect(run.stderr).toContain('run the backtest again');
    expect(run.stderr).not.toContain('nope-key');
  });
});

/** The README's "Against the simulator": keys from GET /_sim/org, a config with the simulator's base URL. */
test('the README\'s backtest against the simulator reads the sample day with the keys GET /_sim/org lists', async () => {
  const readme = require('node:fs').readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8') as string;
  expect(readme).toContain('o.apiKeys[0].key} DD_APP_KEY=${o.applicationKeys[0].key}');
  const { sampleDay } = await import('../../sim/sample-day');
  const sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-readme-backtest-'));
  const saved = { ...process.env };
  try {
    sim.addEvents(sampleDay({ end: new Date(), noiseEvents: 300 }));
    const org = (await (await fetch(`${sim.url}/_sim/org`)).json()) as { apiKeys: Array<{ key: string }>; applicationKeys: Array<{ key: string }> };
    process.env.DD_API_KEY = org.apiKeys[0].key;
    process.env.DD_APP_KEY = org.applicationKeys[0].key;
    const config = join(dir, 'sim.yaml');
    writeFileSync(config, `datadog:\n  baseUrl: ${sim.url}\n`);
    const run = await runCliInProcess(['backtest', '--from', 'now-24h', '--config', config]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/PAGE\s+\w+\s+mallory@example\.com/);
  } finally {
    process.env = saved;
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
