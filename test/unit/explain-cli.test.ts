import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTIONS, burst } from '../../sim/audit-events';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { runCliInProcess } from '../support/cli';

const MIN = 60_000;
const mallory = { id: 'u-mallory', email: 'mallory@example.com', name: 'Mallory' };
/** A paged actor, one under the threshold, and one whose burst the config suppresses. */
function events(start: number) {
  return [
    ...burst(mallory, ACTIONS.roleGrant, 11, start, 7 * MIN),
    ...burst(mallory, ACTIONS.apiKeyCreate, 3, start + MIN, 5 * MIN),
    ...burst({ email: 'bob@example.com' }, ACTIONS.roleGrant, 2, start + 30 * MIN, 3 * MIN),
    ...burst({ email: 'terraform@ci.example.com' }, ACTIONS.monitorDelete, 6, start + 60 * MIN, 5 * MIN),
  ];
}
const SUPPRESS = 'detection:\n  suppress:\n    actors: ["*@ci.example.com"]\n';

describe('audit-spike dry-run --explain ACTOR (#26)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-explain-'));
  const file = join(dir, 'events.jsonl');
  const config = join(dir, 'suppress.yaml');
  beforeAll(() => {
    writeFileSync(file, `${events(Date.parse('2026-11-24T12:01:00Z')).map((e) => JSON.stringify(e)).join('\n')}\n`);
    writeFileSync(config, SUPPRESS);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a paged actor: the report, then why, rule by rule', async () => {
    const run = await runCliInProcess(['dry-run', '--events', file, '--config', config, '--explain', 'mallory@example.com']);
    expect(run.code).toBe(0);
    const [report, explanation] = run.stdout.split('\nEXPLAIN ');
    expect(report).toContain('PAGE CRITICAL mallory@example.com');
    expect(explanation).toContain('mallory@example.com: paged: critical (role_grant, api_key_create).');
    expect(explanation).toMatch(/role_grant \(threshold\): 11 events; best 10m window 11 \(.*\): 3 → error reached, 10 → critical reached/);
    expect(explanation).toMatch(/2 runs read this actor's events/);
  });

  test('an actor under the threshold: the closest rule and how far each tier is', async () => {
    const run = await runCliInProcess(['dry-run', '--events', file, '--config', config, '--explain', 'bob@example.com']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('EXPLAIN bob@example.com: not paged: no rule reached its threshold; closest: role_grant with 2 of 3 in 10m.');
    expect(run.stdout).toContain('3 → error not reached (1 short)');
  });

  test('a suppressed actor, as JSON: the explanation is the "explain" key', async () => {
    const run = await runCliInProcess(['dry-run', '--events', file, '--config', config, '--explain', 'terraform@ci.example.com', '--json']);
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(output.incidents.map((i: { actor: string }) => i.actor)).toEqual(['mallory@example.com']);
    expect(output.explain).toMatchObject({
      actor: 'terraform@ci.example.com', verdict: 'suppressed',
      suppressions: [{ reason: 'actor allowlisted (*@ci.example.com)', severity: 'error', events: 6 }],
    });
    expect(output.explain.rules[0]).toMatchObject({ rule: 'monitor_delete', best: { count: 6 }, reached: 'error' });
  });

  test('an empty actor is a usage error; --help documents the flag', async () => {
    const run = await runCliInProcess(['dry-run', '--events', file, '--explain', ' ']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--explain: name an actor');
    for (const command of ['dry-run', 'backtest']) expect((await runCliInProcess([command, '--help'])).stdout).toMatch(/--explain ACTOR +say why ACTOR/);
  });
});

describe('audit-spike backtest --explain ACTOR against the Datadog simulator (#26)', () => {
  let sim: DatadogSimulator;
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-explain-backtest-'));
  const saved = { ...process.env };
  let config = '';
  beforeAll(async () => {
    sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
    sim.addEvents(events(Date.now() - 100 * MIN));
    config = join(dir, 'sim.yaml');
    writeFileSync(config, `datadog:\n  baseUrl: ${sim.url}\n${SUPPRESS}`);
    process.env.DD_API_KEY = sim.apiKey;
    process.env.DD_APP_KEY = sim.appKey;
  });
  afterAll(async () => {
    process.env = saved;
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['mallory@example.com', 'paged', 'paged: critical (role_grant, api_key_create)'],
    ['bob@example.com', 'not paged', 'closest: role_grant with 2 of 3 in 10m'],
    ['terraform@ci.example.com', 'suppressed', '1 burst suppressed: actor allowlisted (*@ci.example.com)'],
  ])('%s: %s, with the runs that read its events', async (actor, verdict, because) => {
    const run = await runCliInProcess(['backtest', '--from', 'now-2h', '--config', config, '--explain', actor, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.explain.verdict).toBe(verdict);
    expect(report.explain.because).toContain(because);
    // The runs named are the backtest's own runs.
    const scheduled = new Set(report.runs.map((r: { scheduledAt: string }) => r.scheduledAt));
    expect(report.explain.runs.length).toBeGreaterThan(0);
    for (const seen of report.explain.runs) expect(scheduled.has(seen.scheduledAt)).toBe(true);
    expect(report.explain.runs.reduce((n: number, r: { events: number }) => n + r.events, 0)).toBe(report.explain.events.total);
  }, 60_000);
});
