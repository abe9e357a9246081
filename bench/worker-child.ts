import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { v2 } from '@datadog/datadog-api-client';
import { createDatadogAuditClient } from '../src/activities/datadog-client';
import type { DatadogTarget } from '../src/config/args-schema';
import { createAuditSpikeWorker } from '../src/worker';

/**
 * The real audit-spike worker in its own process, so `npm run bench` can read its RSS from /proc/PID/status without
 * the simulators, the Temporal client or the benchmark's own data in the same heap. Started by bench/run.ts with an IPC
 * channel; the workflow bundle is built once by the parent and passed as a file.
 *
 * Messages from the parent:
 *   { type: 'paginate', id, target, body }  bare pagination: the same @datadog/datadog-api-client v2.AuditApi
 *                                           searchAuditLogs (built by the product's createDatadogAuditClient from the
 *                                           same target and environment), same body, following meta.page.after,
 *                                           no detection. Replies { type: 'paginated', id, ms, pages, events, calls }.
 *                                           With bytesOnly: the scan's own reader (searchPage: the page as bytes,
 *                                           framed, no event parsed), the least any reader of these pages can do.
 *   { type: 'gc' }                          a full GC (the child runs with --expose-gc) before an RSS baseline.
 *   { type: 'stop' }                        shuts the worker down and exits.
 * Environment: BENCH_TEMPORAL_ADDRESS, BENCH_TASK_QUEUE, BENCH_BUNDLE (a workflow bundle file), and the secrets
 * (DD_API_KEY, DD_APP_KEY, PAGERDUTY_ROUTING_KEY) as a deployment would set them.
 */

type Message =
  | { type: 'paginate'; id: number; target: DatadogTarget; body: v2.AuditLogsSearchEventsRequest; bytesOnly?: boolean }
  | { type: 'gc' }
  | { type: 'stop' };

function send(message: unknown): void {
  process.send?.(message);
}

async function paginate(target: DatadogTarget, body: v2.AuditLogsSearchEventsRequest, bytesOnly = false) {
  const dd = createDatadogAuditClient(target, process.env);
  const callsBefore = dd.http.requests;
  let cursor: string | undefined;
  let pages = 0;
  let events = 0;
  const start = performance.now();
  for (;;) {
    const request = { ...body, page: { ...body.page, ...(cursor ? { cursor } : {}) } };
    pages++;
    if (bytesOnly) {
      const page = await dd.searchPage(request);
      events += page.size;
      cursor = page.size ? page.meta?.page?.after : undefined;
    } else {
      const page = await dd.api.searchAuditLogs({ body: request });
      events += page.data?.length ?? 0;
      cursor = page.meta?.page?.after;
    }
    if (!cursor) break;
  }
  return { ms: performance.now() - start, pages, events, calls: dd.http.requests - callsBefore };
}

async function main(): Promise<void> {
  const address = process.env.BENCH_TEMPORAL_ADDRESS!;
  const taskQueue = process.env.BENCH_TASK_QUEUE ?? 'audit-spike';
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const temporalClient = new Client({ connection });
  const worker = await createAuditSpikeWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    env: process.env,
    temporalClient,
    workflowBundle: { codePath: process.env.BENCH_BUNDLE! },
    identity: `bench-worker-${process.pid}`,
  });
  const running = worker.run();
  process.on('message', (raw: Message) => {
    if (raw.type === 'paginate') {
      paginate(raw.target, raw.body, raw.bytesOnly).then(
        (result) => send({ type: 'paginated', id: raw.id, ...result }),
        (error: unknown) => send({ type: 'paginated', id: raw.id, error: String(error) }),
      );
    } else if (raw.type === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'gc-done' });
    } else if (raw.type === 'stop') {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    }
  });
  process.on('disconnect', () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  send({ type: 'ready', pid: process.pid });
  await running;
  await connection.close();
  await nativeConnection.close();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
