import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type Stack } from '../support/stack';

const root = join(__dirname, '..', '..');

function fleetYaml(options: { withUs?: boolean; euRoleGrantAt?: number } = {}): string {
  return [
    'pagerduty:',
    '  routingKeyEnv: PAGERDUTY_ROUTING_KEY',
    'orgs:',
    ...(options.withUs === false ? [] : ['  - org: acme-us', '    datadog: { site: datadoghq.com }']),
    '  - org: acme-eu',
    '    datadog: { site: datadoghq.eu, apiKeyEnv: DD_EU_API_KEY, appKeyEnv: DD_EU_APP_KEY }',
    '    pagerduty: { routingKeyEnv: PAGERDUTY_EU_ROUTING_KEY }',
    ...(options.euRoleGrantAt ? ['    detection:', '      rules:', `        - { id: role_grant, tiers: [{ count: ${options.euRoleGrantAt}, severity: error }] }`] : []),
  ].join('\n');
}

/** `audit-spike schedule …` as operators run it (the built CLI in a child process), side by side with `temporal schedule …`. */
describe('audit-spike schedule: one Schedule per watched org, reconciled', () => {
  let stack: Stack;
  let file: string;
  let temporalCli: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin', 'audit-spike.js'), 'schedule', ...args], {
      env: { PATH: process.env.PATH ?? '', TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default' },
      encoding: 'utf8',
    });
  const temporal = (...args: string[]) => execFileSync(temporalCli, ['schedule', ...args, '--address', stack.server.address], { encoding: 'utf8' });

  beforeAll(async () => {
    stack = await startStack();
    file = join(stack.dir, 'fleet.yaml');
    temporalCli = execFileSync('bash', [join(root, 'scripts', 'setup-temporal.sh'), '--quiet'], { encoding: 'utf8' }).trim();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test('apply creates, leaves alone, updates in place and deletes stale Schedules, saying what changed', () => {
    writeFileSync(file, fleetYaml());
    let run = cli('apply', '--config', file);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('schedule audit-spike-acme-us [org acme-us]: created');
    expect(run.stdout).toContain('schedule audit-spike-acme-eu [org acme-eu]: created');

    const again = cli('apply', '--config', file).stdout;
    expect(again.match(/\]: unchanged/g)).toHaveLength(2);
    // One summary line, and each org at its own offset in the interval.
    expect(again).toMatch(/^applied 2 org\(s\) in \d+\.\ds: 2 unchanged$/m);
    expect(again).toMatch(/every 300s at \+\d+s on task queue audit-spike/);

    writeFileSync(file, fleetYaml({ euRoleGrantAt: 5 }));
    run = cli('apply', '--config', file);
    expect(run.stdout).toContain('audit-spike-acme-us [org acme-us]: unchanged');
    expect(run.stdout).toContain('audit-spike-acme-eu [org acme-eu]: updated');

    writeFileSync(file, fleetYaml({ withUs: false, euRoleGrantAt: 5 }));
    run = cli('apply', '--config', file);
    expect(run.stdout).toContain('audit-spike-acme-us [org acme-us]: deleted (no longer in the config)');
    expect(temporal('list')).not.toContain('audit-spike-acme-us');
    expect(temporal('list')).toContain('audit-spike-acme-eu');
  });

  test('each org keeps its own keys by name and PagerDuty target; no secret is in the Schedule', async () => {
    const description = await stack.client.schedule.getHandle('audit-spike-acme-eu').describe();
    const action = description.action as { args: Array<{ datadog: Record<string, unknown>; pagerduty: Record<string, unknown> }> };
    expect(action.args[0].datadog).toMatchObject({ site: 'datadoghq.eu', apiKeyEnv: 'DD_EU_API_KEY', appKeyEnv: 'DD_EU_APP_KEY' });
    expect(action.args[0].pagerduty).toMatchObject({ routingKeyEnv: 'PAGERDUTY_EU_ROUTING_KEY' });
  });

  test('pause, unpause, trigger and describe, as with `temporal schedule`', () => {
    expect(cli('pause', '--config', file, '--org', 'acme-eu', '--note', 'maintenance').stdout).toContain('paused');
    expect(temporal('describe', '--schedule-id', 'audit-spike-acme-eu')).toMatch(/Paused\s+true/i);
    expect(cli('describe', '--config', file, '--org', 'acme-eu').stdout).toContain('PAUSED (maintenance)');
    expect(cli('unpause', '--config', file, '--org', 'acme-eu').stdout).toContain('unpaused');
    expect(temporal('describe', '--schedule-id', 'audit-spike-acme-eu')).toMatch(/Paused\s+false/i);
    expect(cli('trigger', '--config', file, '--org', 'acme-eu').stdout).toContain('triggered');
  });

  test('several orgs and no --org: a usage error that names them; an unknown org likewise', () => {
    writeFileSync(file, fleetYaml());
    let run = cli('describe', '--config', file);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('choose one with --org NAME');
    run = cli('pause', '--config', file, '--org', 'acme-apac');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--org acme-apac: no such org; the config watches acme-us, acme-eu');
  });
});
