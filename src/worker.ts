import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { dataConverterFromEnv } from './codec/data-converter';
import { installTelemetry } from './telemetry';
import { DEFAULT_TASK_QUEUE, temporalSettings } from './temporal-connection';

export interface AuditSpikeWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Secrets come from here (the worker's environment by default). */
  env?: ActivityDeps['env'];
  datadogClientFactory?: ActivityDeps['datadogClientFactory'];
  /** For runs that must find their predecessor's result themselves (manual triggers). */
  temporalClient?: Client;
  /** A pre-built workflow bundle (tests build one and share it); by default the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Payload encryption (see src/codec); every client and worker of a deployment must share it. */
  dataConverter?: WorkerOptions['dataConverter'];
}

/** Bundles the workflows with webpack's chatter kept to warnings and errors. */
export function bundleWorkflows(): ReturnType<typeof bundleWorkflowCode> {
  const quiet = () => undefined;
  const loud = (message: string) => console.error(`workflow bundle: ${message}`);
  return bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: loud, error: loud } });
}

export async function createAuditSpikeWorker(options: AuditSpikeWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities({
      env: options.env ?? process.env,
      ...(options.datadogClientFactory ? { datadogClientFactory: options.datadogClientFactory } : {}),
      ...(options.temporalClient ? { temporalClient: options.temporalClient } : {}),
    }),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
}

/** Runs a worker until SIGINT/SIGTERM, with connection settings from the Temporal environment configuration. */
export async function runWorker(env: Record<string, string | undefined> = process.env): Promise<void> {
  const telemetry = installTelemetry(env);
  const settings = temporalSettings(env);
  const connection = await NativeConnection.connect(settings.connectionOptions);
  const taskQueue = env.AUDIT_SPIKE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const clientConnection = await Connection.connect(settings.connectionOptions as Parameters<typeof Connection.connect>[0]);
  const dataConverter = dataConverterFromEnv(env);
  const temporalClient = new Client({ connection: clientConnection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
  const worker = await createAuditSpikeWorker({ connection, namespace: settings.namespace, taskQueue, temporalClient, ...(dataConverter ? { dataConverter } : {}) });
  console.error(
    `audit-spike worker: polling task queue "${taskQueue}" in namespace "${settings.namespace}" at ${settings.connectionOptions.address}` +
      (telemetry.metricsAddress ? `; Prometheus metrics at http://${telemetry.metricsAddress}/metrics` : '') +
      (dataConverter ? '; payloads encrypted (AES-256-GCM)' : ''),
  );
  try {
    await worker.run();
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
