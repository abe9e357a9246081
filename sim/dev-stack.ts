import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AuditSpikeArgs } from '../src/config/args-schema';
import { loadConfig, parseConfigText } from '../src/config/load';
import type { ResolvedConfig } from '../src/config/resolve';
import { applySchedule } from '../src/schedule';
import { temporalSettings } from '../src/temporal-connection';
import { startWebhookReceiver } from '../src/webhooks/receiver';
import { lookupIncident, incidentKeySources } from '../src/webhooks/incident-key';
import { createAuditSpikeWorker } from '../src/worker';
import { DatadogSimulator } from './datadog-sim';
import { PagerDutySimulator } from './pagerduty-sim';
import { sampleDay } from './sample-day';
import { TemporalDevServer, projectRoot } from './temporal-server';

type Env = Record<string, string | undefined>;

function log(line: string): void {
  process.stderr.write(`[audit-spike dev] ${line}\n`);
}

/** Datadog: the real API when DD_API_KEY and DD_APP_KEY are set, else the simulator seeded with a sample day. */
async function datadogSide(config: ResolvedConfig, env: Env, dataDir: string, stoppers: Array<() => Promise<void>>) {
  const apiKeyEnv = config.args.datadog.apiKeyEnv;
  const appKeyEnv = config.args.datadog.appKeyEnv;
  if (env[apiKeyEnv] && env[appKeyEnv]) {
    const site = env.DD_SITE ?? config.args.datadog.site ?? 'datadoghq.com';
    log(`Datadog: the real API at ${site} (keys from ${apiKeyEnv} and ${appKeyEnv})`);
    return { datadog: { ...config.args.datadog, site }, env: {} };
  }
  const sim = await DatadogSimulator.start({ port: Number(env.SIM_DATADOG_PORT ?? 8126) });
  stoppers.push(() => sim.stop());
  const events = sampleDay({ end: new Date() });
  sim.addEvents(events);
  const samplePath = join(dataDir, 'sample-day.jsonl');
  writeFileSync(samplePath, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
  log(`Datadog: simulator at ${sim.url} with ${events.length} audit events of a sample day (also in ${samplePath})`);
  const { baseUrl: _drop, site: _site, ...rest } = config.args.datadog;
  return { datadog: { ...rest, baseUrl: sim.url }, env: { [apiKeyEnv]: sim.apiKey, [appKeyEnv]: sim.appKey }, sim };
}

/** PagerDuty: the real service when its secret is set, else the simulator (Events API over HTTPS with a local CA). */
async function pagerdutySide(config: ResolvedConfig, env: Env, dataDir: string, stoppers: Array<() => Promise<void>>) {
  const target = config.args.pagerduty;
  const secretEnv = target.mode === 'events' ? target.routingKeyEnv : target.tokenEnv;
  if (env[secretEnv]) {
    log(`PagerDuty: the real ${target.mode === 'events' ? 'Events API v2' : 'REST API'} (secret from ${secretEnv})`);
    return { pagerduty: target, env: {} };
  }
  const sim = await PagerDutySimulator.start({
    httpsPort: Number(env.SIM_PAGERDUTY_HTTPS_PORT ?? 8443),
    httpPort: Number(env.SIM_PAGERDUTY_HTTP_PORT ?? 8127),
    tlsDir: join(dataDir, 'tls'),
  });
  stoppers.push(() => sim.stop());
  log(`PagerDuty: simulator, Events API at https://${sim.eventsServer} (CA ${sim.caFile}), REST at ${sim.httpUrl}; incidents at ${sim.httpUrl}/_sim/incidents`);
  const pagerduty: AuditSpikeArgs['pagerduty'] = target.mode === 'events'
    ? { ...target, eventsServer: sim.eventsServer, caFile: sim.caFile }
    : { ...target, apiUrl: sim.httpUrl };
  return { pagerduty, env: { [secretEnv]: target.mode === 'events' ? sim.routingKeys[0] : sim.apiToken }, sim };
}

/**
 * `npm start`: Temporal dev server (SQLite, web UI), Datadog and PagerDuty simulators seeded with a sample day, the
 * worker and the Schedule, all in one process; Ctrl-C stops everything. Real services and servers take over when
 * their settings are in the environment.
 */
export async function runDevStack(argv: string[], env: Env = process.env): Promise<void> {
  const configPath = argv.find((arg, i) => argv[i - 1] === '--config') ?? env.AUDIT_SPIKE_CONFIG;
  const config = loadConfig(configPath);
  const dataDir = join(projectRoot(), '.data');
  mkdirSync(dataDir, { recursive: true });
  const stoppers: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch((error) => log(`while stopping: ${String(error)}`));
  };

  try {
    let server: TemporalDevServer | undefined;
    if (!env.TEMPORAL_ADDRESS && !env.TEMPORAL_PROFILE) {
      server = await TemporalDevServer.start({ dbFile: join(dataDir, 'temporal.sqlite'), port: 7233, uiPort: Number(env.TEMPORAL_UI_PORT ?? 8233) });
      stoppers.push(() => server!.stop());
      log(`Temporal: dev server at ${server.address} (history in .data/temporal.sqlite)`);
    }
    const settings = temporalSettings(server ? { ...env, TEMPORAL_ADDRESS: server.address } : env);
    const dd = await datadogSide(config, env, dataDir, stoppers);
    const pd = await pagerdutySide(config, env, dataDir, stoppers);
    // Contain on approval (#17): on by default against the simulators, so a newcomer can approve a plan; with real
    // services only when the config turns it on.
    const simulated = Boolean(dd.sim && pd.sim);
    const response = config.args.response ?? (simulated ? parseConfigText('response: { enabled: true }', 'dev defaults').args.response : undefined);
    const devResponse = response && pd.sim && config.args.pagerduty.mode === 'events' ? { ...response, pagerdutyApiUrl: pd.sim.httpUrl } : response;
    const resolved: ResolvedConfig = { ...config, args: { ...config.args, datadog: dd.datadog, pagerduty: pd.pagerduty, ...(devResponse ? { response: devResponse } : {}) } };
    const workerEnv: Env = { ...env, ...dd.env, ...pd.env, ...(pd.sim ? { [devResponse?.pagerdutyTokenEnv ?? 'PAGERDUTY_API_TOKEN']: pd.sim.apiToken } : {}) };

    const nativeConnection = await NativeConnection.connect(settings.connectionOptions);
    stoppers.push(() => nativeConnection.close());
    const connection = await Connection.connect(settings.connectionOptions as Parameters<typeof Connection.connect>[0]);
    stoppers.push(() => connection.close());
    const client = new Client({ connection, namespace: settings.namespace });
    const worker = await createAuditSpikeWorker({
      connection: nativeConnection,
      namespace: settings.namespace,
      taskQueue: resolved.schedule.taskQueue,
      env: workerEnv,
      temporalClient: client,
    });
    if (devResponse?.enabled) {
      const secretEnv = devResponse.webhookSecretEnv;
      let secret = env[secretEnv];
      const receiver = await startWebhookReceiver({
        client,
        secrets: () => (secret ? [secret] : []),
        toleranceMs: devResponse.webhookToleranceMs,
        approveActions: [devResponse.approveAction],
        incident: (incidentId) => lookupIncident(incidentKeySources([resolved]), workerEnv, incidentId),
        port: Number(env.AUDIT_SPIKE_WEBHOOKS_PORT ?? 8788),
      });
      stoppers.push(() => receiver.stop());
      if (pd.sim) {
        const subscription = pd.sim.addWebhookSubscription(`${receiver.url}/pagerduty`, undefined, secret ? { secret } : {});
        secret = subscription.secret;
        log(`Contain on approval: webhook receiver at ${receiver.url} (subscription ${subscription.id} in the PagerDuty simulator). Approve a plan from "PagerDuty":`);
        log(`  curl -s -X POST ${pd.sim.httpUrl}/_sim/person/custom-action -H 'content-type: application/json' -d '{"incidentId":"<incident id>","action":"${devResponse.approveAction}","by":"ada@example.com"}'`);
      } else {
        log(`Contain on approval: webhook receiver at ${receiver.url}; subscribe it in PagerDuty (secret in ${secretEnv})`);
      }
      log('  or from the CLI: npx audit-spike respond <dedup key> [--all | --approve STEP] [--undo]');
    }
    const outcome = await applySchedule(client, resolved);
    log(`Schedule ${resolved.schedule.scheduleId}: ${outcome}, every ${resolved.schedule.intervalMs / 60_000} min on task queue ${resolved.schedule.taskQueue}`);
    await client.schedule.getHandle(resolved.schedule.scheduleId).trigger();
    log('Triggered a first run now; the schedule takes it from here.');
    if (server?.uiUrl) log(`Temporal web UI: ${server.uiUrl}/namespaces/${settings.namespace}/schedules/${resolved.schedule.scheduleId}`);
    if (dd.sim) log(`Try the sample offline: npx audit-spike dry-run --events .data/sample-day.jsonl`);
    log('Press Ctrl-C to stop.');

    let seen = 0;
    const watcher = pd.sim
      ? setInterval(() => {
          const incidents = pd.sim!.incidents;
          for (const incident of incidents.slice(seen)) {
            log(`PAGED (PagerDuty simulator): ${incident.title}`);
            if (devResponse?.enabled) log(`  incident ${incident.id}, dedup key ${incident.dedupKey}: see its plan with npx audit-spike respond ${incident.dedupKey}`);
          }
          seen = incidents.length;
        }, 1000)
      : undefined;
    await worker.run();
    if (watcher) clearInterval(watcher);
  } finally {
    await stopAll();
  }
}

if (require.main === module) {
  runDevStack(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
