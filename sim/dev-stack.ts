import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { AuditSpikeArgs } from '../src/config/args-schema';
import { loadConfig, parseConfigText } from '../src/config/load';
import type { ResolvedConfig } from '../src/config/resolve';
import { incidentOpenedSignal } from '../src/response/messages';
import { responseWorkflowId } from '../src/response/plan';
import { applySchedule } from '../src/schedule';
import { temporalSettings } from '../src/temporal-connection';
import { startWebhookReceiver } from '../src/webhooks/receiver';
import { lookupIncident, incidentKeySources } from '../src/webhooks/incident-key';
import { createAuditSpikeWorker } from '../src/worker';
import { BASELINE_SHARDS, baselineWorkflowId } from '../src/workflows/baseline-workflow';
import { DatadogSimulator } from './datadog-sim';
import { PagerDutySimulator } from './pagerduty-sim';
import { sampleDay } from './sample-day';
import { TemporalDevServer, projectRoot } from './temporal-server';

type Env = Record<string, string | undefined>;

/** The simulated org's Audit Trail retention (Datadog allows 3 to 90 days). */
const DEMO_RETENTION_MS = 30 * 86_400_000;

function defaultLog(line: string): void {
  process.stderr.write(`[audit-spike dev] ${line}\n`);
}

type Log = (line: string) => void;

