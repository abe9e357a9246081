import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { v2 } from '@datadog/datadog-api-client';
import { parseConfigText } from '../src/config/load';
import type { ResolvedConfig } from '../src/config/resolve';
import { auditQueryFor } from '../src/detection/query';
import { applySchedule } from '../src/schedule';
import { bundleWorkflows } from '../src/workflow-bundle';
import type { RunResult } from '../src/workflows/run-result';
import { ACTIONS, auditEvent } from '../sim/audit-events';
import { DatadogSimulator } from '../sim/datadog-sim';
import { PagerDutySimulator } from '../sim/pagerduty-sim';
import { TemporalDevServer, projectRoot, temporalCliPath } from '../sim/temporal-server';
import { machineFacts, procMemory, resetPeakRss, type Machine } from './machine';
import type { MemorySample } from './worker-child';
import { fmtInt, median, nowMs, round, sleep } from './stats';
import { WORKER_V8_FLAGS } from '../src/worker-settings';
import { PAGE_EVENTS, V3_SAMPLE_DAYS, measureV3Cost, type V3Cost } from './v3-cost';
import { WIDE_EVENTS_PER_PERSON, busyRunEvents, quietRunEvents, wideWindowEvents, writeCoreDataset, type CoreDataset } from './synthetic';

/**
 * `npm run bench` — not a test: measures audit-spike on this machine and prints a table (with `-- --json`, the last
 * line of stdout is one JSON object). Progress goes to stderr. See docs/performance.md for what each figure means.
 *
 * Options (after `npm run bench --`):
 *   --json                 print the JSON object as the last line
 *   --core-events N        events for the core / ElastAlert2 comparison (default 1,000,000)
 *   --busy-events N        events served in the busy run (default 200,000)
 *   --core-reps N          core repetitions after a warm-up (default 5); --ea-reps N for ElastAlert2 (default 3)
 *   --full-reps N          quiet + busy run + bare pagination repetitions (default 5: the ratios near their targets
 *                          moved by 0.15 between runs of one commit as medians of 3)
 *   --wide-events N        events of the wide-window run (default 1,000,000; one 30-minute window, the memory bound)
 *   --wide-reps N          wide-window repetitions (default 5: its RSS growth is a median, as the busy run's is)
 *   --no-wide              skip the wide-window run
 *   --no-page              skip the time-to-page measurement (it waits for the schedule's real 5-minute ticks)
 *   --no-elastalert        skip ElastAlert2 (no Python needed)
 *   --no-diagnosis         skip the scan without HTTP (a diagnosis, not a target)
 */

const TEMPORAL_PORT = 17433;
/** When the busy run does not complete at the requested volume, the full runs are measured at this volume. */
const FALLBACK_BUSY_EVENTS = 25_000;
const SEARCH_PATH = '/api/v2/audit/events/search';
const MIN = 60_000;

interface Options {
  json: boolean;
  coreEvents: number;
  busyEvents: number;
  coreReps: number;
  eaReps: number;
  fullReps: number;
  page: boolean;
  elastalert: boolean;
  diagnosis: boolean;
  wideEvents: number;
  wideReps: number;
  wide: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const parsed = Number(argv[i + 1]);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} needs a positive number`);
    return parsed;
  };
  return {
    json: argv.includes('--json'),
    coreEvents: value('--core-events', 1_000_000),
    busyEvents: value('--busy-events', 200_000),
    coreReps: value('--core-reps', 5),
    eaReps: value('--ea-reps', 3),
    fullReps: value('--full-reps', 5),
    page: !argv.includes('--no-page'),
    wideEvents: value('--wide-events', 1_000_000),
    wideReps: value('--wide-reps', 5),
    wide: !argv.includes('--no-wide'),
    elastalert: !argv.includes('--no-elastalert'),
    diagnosis: !argv.includes('--no-diagnosis'),
  };
}

const started = Date.now();
function log(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${t}s] ${line}\n`);
}

