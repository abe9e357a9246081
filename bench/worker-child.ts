import { Client, Connection } from '@temporalio/client';
import { getHeapSpaceStatistics } from 'node:v8';
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
 *   { type: 'memory-watch', on }            starts sampling the heap by space and the Buffers outside it; off
 *                                           replies { type: 'memory-watched', before, atPeak, max } (MemorySample).
 *   { type: 'stop' }                        shuts the worker down and exits.
 * Environment: BENCH_TEMPORAL_ADDRESS, BENCH_TASK_QUEUE, BENCH_BUNDLE (a workflow bundle file), and the secrets
 * (DD_API_KEY, DD_APP_KEY, PAGERDUTY_ROUTING_KEY) as a deployment would set them.
 */

type Message =
  | { type: 'paginate'; id: number; target: DatadogTarget; body: v2.AuditLogsSearchEventsRequest; bytesOnly?: boolean }
  | { type: 'gc' }
  | { type: 'memory-watch'; on: boolean }
  | { type: 'stop' };

/** Where the worker's memory is, in MiB: the V8 heap by space, what lives outside it (Buffers), and the process's RSS. */
export interface MemorySample {
  rss: number;
  heapTotal: number;
  newSpace: number;
  oldSpace: number;
  largeObjects: number;
  external: number;
}

function memorySample(): MemorySample {
  const usage = process.memoryUsage();
  const spaces = new Map(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size / 2 ** 20]));
  return {
    rss: usage.rss / 2 ** 20,
    heapTotal: usage.heapTotal / 2 ** 20,
    newSpace: spaces.get('new_space') ?? 0,
    oldSpace: spaces.get('old_space') ?? 0,
    largeObjects: (spaces.get('large_object_space') ?? 0) + (spaces.get('new_large_object_space') ?? 0),
    external: usage.external / 2 ** 20,
  };
}

/**
 * Samples the worker's memory every 20 ms while on; off answers with the sample before, the one at the RSS peak, and
 * each figure's own maximum, so the bench can say what the growth is made of.
 */
function createMemoryWatch() {
  let timer: NodeJS.Timeout | undefined;
  let before: MemorySample | undefined;
  let atPeak: MemorySample | undefined;
  let max: MemorySample | undefined;
  return {
    start() {
      before = memorySample();
      atPeak = { ...before };
      max = { ...before };
      timer = setInterval(() => {
        const now = memorySample();
        if (now.rss > atPeak!.rss) atPeak = now;
        for (const key of Object.keys(now) as Array<keyof MemorySample>) max![key] = Math.max(max![key], now[key]);
      }, 20);
    },
    stop() {
      clearInterval(timer);
      return { before, atPeak, max };
    },
  };
}

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
  const memoryWatch = createMemoryWatch();
  process.on('message', (raw: Message) => {
    if (raw.type === 'paginate') {
      paginate(raw.target, raw.body, raw.bytesOnly).then(
        (result) => send({ type: 'paginated', id: raw.id, ...result }),
        (error: unknown) => send({ type: 'paginated', id: raw.id, error: String(error) }),
      );
    } else if (raw.type === 'memory-watch') {
      if (raw.on) memoryWatch.start();
      else send({ type: 'memory-watched', ...memoryWatch.stop() });
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
