import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { dataConverterFromEnv } from '../../src/codec/data-converter';
import { applySchedule } from '../../src/schedule';
import { ACTIONS, burst } from '../../sim/audit-events';
import { startStack, triggerAndWait, withStackAndWorker, type Stack } from '../support/stack';

const root = join(__dirname, '..', '..');
const MIN = 60_000;
const yaml = 'schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n';
const encryption = { AUDIT_SPIKE_ENCRYPTION_KEY: randomBytes(32).toString('base64'), AUDIT_SPIKE_ENCRYPTION_KEY_ID: 'k-incidents' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI in a child process, as an operator runs it (asynchronously: the worker in this process keeps working). */
function cli(stack: Stack, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'audit-spike.js'), 'incidents', ...args], {
      env: { PATH: process.env.PATH ?? '', TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default', TEMPORAL_CONFIG_FILE: join(stack.dir, 'none.toml'), ...encryption, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** Visibility is eventually consistent: ask again until the run is listed. */
async function until(ask: () => Promise<Run>, done: (run: Run) => boolean): Promise<Run> {
  const deadline = Date.now() + 20_000;
  let run = await ask();
  while (!done(run) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    run = await ask();
  }
  return run;
}

describe('audit-spike incidents: what was paged, read from Temporal (encrypted payloads)', () => {
  let stack: Stack;
  withStackAndWorker((started) => (stack = started), { dataConverter: dataConverterFromEnv(encryption)! });

  test('a paging run is listed with its actor, severity, counts, outcome and run, as a table, JSON and CSV; a quiet org lists nothing', async () => {
    const quiet = stack.config(yaml, 'inc-quiet');
    await applySchedule(stack.client, quiet);
    expect((await triggerAndWait(stack.client, quiet.schedule.scheduleId)).incidents).toEqual([]);

    stack.datadog.addEvents(burst({ id: 'u-m', email: 'mallory@example.com' }, ACTIONS.roleGrant, 11, Date.now() - 8 * MIN, 5 * MIN));
    const paging = stack.config(yaml, 'inc-paging');
    await applySchedule(stack.client, paging);
    const result = await triggerAndWait(stack.client, paging.schedule.scheduleId);
    expect(result.incidents.map((i) => [i.kind, i.actor, i.severity, i.counts])).toEqual([['trigger', 'mallory@example.com', 'critical', { role_grant: 11 }]]);
    const { workflowId, firstExecutionRunId: runId } = (await stack.client.schedule.getHandle(paging.schedule.scheduleId).describe()).info.recentActions[0].action.workflow;

    const table = await until(() => cli(stack, []), (run) => run.stdout.includes('mallory@example.com'));
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(/^1 incident record from 1 paged run from \S+ to \S+ in every org \(namespace default\):$/m);
    expect(table.stdout).toMatch(/ inc-paging {2}mallory@example\.com {2}critical {2}trigger {2}opened +role_grant=11$/m);
    expect(table.stdout).toContain('    11 events ');
    expect(table.stdout).toContain(`    run ${workflowId} ${runId}`);

    const json = await cli(stack, ['--json', '--since', '30m']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ namespace: 'default', runs: 1, query: expect.stringContaining('AuditSpikePaged = true') });
    expect(Date.parse(parsed.until) - Date.parse(parsed.since)).toBe(30 * MIN);
    expect(parsed.incidents).toEqual([expect.objectContaining({
      org: 'inc-paging', actor: 'mallory@example.com', severity: 'critical', kind: 'trigger', outcome: 'opened', rules: ['role_grant'],
      counts: { role_grant: 11 }, events: 11, dedupKey: result.incidents[0].dedupKey, workflowId, runId,
    })]);

    const csv = await cli(stack, ['--csv', '--org', 'inc-paging']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(',inc-paging,mallory@example.com,critical,trigger,opened,,role_grant,role_grant=11,11,');
    expect(lines[1]).toContain(`,${workflowId},${runId},`);

    // Another org's runs (quiet ones) are not listed, and an empty answer says what was searched.
    const other = await cli(stack, ['--org', 'inc-quiet']);
    expect(other.code).toBe(0);
    expect(other.stdout).toMatch(/^No paged runs from \S+ to \S+ in org inc-quiet \(namespace default\)\.\n\(searched: AuditSpikePaged = true AND StartTime >= "[^"]+" AND AuditSpikeOrg = "inc-quiet"\)\n$/);
    const otherJson = JSON.parse((await cli(stack, ['--org', 'inc-quiet', '--json'])).stdout);
    expect(otherJson).toMatchObject({ org: 'inc-quiet', runs: 0, incidents: [] });
    const otherCsv = await cli(stack, ['--org', 'inc-quiet', '--csv']);
    expect(otherCsv.stdout.trimEnd().split('\r\n')).toHaveLength(1);
    expect(otherCsv.stderr).toContain('no paged runs from');
  });

  test('a run that failed is listed after the pages, under its org (read from its start input); another org does not list it', async () => {
    // A run that fails: the Schedule's arguments broken by hand (what `apply` would refuse to write).
    const broken = stack.config(yaml, 'inc-broken');
    await applySchedule(stack.client, broken);
    await stack.client.schedule.getHandle(broken.schedule.scheduleId).update((previous) => ({
      ...previous,
      action: { ...(previous.action as object), args: [{ orgId: 'inc-broken' }] } as typeof previous.action,
    }));
    await expect(triggerAndWait(stack.client, broken.schedule.scheduleId)).rejects.toThrow();
    const failedLine = /^ {2}\S+Z {2}inc-broken {2}run audit-spike-inc-broken-\S+ \S+: .*arguments are invalid/m;

    const table = await until(() => cli(stack, []), (run) => failedLine.test(run.stdout));
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('mallory@example.com');
    expect(table.stdout).toContain('\n1 run failed in the window; what it would have paged was not paged by it (the next run reads the same window again):\n');
    expect(table.stdout).toMatch(failedLine);

    const json = JSON.parse((await cli(stack, ['--json', '--org', 'inc-broken'])).stdout);
    expect(json).toMatchObject({ runs: 0, incidents: [], failedRuns: [expect.objectContaining({ org: 'inc-broken', failure: expect.stringMatching(/arguments are invalid/) })] });
    const csv = await cli(stack, ['--csv', '--org', 'inc-broken']);
    expect(csv.stderr).toMatch(/audit-spike incidents: 1 run failed in the window/);
    expect(JSON.parse((await cli(stack, ['--json', '--org', 'inc-paging'])).stdout).failedRuns).toEqual([]);
  });

  test('without the encryption key the run is found but its result cannot be read: said in one line, exit 1', async () => {
    const blind = await cli(stack, [], { AUDIT_SPIKE_ENCRYPTION_KEY: '' });
    expect(blind.code).toBe(1);
    expect(blind.stdout).not.toContain('mallory@example.com');
    expect(blind.stderr).toMatch(/^audit-spike incidents: run audit-spike-inc-paging\S* \S+: cannot read its result: its result is encrypted and this process cannot decrypt it .*set AUDIT_SPIKE_ENCRYPTION_KEY/m);
    expect(blind.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('audit-spike incidents in a namespace without the search attributes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ searchAttributes: false });
  }, 120_000);
  afterAll(async () => stack?.stop(), 60_000);

  test('says which attributes are missing and the commands that register them, exit 1', async () => {
    const run = await cli(stack, []);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('audit-spike incidents: namespace "default" lacks the search attributes AuditSpikeOrg, AuditSpikePaged, AuditSpikeSeverity, AuditSpikeEventsRead');
    expect(run.stderr).toContain('temporal operator search-attribute create --namespace default --name AuditSpikePaged --type Bool');
    expect(run.stderr).toContain('temporal operator search-attribute create --namespace default --name AuditSpikeOrg --type Keyword');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