function runChild(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: options.env ?? process.env });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} ended with ${signal ?? code}`));
    });
  });
}

function lastJsonLine(text: string): Record<string, unknown> {
  const line = text.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Detection core and ElastAlert2

interface CoreResult {
  events: number;
  runs: number;
  timestampType: string;
  repetitions: number;
  msPerRep: number[];
  eventsPerS: number;
  classifyOnlyEventsPerS: number;
  oneScanEventsPerS: number;
  /** bench/bare-core.ts: the least a core does, as a diagnosis of what the ratio to the floor can reach. */
  bareCoreEventsPerS: number;
  readFieldsOnlyEventsPerS: number;
  matched: number;
  incidentActions: number;
}

interface ElastAlertResult {
  elastalert2_version: string;
  python: string;
  events_loaded: number;
  events_timed: number;
  subset: boolean;
  repetitions: number;
  seconds_per_rep: number[];
  events_per_s: number;
  matches: number;
}

async function coreBench(eventsFile: string, reps: number): Promise<CoreResult> {
  const out = await runChild(process.execPath, ['--max-old-space-size=8192', join(__dirname, 'core.js'), eventsFile, String(reps)], { timeoutMs: 10 * MIN });
  return lastJsonLine(out) as unknown as CoreResult;
}

async function elastalertBench(eventsFile: string, dir: string, reps: number): Promise<ElastAlertResult> {
  const root = projectRoot();
  log('ElastAlert2: bash scripts/setup-elastalert.sh (creates .tools/elastalert-venv on first use)');
  const python = (await runChild('bash', [join(root, 'scripts', 'setup-elastalert.sh')], { timeoutMs: 10 * MIN })).trim().split('\n').pop()!;
  const config = parseConfigText('org: bench', 'bench config');
  const { detection, cadence } = config.args;
  const rulesFile = join(dir, 'rules.json');
  writeFileSync(rulesFile, JSON.stringify({
    rules: detection.rules.filter((rule) => rule.enabled && !rule.combines),
    readOnlyActions: detection.readOnlyActions,
    actorFields: detection.actorFields,
    intervalMs: cadence.intervalMs,
  }));
  const script = join(root, 'bench', 'elastalert', 'frequency_bench.py');
  const out = await runChild(python, [script, eventsFile, rulesFile, String(reps), '--max-seconds', '90'], { timeoutMs: 15 * MIN });
  return lastJsonLine(out) as unknown as ElastAlertResult;
}

// ---------------------------------------------------------------------------------------------------------------
// The live stack: Temporal dev server, simulators, the worker in a child process

/** What the worker child logged that the bench counts instead of echoing. */
const workerLog = { payloadLimit: 0, completionRefused: 0 };

interface Stack {
  server: TemporalDevServer;
  client: Client;
  connection: Connection;
  ddRun: DatadogSimulator;
  ddPage: DatadogSimulator;
  pagerduty: PagerDutySimulator;
  worker: ChildProcess;
  workerPid: number;
  paginate(target: ResolvedConfig['args']['datadog'], body: v2.AuditLogsSearchEventsRequest, bytesOnly?: boolean): Promise<{ ms: number; pages: number; events: number; calls: number }>;
  gc(): Promise<void>;
  /** Starts the worker child's memory sampling; the returned function stops it and gives what it saw. */
  watchMemory(): () => Promise<MemoryWatched>;
  stop(): Promise<void>;
}

interface MemoryWatched {
  before: MemorySample;
  atPeak: MemorySample;
  max: MemorySample;
}

async function startStack(dir: string): Promise<Stack> {
  log('bundling the workflows once');
  const bundle = await bundleWorkflows();
  const bundleFile = join(dir, 'workflow-bundle.js');
  writeFileSync(bundleFile, bundle.code);

  log(`starting temporal server start-dev on 127.0.0.1:${TEMPORAL_PORT} (headless, SQLite in a temp dir)`);
  const server = await TemporalDevServer.start({ dbFile: join(dir, 'temporal.sqlite'), port: TEMPORAL_PORT, headless: true });
  const stoppers: Array<() => Promise<void>> = [() => server.stop()];
  try {
    const ddRun = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
    stoppers.push(() => ddRun.stop());
    const ddPage = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
    stoppers.push(() => ddPage.stop());
    const pagerduty = await PagerDutySimulator.start({ tlsDir: join(dir, 'tls') });
    stoppers.push(() => pagerduty.stop());
    const connection = await Connection.connect({ address: server.address });
    stoppers.push(() => connection.close());
    const client = new Client({ connection });

    const worker = fork(join(__dirname, 'worker-child.js'), [], {
      // The worker as deployed (its V8 flags), and a GC the bench can ask for before each RSS baseline.
      execArgv: ['--expose-gc', ...WORKER_V8_FLAGS],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...process.env,
        BENCH_TEMPORAL_ADDRESS: server.address,
        BENCH_TASK_QUEUE: 'audit-spike',
        BENCH_BUNDLE: bundleFile,
        DD_API_KEY: ddRun.apiKey,
        DD_APP_KEY: ddRun.appKey,
        PAGERDUTY_ROUTING_KEY: pagerduty.routingKeys[0],
      },
    });
    // The worker's log (the SDK core writes to stdout and stderr): payload-limit errors are counted, not echoed, and
    // nothing of the worker reaches the bench's stdout, whose last line is the JSON object.
    for (const stream of [worker.stdout, worker.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.includes('TMPRL1103')) workerLog.payloadLimit++;
          else if (line.includes('Activity not found on completion')) workerLog.completionRefused++;
          else if (line.trim()) process.stderr.write(`[worker] ${line}\n`);
        }
      });
    }
    const stopWorker = async () => {
      if (worker.exitCode !== null || worker.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.send({ type: 'stop' });
      const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    };
    stoppers.push(stopWorker);
    const pending = new Map<number, (reply: Record<string, unknown>) => void>();
    let gcDone: (() => void) | undefined;
    let memoryWatched: ((watched: MemoryWatched) => void) | undefined;
    const ready = new Promise<number>((resolve, reject) => {
      worker.once('exit', (code) => reject(new Error(`the worker child exited with ${code} before it was ready`)));
      worker.on('message', (message: Record<string, unknown>) => {
        if (message.type === 'ready') resolve(message.pid as number);
        else if (message.type === 'paginated') pending.get(message.id as number)?.(message);
        else if (message.type === 'gc-done') gcDone?.();
        else if (message.type === 'memory-watched') memoryWatched?.(message as unknown as MemoryWatched);
      });
    });
    const workerPid = await Promise.race([ready, sleep(120_000).then(() => Promise.reject(new Error('the worker child was not ready within 120 s')))]);
    log(`worker running in child process ${workerPid}`);
    let nextId = 1;
    return {
      server, client, connection, ddRun, ddPage, pagerduty, worker, workerPid,
      paginate(target, body, bytesOnly = false) {
        const id = nextId++;
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('bare pagination took over 10 minutes')), 10 * MIN);
          pending.set(id, (reply) => {
            clearTimeout(timer);
            pending.delete(id);
            if (reply.error) reject(new Error(String(reply.error)));
            else resolve(reply as unknown as { ms: number; pages: number; events: number; calls: number });
          });
          worker.send({ type: 'paginate', id, target, body, bytesOnly });
        });
      },
      gc() {
        return new Promise((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          gcDone = () => {
            clearTimeout(timer);
            resolve();
          };
          worker.send({ type: 'gc' });
        });
      },
      watchMemory() {
        worker.send({ type: 'memory-watch', on: true });
        return () => new Promise<MemoryWatched>((resolve) => {
          memoryWatched = resolve;
          worker.send({ type: 'memory-watch', on: false });
        });
      },
      async stop() {
        for (const stop of stoppers.reverse()) await stop().catch((error) => log(`while stopping: ${String(error)}`));
      },
    };
  } catch (error) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

function configFor(stack: Stack, dd: DatadogSimulator, org: string, yaml = ''): ResolvedConfig {
  const base = parseConfigText(`org: ${org}\n${yaml}`, 'bench config');
  const pagerduty = base.args.pagerduty;
  if (pagerduty.mode !== 'events') throw new Error('the bench uses PagerDuty events mode');
  return {
    ...base,
    args: {
      ...base.args,
      datadog: { ...base.args.datadog, baseUrl: dd.url },
      pagerduty: { ...pagerduty, eventsServer: stack.pagerduty.eventsServer, caFile: stack.pagerduty.caFile },
    },
  };
}

async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}

interface RunOutcome {
  workflowId: string;
  runId: string;
  result?: RunResult;
  error?: string;
  wallMs: number;
  historyEvents: number;
  historyBytes: number;
  scanActivityMs?: number;
}

function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!ts) return Number.NaN;
  return Number(String(ts.seconds ?? 0)) * 1000 + (ts.nanos ?? 0) / 1e6;
}

/** History of one run: event count, protobuf-encoded size (temporal.api.history.v1.History), scan activity time. */
async function historyOf(client: Client, workflowId: string, runId: string) {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const bytes = temporal.api.history.v1.History.encode(history).finish().length;
  let scanActivityMs: number | undefined;
  const scanScheduled = new Set<number>();
  const startedAt = new Map<number, number>();
  for (const event of events) {
    const id = Number(String(event.eventId));
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'scanAuditEvents') scanScheduled.add(id);
    const startedAttrs = event.activityTaskStartedEventAttributes;
    if (startedAttrs && scanScheduled.has(Number(String(startedAttrs.scheduledEventId)))) startedAt.set(Number(String(startedAttrs.scheduledEventId)), timestampMs(event.eventTime));
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && startedAt.has(Number(String(completed.scheduledEventId)))) {
      scanActivityMs = (scanActivityMs ?? 0) + timestampMs(event.eventTime) - startedAt.get(Number(String(completed.scheduledEventId)))!;
    }
  }
  return { historyEvents: events.length, historyBytes: bytes, scanActivityMs };
}

/**
 * Triggers the (paused) schedule once and waits for that run; wall time is the server's start-to-close time.
 * With failOnRetry, a scan activity that needs a second attempt ends the wait at once: the run is terminated and the
 * first attempt's failure reported (a benchmark run that only completes after retries measures the retries).
 */
async function triggerAndWait(client: Client, scheduleId: string, timeoutMs: number, failOnRetry = false): Promise<RunOutcome> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger();
  const deadline = Date.now() + timeoutMs;
  let started: { workflowId: string; firstExecutionRunId: string } | undefined;
  while (!started && Date.now() < deadline) {
    started = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.firstExecutionRunId))?.action.workflow;
    if (!started) await sleep(100);
  }
  if (!started) throw new Error(`schedule ${scheduleId} did not start a run`);
  const wf = client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
  let result: RunResult | undefined;
  let error: string | undefined;
  let settled = false;
  const watchRetries = async (): Promise<never> => {
    while (!settled) {
      await sleep(1_000);
      if (settled) break;
      const pending = (await wf.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
      const retried = pending.find((activity) => (activity.attempt ?? 1) >= 2);
      if (retried) {
        const failure = retried.lastFailure;
        throw new Error(`activity ${retried.activityType?.name} attempt 1 failed and is being retried: ${failure?.message ?? 'no failure message'}` +
          (failure?.timeoutFailureInfo ? ` (timeout type ${failure.timeoutFailureInfo.timeoutType})` : ''));
      }
    }
    return new Promise<never>(() => undefined);
  };
  try {
    result = (await Promise.race([
      wf.result(),
      sleep(Math.max(1_000, deadline - Date.now())).then(() => Promise.reject(new Error(`no result within ${timeoutMs / 1000} s`))),
      ...(failOnRetry ? [watchRetries()] : []),
    ])) as RunResult;
  } catch (failure) {
    error = String((failure as Error).message ?? failure);
    await wf.terminate(`bench: ${error}`).catch(() => undefined);
  } finally {
    settled = true;
  }
  const description = await wf.describe();
  const wallMs = (description.closeTime?.getTime() ?? Date.now()) - description.startTime.getTime();
  return { workflowId: started.workflowId, runId: started.firstExecutionRunId, result, ...(error ? { error } : {}), wallMs, ...(await historyOf(client, started.workflowId, started.firstExecutionRunId)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Full scheduled runs: quiet, busy (200k events), bare pagination of the same pages

interface FullRep {
  quiet: RunOutcome;
  busy: RunOutcome;
  busyEventsServed: number;
  datadogCalls: number;
  pages: number;
  read: number;
  pagination: { ms: number; pages: number; events: number; calls: number };
  wallRatio: number;
  /** The same pages through the scan's own reader, bytes framed and no event parsed: the least a reader can do. */
  bytePagination: { ms: number; pages: number; events: number; calls: number };
  wallRatioVsBytes: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
  rssAfterMb: number;
  memory: MemoryWatched;
}

/** Events for a first (look-back) run triggered now: inside [now − 15 min − 1 min, now − 1 min), with margins. */
function lookbackSpan(now: number): { from: number; to: number } {
  return { from: now - 16 * MIN + 45_000, to: now - MIN - 15_000 };
}

async function quietRun(stack: Stack, rep: number): Promise<RunOutcome> {
  const config = configFor(stack, stack.ddRun, 'bench-quiet', 'schedule:\n  paused: true\n');
  stack.ddRun.clear();
  const span = lookbackSpan(Date.now());
  stack.ddRun.addEvents(quietRunEvents(2_000, span.from, span.to, 11 + rep));
  await deleteSchedule(stack.client, config.schedule.scheduleId);
  await applySchedule(stack.client, config);
  const outcome = await triggerAndWait(stack.client, config.schedule.scheduleId, 2 * MIN);
  await deleteSchedule(stack.client, config.schedule.scheduleId);
  if (outcome.error) throw new Error(`the quiet run failed: ${outcome.error}`);
  return outcome;
}

interface BusyFailure {
  events: number;
  error: string;
  /** From the trigger to the moment the bench saw the retry and terminated the run. */
  failedAfterS: number;
  datadogCalls: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
}

/**
 * The busy run reads its 15-minute look-back; the wide run one 30-minute window (the longest one scan reads, maxChunk)
 * of `wideWindowEvents`: as many people as the busy run at 1,000,000 events, five times the events of its default.
 */
async function busyRun(stack: Stack, rep: number, busyEvents: number, shape: 'busy' | 'wide' = 'busy'): Promise<Omit<FullRep, 'quiet'> | BusyFailure> {
  const wide = shape === 'wide';
  const config = configFor(stack, stack.ddRun, wide ? 'bench-wide' : 'bench-busy', `schedule:\n  paused: true\n${wide ? '  lookback: 30m\n' : ''}`);
  stack.ddRun.clear();
  if (wide) {
    const now = Date.now();
    stack.ddRun.addEvents(wideWindowEvents(busyEvents, now - 31 * MIN + 20_000, now - MIN - 20_000, 13 + rep));
  } else {
    const span = lookbackSpan(Date.now());
    stack.ddRun.addEvents(busyRunEvents(busyEvents, Math.round(busyEvents / 10), span.from, span.to, 7 + rep));
  }
  await deleteSchedule(stack.client, config.schedule.scheduleId);
  await applySchedule(stack.client, config);

  await stack.gc();
  await sleep(300);
  const before = procMemory(stack.workerPid)!;
  const canResetPeak = resetPeakRss(stack.workerPid);
  let peak = before.rssMb;
  const stopWatching = stack.watchMemory();
  const sampler = setInterval(() => {
    const now = procMemory(stack.workerPid);
    if (now && now.rssMb > peak) peak = now.rssMb;
  }, 50);
  stack.ddRun.resetRequests();
  const triggeredAt = Date.now();
  let busy: RunOutcome;
  try {
    busy = await triggerAndWait(stack.client, config.schedule.scheduleId, 8 * MIN, true);
  } finally {
    clearInterval(sampler);
  }
  const memory = await stopWatching();
  const after = procMemory(stack.workerPid)!;
  if (canResetPeak) peak = Math.max(peak, after.hwmMb);
  const datadogCalls = stack.ddRun.requests.filter((r) => r.path === SEARCH_PATH).length;
  await deleteSchedule(stack.client, config.schedule.scheduleId);
  if (busy.error || !busy.result) {
    const failedAfterS = (Date.now() - triggeredAt) / 1000;
    // The terminated run's activity attempt still runs in the worker; with the events gone its next page is empty and
    // it ends. Wait until the simulator has seen no search for 3 s, so the next measurement has the worker to itself.
    stack.ddRun.clear();
    await untilQuiet(stack.ddRun, 3_000, 3 * MIN);
    return { events: busyEvents, error: busy.error ?? 'no result', failedAfterS, datadogCalls, rssBeforeMb: before.rssMb, rssPeakMb: peak, rssGrowthMb: peak - before.rssMb };
  }
  const result = busy.result;

  // Bare pagination: same client library and configuration, same query, window, page size and sort; no detection.
  const { args } = config;
  const query = auditQueryFor(args.detection.rules, args.detection.readOnlyActions, args.datadog.query);
  const body: v2.AuditLogsSearchEventsRequest = {
    filter: { query, from: result.window.from, to: result.window.to },
    page: { limit: args.datadog.pageLimit },
    sort: 'timestamp',
  };
  stack.ddRun.resetRequests();
  const pagination = await stack.paginate(args.datadog, body);
  if (pagination.events !== result.counts.read) {
    log(`warning: bare pagination read ${pagination.events} events, the run ${result.counts.read}`);
  }
  stack.ddRun.resetRequests();
  const bytePagination = await stack.paginate(args.datadog, body, true);
  return {
    busy,
    busyEventsServed: pagination.events,
    datadogCalls,
    pages: result.counts.pages,
    read: result.counts.read,
    pagination,
    wallRatio: busy.wallMs / pagination.ms,
    bytePagination,
    wallRatioVsBytes: busy.wallMs / bytePagination.ms,
    rssBeforeMb: before.rssMb,
    rssPeakMb: peak,
    rssGrowthMb: peak - before.rssMb,
    rssAfterMb: after.rssMb,
    memory,
  };
}

/**
 * What the busy run's RSS growth is made of, from the worker's own sampling (the repetition whose growth is nearest the
 * median): at the moment of its RSS peak, each part's growth over the sample after the GC before the run. `other` is
 * what neither V8's heap nor its Buffers hold: the SDK's native core, code, thread stacks, allocator slack.
 */
function memoryBreakdown(full: Array<Pick<FullRep, 'rssGrowthMb' | 'memory'>>): Record<string, number> {
  const { before, atPeak, max } = nearestMedianGrowth(full).memory;
  const grew = (key: keyof MemorySample) => round(atPeak[key] - before[key], 1);
  const other = atPeak.rss - atPeak.heapTotal - atPeak.external - (before.rss - before.heapTotal - before.external);
  return {
    rss: grew('rss'), heap_total: grew('heapTotal'), new_space: grew('newSpace'), old_space: grew('oldSpace'),
    large_objects: grew('largeObjects'), external: grew('external'), other: round(other, 1),
    heap_total_max: round(max.heapTotal - before.heapTotal, 1), new_space_max: round(max.newSpace, 1),
  };
}

/** The repetition whose RSS growth is nearest the median of them all: it stands for the others. */
function nearestMedianGrowth<T extends { rssGrowthMb: number }>(reps: T[]): T {
  const middle = median(reps.map((r) => r.rssGrowthMb));
  return [...reps].sort((a, b) => Math.abs(a.rssGrowthMb - middle) - Math.abs(b.rssGrowthMb - middle))[0];
}

async function untilQuiet(dd: DatadogSimulator, quietMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const last = dd.requests.reduce((max, r) => Math.max(max, r.at), 0);
    if (Date.now() - last >= quietMs) return;
    await sleep(250);
  }
}

function isFailure(value: Omit<FullRep, 'quiet'> | BusyFailure): value is BusyFailure {
  return 'error' in value;
}

interface ScanProfile {
  events: number;
  pages: number;
  foldMs: number;
  checkpointMaxMs: number;
  checkpointEveryMs: number;
  finishMs: number;
  maxSnapshotChars: number;
  stateBytes: number;
  stateActors: number;
  stateEmptyActors: number;
  stateHits: number;
  maxHitsTotal: number;
}

async function scanProfile(events: number): Promise<ScanProfile> {
  const out = await runChild(process.execPath, ['--max-old-space-size=4096', join(__dirname, 'scan-profile.js'), String(events), '1000'], { timeoutMs: 5 * MIN });
  return lastJsonLine(out) as unknown as ScanProfile;
}

// ---------------------------------------------------------------------------------------------------------------
// Time to page, on the schedule's normal 5-minute interval

interface PageResult {
  timeToPageS: number;
  landedAt: string;
  pagedAt: string;
  intervalS: number;
  ingestionDelayS: number;
  boundS: number;
  severity?: string;
  pagingRun?: { workflowId: string; scheduledAt: string; historyEvents: number; historyBytes: number };
  error?: string;
}

interface PagePlan {
  /** When the measured run is due: the page should arrive a little after this. */
  dueAt: number;
  done: Promise<PageResult>;
}

/**
 * A schedule at the normal interval (5 min, ingestion delay 1 min). Three role grants by one actor land in real time,
 * 20 s apart; the third crosses the threshold (3 → error). The last lands 58 s before a schedule tick, just after the
 * edge of that tick's window (tick − ingestion delay), so the tick sees two grants and stays quiet, and the next tick
 * pages: the worst phase, which is what the bound interval + ingestion delay + 15 s is about.
 */
function startTimeToPage(stack: Stack): PagePlan {
  const config = configFor(stack, stack.ddPage, 'bench-page');
  const { intervalMs, ingestionDelayMs } = config.args.cadence;
  const actor = { id: 'u-page', email: 'Eve.Burst@Example.com', name: 'Eve Burst' };
  const now = Date.now();
  const tick = Math.ceil((now + 120_000) / intervalMs) * intervalMs;
  const landing = tick - ingestionDelayMs + 2_000;
  const dueAt = tick + intervalMs;
  const done = (async (): Promise<PageResult> => {
    stack.ddPage.addEvents(quietRunEvents(300, now - 15 * MIN, now, 5));
    await deleteSchedule(stack.client, config.schedule.scheduleId);
    await applySchedule(stack.client, config);
    log(`time to page: schedule ${config.schedule.scheduleId} every ${intervalMs / 1000} s; burst lands at ${new Date(landing).toISOString()}, page expected after ${new Date(dueAt).toISOString()}`);
    for (const offset of [40_000, 20_000]) {
      await sleep(Math.max(0, landing - offset - Date.now()));
      stack.ddPage.addEvents([auditEvent(Date.now(), actor, ACTIONS.roleGrant)]);
    }
    await sleep(Math.max(0, landing - Date.now()));
    const landedAt = Date.now();
    stack.ddPage.addEvents([auditEvent(landedAt, actor, ACTIONS.roleGrant)]);
    const bound = intervalMs + ingestionDelayMs + 15_000;
    const deadline = landedAt + bound + 2 * MIN;
    const base = { landedAt: new Date(landedAt).toISOString(), intervalS: intervalMs / 1000, ingestionDelayS: ingestionDelayMs / 1000, boundS: bound / 1000 };
    try {
      while (Date.now() < deadline) {
        const incident = stack.pagerduty.incidents.find((i) => JSON.stringify(i.alerts[0]?.payload ?? {}).includes('eve.burst@example.com'));
        if (incident) {
          const pagedAt = Date.parse(incident.createdAt);
          let pagingRun: PageResult['pagingRun'];
          const actions = (await stack.client.schedule.getHandle(config.schedule.scheduleId).describe()).info.recentActions;
          for (const action of actions.reverse()) {
            const handle = stack.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
            const run = (await handle.result().catch(() => undefined)) as RunResult | undefined;
            if (run?.incidents.some((i) => i.actor === 'eve.burst@example.com')) {
              const history = await historyOf(stack.client, action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
              pagingRun = { workflowId: action.action.workflow.workflowId, scheduledAt: run.scheduledAt, historyEvents: history.historyEvents, historyBytes: history.historyBytes };
              break;
            }
          }
          return { ...base, timeToPageS: (pagedAt - landedAt) / 1000, pagedAt: incident.createdAt, severity: incident.severity, ...(pagingRun ? { pagingRun } : {}) };
        }
        await sleep(100);
      }
      return { ...base, timeToPageS: Number.NaN, pagedAt: '', error: `no incident within ${(deadline - landedAt) / 1000} s of landing` };
    } finally {
      await deleteSchedule(stack.client, config.schedule.scheduleId).catch(() => undefined);
    }
  })();
  return { dueAt, done };
}

// ---------------------------------------------------------------------------------------------------------------
// Report

interface Report {
  machine: Machine & { python?: string };
  options: Options;
  dataset?: CoreDataset;
  core?: CoreResult;
  elastalert?: ElastAlertResult;
  full: FullRep[];
  /** The wide-window run (the repetition nearest the median, or the one that failed): memory over --wide-events events. */
  wide?: Omit<FullRep, 'quiet'> | BusyFailure;
  /** Every wide-window repetition's RSS growth; `wide` is the repetition nearest their median. */
  wideGrowthAll: number[];
  /** The busy run at the requested volume, when it did not complete (the full runs then use the fallback volume). */
  busyFailure?: BusyFailure;
  scanProfiles: ScanProfile[];
  /** Catalog v3's extra cost on the located sample day (bench/v3-cost.ts). */
  v3?: V3Cost;
  page?: PageResult;
  durationS: number;
}

function targets(json: Record<string, unknown>) {
  const n = (key: string) => json[key] as number | null;
  const has = (...keys: string[]) => keys.every((key) => typeof json[key] === 'number' && Number.isFinite(json[key] as number));
  const all = [
    { name: 'core ≥ 50% of the read-only floor', keys: ['core_ratio_vs_floor'], value: () => `${round(n('core_ratio_vs_floor')! * 100, 1)}%`, met: () => n('core_ratio_vs_floor')! >= 0.5 },
    { name: 'core ≥ 20× ElastAlert2', keys: ['ratio_vs_elastalert2'], value: () => `${round(n('ratio_vs_elastalert2')!, 1)}×`, met: () => n('ratio_vs_elastalert2')! >= 20 },
    { name: 'run wall / bare pagination ≤ 1.1', keys: ['run_wall_ratio_vs_pagination'], value: () => `${round(n('run_wall_ratio_vs_pagination')!, 2)}`, met: () => n('run_wall_ratio_vs_pagination')! <= 1.1 },
    { name: 'worker RSS growth < 64 MB', keys: ['rss_growth_mb'], value: () => `${round(n('rss_growth_mb')!, 1)} MB over ${fmtInt(n('rss_growth_events') ?? 0)} events`, met: () => n('rss_growth_mb')! < 64 },
    { name: 'worker RSS growth over the wide window ≤ 1.25× the busy run\'s', keys: ['rss_growth_mb_1m', 'rss_growth_mb'], value: () => `${round(n('rss_growth_mb_1m')!, 1)} MB over ${fmtInt(n('rss_growth_events_1m') ?? 0)} events: ${round(n('rss_growth_mb_1m')! / n('rss_growth_mb')!, 2)}×`, met: () => n('rss_growth_mb_1m')! <= 1.25 * n('rss_growth_mb')! },
    { name: 'Datadog calls ≤ pages + 1', keys: ['datadog_calls', 'pages'], value: () => `${n('datadog_calls')} calls for ${n('pages')} pages`, met: () => n('datadog_calls')! <= n('pages')! + 1 },
    { name: 'history events: busy run = quiet run', keys: ['history_events_busy', 'history_events_quiet'], value: () => `${n('history_events_busy')} vs ${n('history_events_quiet')}`, met: () => n('history_events_busy') === n('history_events_quiet') },
    { name: 'history events: quiet run ≤ 40', keys: ['history_events_quiet'], value: () => `${n('history_events_quiet')}`, met: () => n('history_events_quiet')! <= 40 },
    { name: 'time to page ≤ interval + ingestion delay + 15 s', keys: ['time_to_page_s', 'time_to_page_bound_s'], value: () => `${round(n('time_to_page_s')!, 1)} s (bound ${n('time_to_page_bound_s')} s)`, met: () => n('time_to_page_s')! <= n('time_to_page_bound_s')! },
  ];
  const list = all.filter((t) => has(...t.keys)).map((t) => ({ name: t.name, value: t.value(), met: t.met() }));
  const atVolume = json.busy_run_at_requested_volume as { completed: boolean; events?: number; error?: string } | undefined;
  if (atVolume && !atVolume.completed && atVolume.events) {
    list.splice(2, 0, { name: `the scheduled run over ${fmtInt(atVolume.events)} events completes`, value: 'it did not (see above); the run figures below are over fewer events', met: false });
  }
  return list;
}

function summarize(report: Report): Record<string, unknown> {
  const { core, elastalert, full, page } = report;
  const med = (pick: (rep: FullRep) => number) => (full.length ? median(full.map(pick)) : Number.NaN);
  return {
    core_events_per_s: core ? round(core.eventsPerS, 0) : null,
    elastalert2_events_per_s: elastalert ? round(elastalert.events_per_s, 0) : null,
    ratio_vs_elastalert2: core && elastalert ? round(core.eventsPerS / elastalert.events_per_s, 2) : null,
    core_ratio_vs_floor: core ? round(core.eventsPerS / core.readFieldsOnlyEventsPerS, 3) : null,
    run_wall_ratio_vs_pagination: round(med((r) => r.wallRatio), 3),
    run_wall_ratio_vs_byte_pagination: full.length ? round(med((r) => r.wallRatioVsBytes), 3) : null,
    // Memory is about the requested volume: when that run did not complete, its first attempt still read the pages
    // and folded them, and its growth is the figure; the completed runs' growth is given beside it.
    rss_growth_mb: report.busyFailure ? round(report.busyFailure.rssGrowthMb, 1) : round(med((r) => r.rssGrowthMb), 1),
    rss_growth_events: report.busyFailure ? report.busyFailure.events : full.length ? med((r) => r.busyEventsServed) : null,
    rss_growth_mb_completed_runs: round(med((r) => r.rssGrowthMb), 1),
    rss_growth_breakdown_mb: full.length ? memoryBreakdown(full) : null,
    rss_growth_mb_1m: report.wide ? round(isFailure(report.wide) ? report.wide.rssGrowthMb : median(report.wideGrowthAll), 1) : null,
    rss_growth_mb_1m_all: report.wide ? report.wideGrowthAll.map((mb) => round(mb, 1)) : null,
    rss_growth_breakdown_mb_1m: report.wide && !isFailure(report.wide) ? memoryBreakdown([report.wide]) : null,
    rss_growth_events_1m: report.wide ? (isFailure(report.wide) ? report.wide.events : report.wide.busyEventsServed) : null,
    rss_growth_1m_people: report.wide ? Math.ceil(report.options.wideEvents / WIDE_EVENTS_PER_PERSON) : null,
    wide_run: report.wide
      ? isFailure(report.wide)
        ? { completed: false, error: report.wide.error }
        : { completed: true, run_wall_s: round(report.wide.busy.wallMs / 1000, 3), pagination_wall_s: round(report.wide.pagination.ms / 1000, 3), run_wall_ratio_vs_pagination: round(report.wide.wallRatio, 3),
          rss_before_mb: round(report.wide.rssBeforeMb, 1), rss_peak_mb: round(report.wide.rssPeakMb, 1), pages: report.wide.pages }
      : null,
    datadog_calls: med((r) => r.datadogCalls),
    pages: med((r) => r.pages),
    history_events_quiet: med((r) => r.quiet.historyEvents),
    history_events_busy: med((r) => r.busy.historyEvents),
    history_bytes_quiet: med((r) => r.quiet.historyBytes),
    history_bytes_busy: med((r) => r.busy.historyBytes),
    time_to_page_s: page && Number.isFinite(page.timeToPageS) ? round(page.timeToPageS, 2) : null,
    time_to_page_bound_s: page?.boundS ?? null,
    repetitions: {
      core: core?.repetitions ?? 0,
      elastalert2: elastalert?.repetitions ?? 0,
      full_run: full.length,
      time_to_page: page && Number.isFinite(page.timeToPageS) ? 1 : 0,
    },
    core_events: core?.events ?? null,
    core_runs: core?.runs ?? null,
    core_classify_only_events_per_s: core ? round(core.classifyOnlyEventsPerS, 0) : null,
    core_one_scan_events_per_s: core ? round(core.oneScanEventsPerS, 0) : null,
    core_read_fields_only_events_per_s: core ? round(core.readFieldsOnlyEventsPerS, 0) : null,
    core_bare_events_per_s: core ? round(core.bareCoreEventsPerS, 0) : null,
    core_bare_ratio_vs_floor: core ? round(core.bareCoreEventsPerS / core.readFieldsOnlyEventsPerS, 3) : null,
    v3_events_read: report.v3 ? report.v3.v3.eventsRead : null,
    v3_events_read_without_v3_rules: report.v3 ? report.v3.v2.eventsRead : null,
    v3_pages_ratio: report.v3 ? round(report.v3.pagesRatio, 3) : null,
    v3_scan_time_ratio: report.v3 ? round(report.v3.scanTimeRatio, 3) : null,
    v3_sample: report.v3 ? { days: V3_SAMPLE_DAYS, events: report.v3.events, runs: report.v3.runs, replay_ms: { without_v3: round(report.v3.v2.replayMs, 1), with_v3: round(report.v3.v3.replayMs, 1) }, incidents: { without_v3: report.v3.v2.incidents, with_v3: report.v3.v3.incidents }, baseline_persons: report.v3.v3.persons } : null,
    core_incident_actions: core?.incidentActions ?? null,
    elastalert2_matches: elastalert?.matches ?? null,
    core_events_per_s_all: core?.msPerRep.map((ms) => round((core.events / ms) * 1000, 0)) ?? null,
    elastalert2_events_timed: elastalert?.events_timed ?? null,
    elastalert2_events_per_s_all: elastalert ? elastalert.seconds_per_rep.map((s) => round(elastalert.events_timed / s, 0)) : null,
    elastalert2_version: elastalert?.elastalert2_version ?? null,
    busy_events_served: med((r) => r.busyEventsServed),
    run_wall_s: round(med((r) => r.busy.wallMs) / 1000, 3),
    scan_activity_s: round(med((r) => r.busy.scanActivityMs ?? Number.NaN) / 1000, 3),
    pagination_wall_s: round(med((r) => r.pagination.ms) / 1000, 3),
    byte_pagination_wall_s: full.length ? round(med((r) => r.bytePagination.ms) / 1000, 3) : null,
    run_wall_ratio_all: full.map((r) => round(r.wallRatio, 3)),
    rss_growth_mb_all: full.map((r) => round(r.rssGrowthMb, 1)),
    rss_before_mb: round(med((r) => r.rssBeforeMb), 1),
    rss_peak_mb: round(med((r) => r.rssPeakMb), 1),
    quiet_run_wall_s: round(med((r) => r.quiet.wallMs) / 1000, 3),
    paging_run_history_events: page?.pagingRun?.historyEvents ?? null,
    worker_log: { payload_limit_errors: workerLog.payloadLimit, completions_refused: workerLog.completionRefused },
    busy_events_requested: report.options.busyEvents,
    busy_run_at_requested_volume: report.busyFailure
      ? { completed: false, events: report.busyFailure.events, error: report.busyFailure.error, failed_after_s: round(report.busyFailure.failedAfterS, 1),
        datadog_calls_until_then: report.busyFailure.datadogCalls, rss_growth_mb: round(report.busyFailure.rssGrowthMb, 1) }
      : { completed: full.length > 0 },
    scan_profiles: report.scanProfiles.map((p) => ({
      events: p.events, pages: p.pages, fold_s: round(p.foldMs / 1000, 3), checkpoint_max_s: round(p.checkpointMaxMs / 1000, 4), finish_s: round(p.finishMs / 1000, 3),
      max_snapshot_chars: p.maxSnapshotChars, state_bytes: p.stateBytes, state_actors: p.stateActors,
      state_empty_actors: p.stateEmptyActors, state_hits: p.stateHits,
    })),
    machine: report.machine,
    duration_s: report.durationS,
  };
}

function printTable(report: Report, json: Record<string, unknown>): void {
  const { core, elastalert, full, page, machine } = report;
  const lines: string[] = [];
  const row = (label: string, value: string, note = '') => lines.push(`  ${label.padEnd(44)} ${value.padStart(22)}  ${note}`);
  lines.push('');
  lines.push(`audit-spike benchmark — ${machine.cpuModel}, ${machine.nproc} cores, ${machine.memoryGiB} GiB, node ${machine.node}` + (machine.python ? `, Python ${machine.python}` : ''));
  lines.push('');
  lines.push('Detection core vs ElastAlert2 FrequencyRule (same events, same catalog, classification timed on both sides)');
  if (core) {
    row('audit-spike core (Scan per 5-min run)', `${fmtInt(core.eventsPerS)} ev/s`, `median of ${core.repetitions} after a warm-up; ${fmtInt(core.events)} events, ${core.runs} runs`);
    row('  the same events in one single scan', `${fmtInt(core.oneScanEventsPerS)} ev/s`, 'diagnosis: per-run costs paid once');
    row('  classification alone', `${fmtInt(core.classifyOnlyEventsPerS)} ev/s`, 'diagnosis: timestamp + rule match, no folding');
    row('  reading three fields, no logic', `${fmtInt(core.readFieldsOnlyEventsPerS)} ev/s`, 'diagnosis: the floor (memory latency over a million object graphs)');
    row('  a bare core (bench/bare-core.ts)', `${fmtInt(core.bareCoreEventsPerS)} ev/s`,
      `diagnosis: classify, actor, id, windows only; ${round((core.bareCoreEventsPerS / core.readFieldsOnlyEventsPerS) * 100, 1)}% of the floor bounds the core's`);
  }
  if (elastalert) {
    row(`ElastAlert2 ${elastalert.elastalert2_version} FrequencyRule`, `${fmtInt(elastalert.events_per_s)} ev/s`, `median of ${elastalert.repetitions}; ${fmtInt(elastalert.events_timed)} events${elastalert.subset ? ' (subset)' : ''}`);
  }
  if (core && elastalert) row('ratio', `${round(core.eventsPerS / elastalert.events_per_s, 2)}×`, 'target ≥ 20×');
  if (report.v3) {
    const v3 = report.v3;
    lines.push('');
    lines.push(`Catalog v3's extra cost: the located sample day (${V3_SAMPLE_DAYS} days of 5-minute runs, ${fmtInt(v3.events)} events), with and without the v3 rules`);
    row('events the query reads', `${fmtInt(v3.v3.eventsRead)} vs ${fmtInt(v3.v2.eventsRead)}`, `×${round(v3.eventsReadRatio, 1)} (the learning set: logins and changes with geoip)`);
    row('pages', `${fmtInt(v3.v3.pages)} vs ${fmtInt(v3.v2.pages)}`, `×${round(v3.pagesRatio, 3)} (at most ${fmtInt(PAGE_EVENTS)} events a page)`);
    row('scan time over every run', `${round(v3.v3.replayMs, 1)} vs ${round(v3.v2.replayMs, 1)} ms`, `×${round(v3.scanTimeRatio, 2)}; incidents ${v3.v3.incidents} vs ${v3.v2.incidents}, ${v3.v3.persons} baselines`);
  }
  if (report.busyFailure) {
    const f = report.busyFailure;
    lines.push('');
    lines.push(`Busy run over ${fmtInt(f.events)} events: DID NOT COMPLETE`);
    lines.push(`  ${f.error}`);
    row('  seen after', `${round(f.failedAfterS, 1)} s`, 'then terminated by the bench');
    row('  worker RSS growth until then', `${round(f.rssGrowthMb, 1)} MB`, `${round(f.rssBeforeMb, 1)} → ${round(f.rssPeakMb, 1)} MB`);
    row('  Datadog search calls until then', `${f.datadogCalls}`);
    row('  worker log: payload-limit errors', `${workerLog.payloadLimit}`, `TMPRL1103; completions refused: ${workerLog.completionRefused}`);
  }
  for (const p of report.scanProfiles) {
    lines.push('');
    lines.push(`Where a busy scan's time goes (${fmtInt(p.events)} events, ${p.pages} pages, no HTTP; diagnosis, not a target)`);
    row('  folding events (scan.add)', `${round(p.foldMs / 1000, 2)} s`);
    row('  one checkpoint (JSON of the progress), the dearest', `${round(p.checkpointMaxMs, 1)} ms`, `one every ${p.checkpointEveryMs / 1000} s; largest snapshot ${fmtInt(p.maxSnapshotChars)} chars (none taken above 1,000,000)`);
    row('  scan.finish()', `${round(p.finishMs / 1000, 2)} s`);
    row('  returned state', `${fmtInt(p.stateBytes)} bytes`, `${fmtInt(p.stateActors)} actors (${fmtInt(p.stateEmptyActors)} with no hits), ${fmtInt(p.stateHits)} hits (cap ${fmtInt(p.maxHitsTotal)})`);
  }
  if (full.length) {
    lines.push('');
    lines.push(`Full scheduled runs on Temporal over ${fmtInt(json.busy_events_served as number)} events (median of ${full.length})`);
    row('events served in the busy run', fmtInt(json.busy_events_served as number));
    row('busy run wall time (start → close)', `${json.run_wall_s} s`, `scan activity ${json.scan_activity_s} s`);
    row('bare pagination, same client and pages', `${json.pagination_wall_s} s`);
    row('ratio run / pagination', `${json.run_wall_ratio_vs_pagination}`, `target ≤ 1.1; each: ${(json.run_wall_ratio_all as number[]).join(', ')}`);
    row('same pages, bytes only (the scan\'s reader, no event parsed)', `${json.byte_pagination_wall_s} s`, `run / this: ${json.run_wall_ratio_vs_byte_pagination}`);
    row('worker RSS growth (child VmRSS/VmHWM)', `${json.rss_growth_mb_completed_runs} MB`, `${json.rss_before_mb} → ${json.rss_peak_mb} MB`);
    const parts = json.rss_growth_breakdown_mb as Record<string, number> | null;
    if (parts) {
      row('  of which, at the peak (worker\'s own sampling)', `heap ${parts.heap_total} MB`, `new space ${parts.new_space}, old ${parts.old_space}, large objects ${parts.large_objects}; Buffers ${parts.external}; other ${parts.other} MB`);
    }
    row('Datadog search calls / pages', `${json.datadog_calls} / ${json.pages}`, 'target ≤ pages + 1');
    row('history events quiet / busy', `${json.history_events_quiet} / ${json.history_events_busy}`, 'target equal, quiet ≤ 40');
    row('history bytes quiet / busy (proto)', `${fmtInt(json.history_bytes_quiet as number)} / ${fmtInt(json.history_bytes_busy as number)}`);
  }
  if (report.wide && !isFailure(report.wide)) {
    const w = report.wide;
    lines.push('');
    const reps = report.wideGrowthAll.length;
    lines.push(`Wide-window run: ${fmtInt(w.busyEventsServed)} events in one 30-minute window by ${fmtInt(json.rss_growth_1m_people as number)} people (median of ${reps})`);
    row('worker RSS growth (child VmRSS/VmHWM)', `${json.rss_growth_mb_1m} MB`, `each: ${(json.rss_growth_mb_1m_all as number[]).join(', ')}; busy run ${json.rss_growth_mb} MB`);
    row('  the repetition nearest the median', `${round(w.rssGrowthMb, 1)} MB`, `${round(w.rssBeforeMb, 1)} → ${round(w.rssPeakMb, 1)} MB`);
    const wideParts = json.rss_growth_breakdown_mb_1m as Record<string, number> | null;
    if (wideParts) {
      row('  of which, at the peak (worker\'s own sampling)', `heap ${wideParts.heap_total} MB`, `new space ${wideParts.new_space}, old ${wideParts.old_space}, large objects ${wideParts.large_objects}; Buffers ${wideParts.external}; other ${wideParts.other} MB`);
    }
    row('run wall / bare pagination', `${round(w.wallRatio, 3)}`, `${round(w.busy.wallMs / 1000, 2)} s / ${round(w.pagination.ms / 1000, 2)} s`);
  }
  if (page) {
    lines.push('');
    lines.push('Time to page (schedule at its normal interval, 1 repetition, worst phase)');
    if (page.error) row('time to page', 'n/a', page.error);
    else row('last event landed → PagerDuty sim received', `${round(page.timeToPageS, 1)} s`, `bound ${page.boundS} s = interval ${page.intervalS} + ingestion delay ${page.ingestionDelayS} + 15`);
  }
  lines.push('');
  lines.push('Targets');
  for (const t of targets(json)) lines.push(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.value}`);
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-bench-'));
  const report: Report = { machine: machineFacts(), options, full: [], wideGrowthAll: [], scanProfiles: [], durationS: 0 };
  let stack: Stack | undefined;
  const cleanup = async () => {
    await stack?.stop();
    stack = undefined;
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    report.machine = machineFacts(temporalCliPath());
    stack = await startStack(dir);
    const page = options.page ? startTimeToPage(stack) : undefined;
    let pageResult: PageResult | undefined;
    page?.done.then((r) => {
      pageResult = r;
      log(r.error ? `time to page: ${r.error}` : `time to page: ${round(r.timeToPageS, 1)} s`);
    }, () => undefined);

    const eventsFile = join(dir, 'core-events.jsonl');
    log(`writing ${fmtInt(options.coreEvents)} synthetic audit events`);
    report.dataset = await writeCoreDataset(eventsFile, options.coreEvents);
    log('detection core: child process, warm-up + repetitions');
    report.core = await coreBench(eventsFile, options.coreReps);
    log(`detection core: ${fmtInt(report.core.eventsPerS)} events/s`);
    if (options.elastalert) {
      report.elastalert = await elastalertBench(eventsFile, dir, options.eaReps);
      report.machine.python = report.elastalert.python;
      log(`ElastAlert2: ${fmtInt(report.elastalert.events_per_s)} events/s on ${fmtInt(report.elastalert.events_timed)} events`);
    }
    rmSync(eventsFile, { force: true });
    log('catalog v3: the located sample day, with and without the v3 rules');
    report.v3 = measureV3Cost();
    log(`catalog v3: ${fmtInt(report.v3.v3.eventsRead)} events read instead of ${fmtInt(report.v3.v2.eventsRead)}, pages ×${round(report.v3.pagesRatio, 2)}, scan time ×${round(report.v3.scanTimeRatio, 2)}`);

    // Keep the heavy phases away from the tick that should page, so neither disturbs the other.
    const clearOfPageTick = async (estimateMs: number) => {
      if (page && !pageResult && Date.now() + estimateMs + 20_000 > page.dueAt - 10_000) {
        log(`waiting for the time-to-page tick at ${new Date(page.dueAt).toISOString()} first`);
        await page.done;
      }
    };

    let busyEvents = options.busyEvents;
    let repEstimateMs = 150_000;
    for (let rep = 0; rep < options.fullReps; rep++) {
      await clearOfPageTick(repEstimateMs);
      const repStart = Date.now();
      log(`full run ${rep + 1}/${options.fullReps}: quiet run`);
      const quiet = await quietRun(stack, rep);
      log(`full run ${rep + 1}/${options.fullReps}: busy run over ${fmtInt(busyEvents)} events`);
      const busy = await busyRun(stack, rep, busyEvents);
      if (isFailure(busy)) {
        if (report.busyFailure) throw new Error(`the busy run failed again over ${fmtInt(busy.events)} events: ${busy.error}`);
        report.busyFailure = busy;
        busyEvents = Math.min(FALLBACK_BUSY_EVENTS, Math.round(busyEvents / 4));
        log(`the busy run over ${fmtInt(busy.events)} events did not complete: ${busy.error}`);
        log(`measuring the full runs over ${fmtInt(busyEvents)} events instead`);
        rep--;
        continue;
      }
      report.full.push({ quiet, ...busy });
      log(`full run ${rep + 1}: run ${round(busy.busy.wallMs / 1000, 2)} s, pagination ${round(busy.pagination.ms / 1000, 2)} s, RSS +${round(busy.rssGrowthMb, 1)} MB, history ${quiet.historyEvents}/${busy.busy.historyEvents} events`);
      repEstimateMs = Math.max(30_000, (Date.now() - repStart) * 1.5);
    }
    if (options.wide) {
      await clearOfPageTick(240_000);
      const wides: Array<Omit<FullRep, 'quiet'>> = [];
      for (let rep = 0; rep < options.wideReps; rep++) {
        log(`wide-window run ${rep + 1}/${options.wideReps} over ${fmtInt(options.wideEvents)} events (one 30-minute window)`);
        const wide = await busyRun(stack, rep, options.wideEvents, 'wide');
        if (isFailure(wide)) {
          log(`the wide-window run did not complete: ${wide.error}`);
          report.wide = wide;
          break;
        }
        wides.push(wide);
        log(`wide-window run ${rep + 1}: RSS +${round(wide.rssGrowthMb, 1)} MB, run ${round(wide.busy.wallMs / 1000, 2)} s, pagination ${round(wide.pagination.ms / 1000, 2)} s`);
      }
      report.wideGrowthAll = wides.map((wide) => wide.rssGrowthMb);
      // The repetition nearest the median stands for the others (its wall times and breakdown are printed).
      if (!report.wide && wides.length > 0) report.wide = nearestMedianGrowth(wides);
    }
    await clearOfPageTick(90_000);
    for (const events of options.diagnosis ? new Set([options.busyEvents, busyEvents]) : []) {
      log(`diagnosis: a scan of ${fmtInt(events)} busy events without HTTP (child process)`);
      report.scanProfiles.push(await scanProfile(events));
    }
    if (page) {
      if (!pageResult) log(`waiting for the time-to-page tick at ${new Date(page.dueAt).toISOString()}`);
      report.page = await page.done;
    }
  } finally {
    await cleanup();
  }
  report.durationS = Math.round((Date.now() - started) / 1000);
  const json = summarize(report);
  printTable(report, json);
  json.targets = targets(json);
  if (options.json) process.stdout.write(`${JSON.stringify(json)}\n`);
}

// Exits when done: a deadline's timer still pending (a run's or the worker's readiness) must not hold the bench for minutes.
main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

