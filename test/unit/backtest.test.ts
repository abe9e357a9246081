import { execFile } from 'node:child_process';
import { phaseOffsetMs } from '../../src/config/phase-offset';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createDatadogAuditClient } from '../../src/activities/datadog-client';
import { runBacktest, scheduleTicks, type BacktestReport } from '../../src/replay/backtest';
import { parseBacktestFlags, parseTimeFlag } from '../../src/cli/backtest-flags';
import { renderProgress } from '../../src/replay/backtest-progress';
import type { AuditSpikeArgs } from '../../src/config/args-schema';
import { dryRunEvents } from '../../src/replay/dry-run';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { sampleDay } from '../../sim/sample-day';
import { ACTIONS, burst } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

const MIN = 60_000;
const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const bin = join(__dirname, '..', '..', 'bin', 'audit-spike.js');
const dir = mkdtempSync(join(tmpdir(), 'audit-spike-backtest-'));

describe('flags', () => {
  test.each([
    ['2026-11-24T10:00:00Z', Date.parse('2026-11-24T10:00:00Z')],
    ['2026-11-24T10:00:00.250+02:00', Date.parse('2026-11-24T08:00:00.250Z')],
    ['2026-11-24', Date.parse('2026-11-24T00:00:00Z')],
    ['now', NOW],
    ['now-24h', NOW - 24 * 60 * MIN],
    ['now-90m', NOW - 90 * MIN],
    [String(Date.parse('2026-11-24T10:00:00Z')), Date.parse('2026-11-24T10:00:00Z')],
  ])('%s is a time', (text, expected) => {
    expect(parseTimeFlag(text, NOW)).toBe(expected);
  });

  test.each([
    ['yesterday', 'must be an ISO 8601 time with a zone'],
    ['2026-11-24T10:00:00', 'must be an ISO 8601 time with a zone'],
    ['now-soon', '"soon" is not a duration such as 90m, 24h or 7d'],
    ['1764000000', 'looks like epoch seconds'],
  ])('%s is refused: %s', (text, message) => {
    expect(parseTimeFlag(text, NOW)).toEqual(expect.stringContaining(message));
  });

  test.each([
    [{}, '--from: is required'],
    [{ from: 'now-1h', to: 'now-2h' }, '--to: must be after --from'],
    [{ from: 'now-1h', to: '2026-12-01T00:00:00Z' }, '--to: is in the future'],
    [{ from: 'later' }, '--from: must be an ISO 8601 time'],
    [{ from: 'now-1h', config: '' }, '--config: must name a config file'],
  ])('%j → %s', (raw, message) => {
    const parsed = parseBacktestFlags(raw, NOW);
    expect('problems' in parsed && parsed.problems.join('\n')).toContain(message);
  });

  test('--to defaults to now', () => {
    expect(parseBacktestFlags({ from: 'now-1h' }, NOW)).toEqual({ from: NOW - 60 * MIN, to: NOW, json: false });
  });
});

test('runs fall on the Schedule\'s ticks: multiples of the interval, both ends included', () => {
  const t = Date.parse('2026-11-24T10:00:00Z');
  expect(scheduleTicks(t, t + 10 * MIN, 5 * MIN)).toEqual([t, t + 5 * MIN, t + 10 * MIN]);
  expect(scheduleTicks(t + 1, t + 10 * MIN - 1, 5 * MIN)).toEqual([t + 5 * MIN]);
  expect(scheduleTicks(t + 1, t + 2, 5 * MIN)).toEqual([]);
  // An org's phase offset moves every tick by the same amount.
  expect(scheduleTicks(t, t + 10 * MIN, 5 * MIN, 42_000)).toEqual([t + 42_000, t + 5 * MIN + 42_000]);
});

test('the progress bar shows the share done, the run, and fits the terminal', () => {
  expect(renderProgress(0, 4, '', 80)).toBe(`[${'░'.repeat(20)}]   0%  run 0/4`);
  expect(renderProgress(2, 4, '10:05Z', 80)).toBe(`[${'█'.repeat(10)}${'░'.repeat(10)}]  50%  run 2/4 · 10:05Z`);
  expect(renderProgress(4, 4, 'x'.repeat(200), 80).length).toBe(79);
});

