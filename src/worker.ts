import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { dataConverterFromEnv } from './codec/data-converter';
import { startHealthServer, type HealthServer } from './health/server';
import { installTelemetry } from './telemetry';
import { DEFAULT_TASK_QUEUE, temporalSettings } from './temporal-connection';
import { workflowBundleFor } from './workflow-bundle';
import { workerRuntimeSettings, type WorkerVersion } from './worker-settings';

export interface AuditSpikeWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Secrets come from here (the worker's environment by default). */
  env?: ActivityDeps['env'];
  datadogClientFactory?: ActivityDeps['datadogClientFactory'];
  /** For runs that must find their predecessor's result themselves (manual triggers). */
  temporalClient?: Client;
  /**
   * A pre-built workflow bundle (tests build one and share it); by default the one `npm run build` wrote, else the
   * workflows are bundled from source.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Activities at once; bounds the worker's memory (SDK maxConcurrentActivityTaskExecutions, default 100 there). */
  maxConcurrentActivities?: number;
  /** Payload encryption (see src/codec); every client and worker of a deployment must share it. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** SIGTERM (or shutdown()) waits this long for in-flight activities before cancelling them; SDK default 0. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  shutdownForceTime?: WorkerOptions['shutdownForceTime'];
  /**
   * Worker Versioning: this worker polls as one version of a Worker Deployment. Workflows without their own behaviour
   * are PINNED (src/workflows/index.ts sets each one's deliberately).
   */
  versioning?: WorkerVersion;
  /** Where start-up facts go (how the workflow bundle was had); none by default. */
  log?: (line: string) => void;
  /** Extra interceptors (tests observe which worker ran what). */
  interceptors?: WorkerOptions['interceptors'];
}

export async function createAuditSpikeWorker(options: AuditSpikeWorkerOptions): Promise<Worker> {
  let workflowBundle = options.workflowBundle;
  if (!workflowBundle) {
    const found = await workflowBundleFor();
    workflowBundle = found.bundle;
    options.log?.(`workflow bundle: ${found.source}`);
  }
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle,
    activities: createActivities({
      env: options.env ?? process.env,
      ...(options.datadogClientFactory ? { datadogClientFactory: options.datadogClientFactory } : {}),
      ...(options.temporalClient ? { temporalClient: options.temporalClient } : {}),
    }),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.maxConcurrentActivities !== undefined ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.shutdownGraceTime !== undefined ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.shutdownForceTime !== undefined ? { shutdownForceTime: options.shutdownForceTime } : {}),
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    ...(options.versioning
      ? { workerDeploymentOptions: { version: options.versioning, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' as const } }
      : {}),
  });
}

/**
 * Runs a worker until SIGINT/SIGTERM, with connection settings from the Temporal environment configuration.
 * SIGTERM stops polling at once and lets in-flight activities finish for AUDIT_SPIKE_SHUTDOWN_GRACE_TIME; one still
 * running then is cancelled and retried elsewhere from its last heartbeat (the scan's page checkpoint).
 */
export async function runWorker(env: Record<string, string | undefined> = process.env, flags: { versioning?: boolean } = {}): Promise<void> {
  const telemetry = installTelemetry(env);
  const runtime = workerRuntimeSettings(env, flags);
  const settings = temporalSettings(env);
  let worker: Worker | undefined;
  let clientConnection: Connection | undefined;
  // The health endpoint comes first, so probes get an answer (live, not ready) while the workflows bundle.
  const health: HealthServer | undefined = runtime.healthAddress
    ? await startHealthServer({
        address: runtime.healthAddress,
        worker: () => worker,
        temporalReachable: async () => {
          const connection = clientConnection;
          if (!connection) return false;
          await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
          return true;
        },
      })
    : undefined;
  try {
    const connection = await NativeConnection.connect(settings.connectionOptions);
    const taskQueue = env.AUDIT_SPIKE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
    clientConnection = await Connection.connect(settings.connectionOptions as Parameters<typeof Connection.connect>[0]);
    const dataConverter = dataConverterFromEnv(env);
    const temporalClient = new Client({ connection: clientConnection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
    worker = await createAuditSpikeWorker({
      connection, namespace: settings.namespace, taskQueue, temporalClient, log: (line) => console.error(`audit-spike worker: ${line}`),
      ...(dataConverter ? { dataConverter } : {}),
      shutdownGraceTime: runtime.shutdownGraceMs,
      maxConcurrentActivities: runtime.maxConcurrentActivities,
      ...(runtime.shutdownForceMs !== undefined ? { shutdownForceTime: runtime.shutdownForceMs } : {}),
      ...(runtime.versioning ? { versioning: runtime.versioning } : {}),
    });
    const running = worker;
    const onSignal = (signal: string) => {
      const inFlight = running.getStatus().numInFlightActivities;
      console.error(`audit-spike worker: ${signal}: stopped polling; draining ${inFlight} in-flight activit${inFlight === 1 ? 'y' : 'ies'} for up to ${runtime.shutdownGraceMs} ms`);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    console.error(
      `audit-spike worker: polling task queue "${taskQueue}" in namespace "${settings.namespace}" at ${settings.connectionOptions.address}` +
        (runtime.versioning ? `; Worker Deployment "${runtime.versioning.deploymentName}" build "${runtime.versioning.buildId}" (versioned)` : '') +
        (telemetry.metricsAddress ? `; Prometheus metrics at http://${telemetry.metricsAddress}/metrics` : '') +
        (health ? `; health at ${health.url}/livez and /readyz` : '') +
        (dataConverter ? '; payloads encrypted (AES-256-GCM)' : ''),
    );
    try {
      await worker.run();
      console.error('audit-spike worker: drained and stopped');
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await clientConnection.close();
      await connection.close();
    }
  } finally {
    await health?.stop();
  }
}

if (require.main === module) {
  runWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
