import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ResolvedConfig } from '../../src/config/resolve';
import { parseConfigText } from '../../src/config/load';
import { createAuditSpikeWorker } from '../../src/worker';
import type { RunResult } from '../../src/workflows/run-result';
import { bundleWorkflows } from '../../src/workflow-bundle';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { PagerDutySimulator } from '../../sim/pagerduty-sim';
import { TemporalDevServer } from '../../sim/temporal-server';

/** The Temporal server a stack runs on: a dev server it started, or an existing one (AUDIT_SPIKE_TEST_TEMPORAL_ADDRESS). */
export interface TestTemporalServer {
  readonly address: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A server the tests did not start (a production-shaped cluster: `npm run test:cluster`): never stopped or restarted by
 * them, namespace `default`, the AuditSpike* search attributes registered by whoever started it.
 */
export const EXISTING_TEMPORAL_ADDRESS = process.env.AUDIT_SPIKE_TEST_TEMPORAL_ADDRESS || undefined;

function existingServer(address: string): TestTemporalServer {
  return {
    address,
    async restart() {
      throw new Error(`the tests use an existing Temporal server (${address}, AUDIT_SPIKE_TEST_TEMPORAL_ADDRESS) and cannot restart it`);
    },
    async stop() {},
  };
}

export interface Stack {
  server: TestTemporalServer;
  datadog: DatadogSimulator;
  pagerduty: PagerDutySimulator;
  client: Client;
  nativeConnection: NativeConnection;
  dir: string;
  /** The worker's environment: the simulators' keys, as a deployment would set them. */
  workerEnv: Record<string, string>;
  /** The config for a test org, pointing at the simulators. */
  config(yaml?: string, org?: string): ResolvedConfig;
  startWorker(options?: { identity?: string }): Promise<{ worker: Worker; running: Promise<void>; stop(): Promise<void> }>;
  stop(): Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle is built once per test file and shared by every worker it starts. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflows();
  return bundle;
}

export const TEST_TEMPORAL_PORT = Number(process.env.AUDIT_SPIKE_TEST_TEMPORAL_PORT ?? 17233);

let runtimeInstalled = false;

/**
 * For the enclosing describe block: a stack with the product's worker started before its tests and stopped after;
 * `started` receives it.
 */
export function withStackAndWorker(started: (stack: Stack) => void, options: StackOptions = {}): void {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
    await stack.startWorker();
    started(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);
}

export interface StackOptions {
  uiPort?: number;
  /** false: a namespace without the AuditSpike* search attributes. */
  searchAttributes?: boolean;
  dataConverter?: DataConverter;
  /** The dev server serves its Prometheus metrics (the `action` metric among them) on this port. */
  metricsPort?: number;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  if (!runtimeInstalled) {
    // Workers' info lines would drown jest's output; warnings and errors still show.
    Runtime.install({ logger: new DefaultLogger((process.env.AUDIT_SPIKE_TEST_LOG_LEVEL as 'INFO' | undefined) ?? 'WARN') });
    runtimeInstalled = true;
  }
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-e2e-'));
  const server: TestTemporalServer = EXISTING_TEMPORAL_ADDRESS
    ? existingServer(EXISTING_TEMPORAL_ADDRESS)
    : await TemporalDevServer.start({
      dbFile: join(dir, 'temporal.sqlite'),
      port: TEST_TEMPORAL_PORT,
      ...(options.uiPort ? { uiPort: options.uiPort } : { headless: true }),
      ...(options.searchAttributes === false ? { searchAttributes: false } : {}),
      ...(options.metricsPort ? { metricsPort: options.metricsPort } : {}),
    });
  if (EXISTING_TEMPORAL_ADDRESS && options.searchAttributes === false) {
    throw new Error('a namespace without the AuditSpike* search attributes needs a dev server of its own (unset AUDIT_SPIKE_TEST_TEMPORAL_ADDRESS)');
  }
  const datadog = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
  const pagerduty = await PagerDutySimulator.start({ tlsDir: join(dir, 'tls') });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}) });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const workerEnv = {
    DD_API_KEY: datadog.apiKey,
    DD_APP_KEY: datadog.appKey,
    PAGERDUTY_ROUTING_KEY: pagerduty.routingKeys[0],
    PAGERDUTY_API_TOKEN: pagerduty.apiToken,
  };
  const workers: Array<() => Promise<void>> = [];
  const stack: Stack = {
    server, datadog, pagerduty, client, nativeConnection, dir, workerEnv,
    config(yaml = '', org = 'e2e') {
      const base = parseConfigText(`org: ${org}\n${yaml}`, 'e2e config');
      return {
        ...base,
        // Paused unless the test says otherwise: a test drives its runs by trigger, and a tick of the Schedule's own in
        // between (every 5 minutes, at the org's phase) would take the events a later triggered run is meant to see.
        schedule: { ...base.schedule, paused: /^\s*paused:/m.test(yaml) ? base.schedule.paused : true },
        args: {
          ...base.args,
          datadog: { ...base.args.datadog, baseUrl: datadog.url },
          pagerduty: base.args.pagerduty.mode === 'events'
            ? { ...base.args.pagerduty, eventsServer: pagerduty.eventsServer, caFile: pagerduty.caFile }
            : { ...base.args.pagerduty, apiUrl: pagerduty.httpUrl },
        },
      };
    },
    async startWorker(workerOptions = {}) {
      const worker = await createAuditSpikeWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue: 'audit-spike',
        env: workerEnv,
        temporalClient: client,
        workflowBundle: await workflowBundle(),
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
        ...(workerOptions.identity ? { identity: workerOptions.identity } : {}),
      });
      const running = worker.run();
      const stop = async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      };
      workers.push(stop);
      return { worker, running, stop };
    },
    async stop() {
      for (const stop of workers) await stop();
      await nativeConnection.close();
      await connection.close();
      await datadog.stop();
      await pagerduty.stop();
      await server.stop();
      // AUDIT_SPIKE_KEEP_TEST_DIR=1 keeps the server's database and the workers' logs, to read after a failure.
      if (process.env.AUDIT_SPIKE_KEEP_TEST_DIR) console.warn(`kept the test stack's directory: ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Triggers the schedule once and waits for that run's result. */
export async function triggerAndWait(client: Client, scheduleId: string, timeoutMs = 60_000): Promise<RunResult> {
  const handle = client.schedule.getHandle(scheduleId);
  // By run id: a run the Schedule starts in the same second as the previous one gets the same workflow id (the Schedule's
  // id and the second), a new run of it.
  const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const fresh = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.firstExecutionRunId));
    if (fresh) {
      return (await client.workflow.getHandle(fresh.action.workflow.workflowId, fresh.action.workflow.firstExecutionRunId).result()) as RunResult;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`schedule ${scheduleId} did not start a run within ${timeoutMs} ms`);
}