describe('against the Datadog simulator', () => {
  let sim: DatadogSimulator;
  const end = Date.parse('2026-11-24T18:00:00Z');
  const env = () => ({ DD_API_KEY: sim.apiKey, DD_APP_KEY: sim.appKey });
  const argsFor = (yaml = ''): AuditSpikeArgs => {
    const args = argsFrom(yaml);
    return { ...args, datadog: { ...args.datadog, baseUrl: sim.url } };
  };
  const instant = async () => undefined;

  beforeAll(async () => {
    sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 }, retentionMs: Infinity });
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.clear());

  test('a day read from the API gives the incidents a dry run of the same events gives', async () => {
    const events = sampleDay({ end: new Date(end) });
    sim.addEvents(events);
    const args = argsFor();
    const report = await runBacktest({ args, fromMs: end - 24 * 60 * MIN, toMs: end + 30 * MIN, datadog: createDatadogAuditClient(args.datadog, env()), hooks: { sleep: instant } });
    const dryRun = dryRunEvents(events, 0, args);
    expect(report.incidents).toEqual(dryRun.incidents);
    // The sample's five planted bursts are among them (the catalog's one-event rules, such as admin_role_grant, may
    // also catch a near miss of the sample's everyday staff).
    expect(report.incidents.length).toBeGreaterThanOrEqual(5);
    expect(report.incidents.map((i) => i.actor)).toEqual(expect.arrayContaining(['mallory@example.com', 'terraform@service.example.com', 'api_key:a1b2c3d4e5', 'it-admin@example.com', 'ops.oncall@example.com']));
    expect(report.runs).toHaveLength(24 * 12 + 7);
    expect(report.read).toEqual({ from: new Date(end - 24 * 60 * MIN - 16 * MIN).toISOString(), to: new Date(end + 29 * MIN).toISOString() });
    const mallory = report.runs.flatMap((run) => run.actions.filter((a) => a.actor === 'mallory@example.com').map((a) => a.kind));
    expect(mallory).toEqual(['trigger', 'update']);
  });

  test('each run reads as the live runs do: the first its look-back, the next from the cursor with the lateness overlap', async () => {
    const args = argsFor();
    const t = Date.parse('2026-11-24T10:00:00Z');
    const report = await runBacktest({ args, fromMs: t, toMs: t + 10 * MIN, datadog: createDatadogAuditClient(args.datadog, env()), hooks: { sleep: instant } });
    expect(report.runs.map((run) => [run.scheduledAt, run.window])).toEqual([
      ['2026-11-24T10:00:00.000Z', { from: '2026-11-24T09:44:00.000Z', to: '2026-11-24T09:59:00.000Z' }],
      ['2026-11-24T10:05:00.000Z', { from: '2026-11-24T09:59:00.000Z', to: '2026-11-24T10:04:00.000Z' }],
      ['2026-11-24T10:10:00.000Z', { from: '2026-11-24T10:04:00.000Z', to: '2026-11-24T10:09:00.000Z' }],
    ]);
    const searches = sim.requests.map((r) => [r.from, r.to]);
    expect(searches).toEqual([
      ['2026-11-24T09:44:00.000Z', '2026-11-24T09:59:00.000Z'],
      ['2026-11-24T09:54:00.000Z', '2026-11-24T10:04:00.000Z'],
      ['2026-11-24T09:59:00.000Z', '2026-11-24T10:09:00.000Z'],
    ]);
  });

  /** Twelve role grants read three per page; `fault` strikes once, after the second page. */
  async function backtestWithFaultAfterPage2(fault: () => void) {
    const t = Date.parse('2026-11-24T10:00:00Z');
    sim.addEvents(burst({ email: 'a@example.com' }, ACTIONS.roleGrant, 12, t - 10 * MIN, 5 * MIN));
    const args = argsFor('datadog:\n  pageLimit: 3\n');
    const retries: string[] = [];
    let struck = false;
    const report = await runBacktest({
      args, fromMs: t, toMs: t, datadog: createDatadogAuditClient(args.datadog, env()),
      hooks: {
        sleep: instant,
        checkpointEveryMs: 0,
        pageRead: (pages) => {
          if (pages === 2 && !struck) {
            struck = true;
            fault();
          }
        },
        retrying: (reason) => retries.push(reason),
      },
    });
    expect(report.incidents.map((i) => [i.actor, i.severity, i.counts.role_grant])).toEqual([['a@example.com', 'critical', 12]]);
    return { report, retries };
  }

  test('the next page is requested before the current one is folded, so Datadog answers while the scan works', async () => {
    const t = Date.parse('2026-11-24T10:00:00Z');
    sim.addEvents(burst({ email: 'a@example.com' }, ACTIONS.roleGrant, 12, t - 10 * MIN, 5 * MIN));
    const args = argsFor('datadog:\n  pageLimit: 3\n');
    const datadog = createDatadogAuditClient(args.datadog, env());
    const sentWhenFolded: Array<[number, number]> = [];
    await runBacktest({ args, fromMs: t, toMs: t, datadog, hooks: { sleep: instant, pageRead: (pages) => sentWhenFolded.push([pages, datadog.http.requests]) } });
    const pages = sentWhenFolded.length;
    expect(pages).toBeGreaterThanOrEqual(4);
    // Every page but the last had its successor's request already sent when its events were folded.
    expect(sentWhenFolded).toEqual(sentWhenFolded.map(([page]) => [page, page < pages ? page + 1 : page]));
  });

  test('Datadog failures are retried as the activity is, resuming from the last page read', async () => {
    const { retries } = await backtestWithFaultAfterPage2(() => sim.failNext(503, 4));
    expect(retries).toEqual([expect.stringContaining('Datadog audit events search failed 4 times')]);
    const afterFailure = sim.requests.filter((r) => r.status === 200);
    expect(afterFailure.filter((r) => !r.cursor)).toHaveLength(1);
  });

  test('an expired page cursor makes the retry read the window again, from a fresh copy of the state, counting nothing twice', async () => {
    const { report, retries } = await backtestWithFaultAfterPage2(() => sim.expireCursors());
    expect(retries).toEqual([expect.stringContaining('no longer accepts')]);
    expect(report.counters).toMatchObject({ read: 12, matched: 12, duplicates: 0 });
    expect(sim.requests.filter((r) => r.status === 400)).toHaveLength(1);
    expect(sim.requests.filter((r) => r.status === 200 && !r.cursor)).toHaveLength(2);
  });

  test('rejected keys fail at once, with what to fix and without the key', async () => {
    const args = argsFor();
    const datadog = createDatadogAuditClient(args.datadog, { DD_API_KEY: 'wrong-key', DD_APP_KEY: 'wrong-app-key' });
    const failure = await runBacktest({ args, fromMs: NOW - 5 * MIN, toMs: NOW, datadog, hooks: { sleep: instant } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as Error).message).toContain('Datadog answered 403');
    expect((failure as Error).message).not.toContain('wrong-key');
    expect(sim.requests).toHaveLength(1);
  });

  describe('audit-spike backtest (the built command)', () => {
    function run(args: string[], extraEnv: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
      const childEnv: Record<string, string | undefined> = { ...process.env, DD_API_KEY: undefined, DD_APP_KEY: undefined, ...extraEnv };
      for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
      return new Promise((resolve) => {
        execFile('node', [bin, 'backtest', ...args], { env: childEnv as NodeJS.ProcessEnv }, (error, stdout, stderr) => {
          resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
        });
      });
    }
    const configFile = () => {
      const file = join(dir, 'sim.yaml');
      // Its events are of 2026-11-24: tell the backtest this org keeps them (it asks Datadog nothing past the retention).
      writeFileSync(file, `org: acme\ndatadog:\n  baseUrl: ${sim.url}\n  retention: 90d\n`);
      return file;
    };

    test('prints what would have been paged, run by run; --json for machines; never the keys', async () => {
      sim.addEvents(sampleDay({ end: new Date(end), noiseEvents: 500 }));
      const range = ['--from', new Date(end - 60 * MIN).toISOString(), '--to', new Date(end + 10 * MIN).toISOString(), '--config', configFile()];
      const human = await run(range, env());
      expect(human).toMatchObject({ code: 0, stderr: '' });
      // The command plays the org's Schedule, whose runs fall at the org's phase in the interval: 5 s for "acme".
      expect(phaseOffsetMs('acme', 5 * MIN)).toBe(5_000);
      expect(human.stdout).toContain('Backtest of org "acme": 14 scheduled runs every 5m from 2026-11-24T17:00:05.000Z');
      expect(human.stdout).toMatch(/2026-11-24T17:55:05\.000Z {2}PAGE {4}error {4}mallory@example\.com {2}role_grant=6/);
      expect(human.stdout).toMatch(/2026-11-24T18:00:05\.000Z {2}UPDATE {2}critical mallory@example\.com {2}role_grant=11, api_key_create=3/);
      expect(human.stdout).toContain('Nothing was paged.');
      const json = await run([...range, '--json'], env());
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as BacktestReport;
      expect(report.incidents.map((i) => [i.actor, i.severity])).toEqual([['mallory@example.com', 'critical']]);
      expect(report.runs).toHaveLength(14);
      expect(`${human.stdout}${json.stdout}`).not.toContain(sim.apiKey);
      expect(`${human.stdout}${json.stdout}`).not.toContain(sim.appKey);
    });

    test('bad flags, missing keys and a missing config exit 2 saying which and what is allowed', async () => {
      expect(await run(['--from', 'yesterday'], env())).toMatchObject({ code: 2, stderr: expect.stringContaining('--from: must be an ISO 8601 time with a zone') });
      expect(await run(['--to', 'now'], env())).toMatchObject({ code: 2, stderr: expect.stringContaining('--from: is required') });
      expect(await run(['--from', 'now-1h', '--bogus'], env())).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
      expect(await run(['--from', 'now-1m', '--to', 'now-1m'], env())).toMatchObject({ code: 2, stderr: expect.stringContaining('--to: must be after --from') });
      expect(await run(['--from', '2026-11-24T10:01:00Z', '--to', '2026-11-24T10:02:00Z'], env())).toMatchObject({ code: 2, stderr: expect.stringContaining('no scheduled run falls between') });
      expect(await run(['--from', 'now-1h', '--config', join(dir, 'missing.yaml')], env())).toMatchObject({ code: 2, stderr: expect.stringContaining('missing.yaml: no such file') });
      const fleet = join(dir, 'fleet.yaml');
      writeFileSync(fleet, 'orgs:\n  - org: us\n  - org: eu\n');
      expect(await run(['--from', 'now-1h', '--config', fleet], env())).toMatchObject({ code: 2, stderr: expect.stringContaining('--org: the config watches 2 orgs (us, eu); choose one with --org NAME') });
      const noKeys = await run(['--from', 'now-1h', '--config', configFile()], {});
      expect(noKeys).toMatchObject({ code: 2, stderr: expect.stringContaining('DD_API_KEY is not set') });
      expect(noKeys.stderr).toContain('DD_APP_KEY is not set');
    }, 180_000); // ten starts of the built command: seconds each on a busy 2-core machine

    test('rejected keys exit 1 with what to fix', async () => {
      const result = await run(['--from', 'now-10m', '--config', configFile()], { DD_API_KEY: 'nope-key', DD_APP_KEY: 'nope-app' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Datadog answered 403');
      expect(result.stderr).toContain('The backtest reads the keys from DD_API_KEY and DD_APP_KEY');
      expect(result.stderr).not.toContain('nope-key');
    });
  });
});