/** Datadog: the real API when DD_API_KEY and DD_APP_KEY are set, else the simulator seeded with a sample day. */
async function datadogSide(config: ResolvedConfig, env: Env, dataDir: string, stoppers: Array<() => Promise<void>>, log: Log) {
  const apiKeyEnv = config.args.datadog.apiKeyEnv;
  const appKeyEnv = config.args.datadog.appKeyEnv;
  if (env[apiKeyEnv] && env[appKeyEnv]) {
    const site = env.DD_SITE ?? config.args.datadog.site ?? 'datadoghq.com';
    log(`Datadog: the real API at ${site} (keys from ${apiKeyEnv} and ${appKeyEnv})`);
    return { datadog: { ...config.args.datadog, site }, env: {} };
  }
  // The simulated Audit Trail holds the sample's ten days (the day and nine days of logins before it): its retention,
  // and the org's, is 30 days, so that the first run seeds the baselines from all of them (catalog v3).
  const sim = await DatadogSimulator.start({ port: Number(env.SIM_DATADOG_PORT ?? 8126), retentionMs: DEMO_RETENTION_MS });
  stoppers.push(() => sim.stop());
  // Located (geoip), with the careful attackers in the day's last minutes, where the first run reads.
  const events = sampleDay({ end: new Date(), located: true, carefulAt: 'end' });
  sim.addEvents(events);
  const samplePath = join(dataDir, 'sample-day.jsonl');
  writeFileSync(samplePath, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
  log(`Datadog: simulator at ${sim.url} with ${events.length} audit events of a sample day and the nine days of logins before it (also in ${samplePath})`);
  const { baseUrl: _drop, site: _site, ...rest } = config.args.datadog;
  return { datadog: { ...rest, baseUrl: sim.url, retentionMs: DEMO_RETENTION_MS }, env: { [apiKeyEnv]: sim.apiKey, [appKeyEnv]: sim.appKey }, sim };
}

/** PagerDuty: the real service when its secret is set, else the simulator (Events API over HTTPS with a local CA). */
async function pagerdutySide(config: ResolvedConfig, env: Env, dataDir: string, stoppers: Array<() => Promise<void>>, log: Log) {
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

export interface DevStackOptions {
  /** Command-line arguments (`--config FILE`). */
  argv?: string[];
  env?: Env;
  /** Where the Temporal history, the sample day and the local CA live; default `.data/` in the project. */
  dataDir?: string;
  /** The Temporal dev server's port (default 7233) and whether it serves its web UI (default yes). */
  temporalPort?: number;
  headless?: boolean;
  /** Tests pass a prebuilt workflow bundle; otherwise the worker bundles the workflows itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  log?: (line: string) => void;
}

export interface DevStack {
  client: Client;
  scheduleId: string;
  datadog?: DatadogSimulator;
  pagerduty?: PagerDutySimulator;
  /** Whether this start reset the Schedule (a simulated Datadog starts with a fresh sample day each time). */
  reset: boolean;
  /** Resolves when the worker stops (Ctrl-C, or `stop()`). */
  running: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The demo starts afresh when Datadog is the simulator: its audit trail is a new sample day ending now, so a cursor and
 * carried state from an earlier start describe events that no longer exist, and would make the sample's burst look like
 * the continuation of the one already paged (to a PagerDuty simulator that has since forgotten it): nothing would page.
 * So the Schedule is deleted (with any run it left running) and created again; earlier runs stay in the web UI.
 */
export async function resetDemoSchedule(client: Client, scheduleId: string): Promise<boolean> {
  const handle = client.schedule.getHandle(scheduleId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
  for (const action of description.info.runningActions) {
    await client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId)
      .terminate('audit-spike dev stack restarted: the simulated audit trail was replaced')
      .catch(() => undefined);
  }
  await handle.delete();
  return true;
}

/**
 * The demo's baselines start afresh with its Schedule: the org's baseline workflows still running are terminated (a
 * closed shard counts as missing, so the first run seeds them again from the new sample day, and its saves start them
 * anew). Returns how many were running.
 */
export async function resetDemoBaselines(client: Client, orgId: string): Promise<number> {
  let ended = 0;
  await Promise.all(Array.from({ length: BASELINE_SHARDS }, async (_, shard) => {
    const handle = client.workflow.getHandle(baselineWorkflowId(orgId, shard));
    try {
      if ((await handle.describe()).status.name !== 'RUNNING') return;
      await handle.terminate('audit-spike dev stack restarted: the simulated audit trail was replaced');
      ended++;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }));
  return ended;
}

/**
 * Starts one run now under the Schedule's own overlap policy (SKIP for audit-spike): if a run is already going (a
 * catch-up run after a restart, or a tick), the trigger is skipped instead of starting a second run on the same cursor.
 * `ScheduleHandle.trigger()` without an argument would ALLOW_ALL.
 */
export async function triggerRespectingOverlap(client: Client, scheduleId: string): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  const { policies } = await handle.describe();
  await handle.trigger(policies.overlap);
}

/**
 * Events mode never learns a PagerDuty incident's id; the dev stack sees it in the simulator and tells the incident's
 * plan (which starts just after the page, hence the few tries), so `audit-spike respond <incident id>` finds it.
 */
export async function tellPlanItsIncident(client: Client, dedupKey: string, incidentId: string, tries = 20): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    try {
      await client.workflow.getHandle(responseWorkflowId(dedupKey)).signal(incidentOpenedSignal, { incidentId });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return false;
}

/**
 * The local stack: Temporal dev server (SQLite, web UI), Datadog and PagerDuty simulators seeded with a sample day, the
 * worker and the Schedule, all in one process. Real services and servers take over when their settings are in the
 * environment.
 */
export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const argv = options.argv ?? [];
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLog;
  const configPath = argv.find((arg, i) => argv[i - 1] === '--config') ?? env.AUDIT_SPIKE_CONFIG;
  const config = loadConfig(configPath);
  const dataDir = options.dataDir ?? join(projectRoot(), '.data');
  mkdirSync(dataDir, { recursive: true });
  const stoppers: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop().catch((error) => log(`while stopping: ${String(error)}`));
  };

  try {
    let server: TemporalDevServer | undefined;
    if (!env.TEMPORAL_ADDRESS && !env.TEMPORAL_PROFILE) {
      server = await TemporalDevServer.start({
        dbFile: join(dataDir, 'temporal.sqlite'), port: options.temporalPort ?? 7233,
        ...(options.headless ? { headless: true } : { uiPort: Number(env.TEMPORAL_UI_PORT ?? 8233) }),
      });
      stoppers.push(() => server!.stop());
      log(`Temporal: dev server at ${server.address} (history in ${join(dataDir, 'temporal.sqlite')})`);
    }
    const settings = temporalSettings(server ? { ...env, TEMPORAL_ADDRESS: server.address } : env);
    const dd = await datadogSide(config, env, dataDir, stoppers, log);
    const pd = await pagerdutySide(config, env, dataDir, stoppers, log);
    // Contain on approval (#17): on by default against the simulators, so a newcomer can approve a plan; with real
    // services only when the config turns it on.
    const simulated = Boolean(dd.sim && pd.sim);
    const response = config.args.response ?? (simulated ? parseConfigText('response: { enabled: true }', 'dev defaults').args.response : undefined);
    const devResponse = response && pd.sim && config.args.pagerduty.mode === 'events' ? { ...response, pagerdutyApiUrl: pd.sim.httpUrl } : response;
    // Against the simulator the baselines are seeded from its past on the first run (first enable), so the careful
    // attackers page at once instead of after a week of warm-up.
    const detection = dd.sim ? { ...config.args.detection, seedBaselines: true } : config.args.detection;
    const resolved: ResolvedConfig = { ...config, args: { ...config.args, datadog: dd.datadog, pagerduty: pd.pagerduty, detection, ...(devResponse ? { response: devResponse } : {}) } };
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
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
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
      log('  or from the CLI: npx audit-spike respond <incident id or dedup key> [--all | --approve STEP] [--undo]');
    }
    const scheduleId = resolved.schedule.scheduleId;
    const reset = dd.sim ? await resetDemoSchedule(client, scheduleId) : false;
    if (reset) log(`Schedule ${scheduleId}: started afresh, because the simulated audit trail is a new sample day (earlier runs stay in the web UI)`);
    // The baselines too: learned from the earlier sample, they already hold the countries its careful attackers came from.
    const baselinesReset = dd.sim ? await resetDemoBaselines(client, resolved.args.orgId) : 0;
    if (baselinesReset) log(`Baselines of org ${resolved.args.orgId}: ${baselinesReset} shard workflows ended; the first run seeds them again from the new sample`);
    const outcome = await applySchedule(client, resolved);
    log(`Schedule ${scheduleId}: ${outcome}, every ${resolved.schedule.intervalMs / 60_000} min on task queue ${resolved.schedule.taskQueue}`);
    await triggerRespectingOverlap(client, scheduleId);
    log('Triggered a first run now (skipped if a run is already going); the schedule takes it from here.');
    if (server?.uiUrl) log(`Temporal web UI: ${server.uiUrl}/namespaces/${settings.namespace}/schedules/${scheduleId}`);
    if (dd.sim) log(`Try the sample offline: npx audit-spike dry-run --events ${join(dataDir, 'sample-day.jsonl')}`);

    let seen = 0;
    const watcher = pd.sim
      ? setInterval(() => {
          const incidents = pd.sim!.incidents;
          for (const incident of incidents.slice(seen)) {
            log(`PAGED (PagerDuty simulator): ${incident.title}`);
            if (devResponse?.enabled) {
              log(`  incident ${incident.id}, dedup key ${incident.dedupKey}: see its plan with npx audit-spike respond ${incident.id}`);
              void tellPlanItsIncident(client, incident.dedupKey, incident.id);
            }
          }
          seen = incidents.length;
        }, 1000)
      : undefined;
    const running = worker.run().finally(async () => {
      if (watcher) clearInterval(watcher);
      await stopAll();
    });
    return {
      client, scheduleId, reset, running,
      ...(dd.sim ? { datadog: dd.sim } : {}),
      ...(pd.sim ? { pagerduty: pd.sim } : {}),
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** `npm start`: the local stack until Ctrl-C (the worker stops on SIGINT/SIGTERM, then everything else). */
export async function runDevStack(argv: string[], env: Env = process.env): Promise<void> {
  const stack = await startDevStack({ argv, env });
  defaultLog('Press Ctrl-C to stop.');
  await stack.running;
}

if (require.main === module) {
  runDevStack(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
