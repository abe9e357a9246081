import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { applySchedule } from '../../src/schedule';
import type { RunResult } from '../../src/workflows/run-result';
import { ACTIONS, auditEvent, burst, type Actor } from '../../sim/audit-events';
import { startStack, type Stack } from '../support/stack';

const root = join(__dirname, '..', '..');
const MIN = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Ports of this file (17400-17499 is the range of #25's tests).
const HEALTH_PORT = 17451;
const METRICS_PORT = 17452;

const YAML = [
  'schedule:', '  paused: true', '  ingestionDelay: 5s', '  lookback: 20m',
  'datadog:', '  pageLimit: 25', '  requestTimeout: 5s', '  heartbeatTimeout: 4s',
].join('\n');

/** The product's worker (`audit-spike worker` from dist/) as a child process, stopped by SIGTERM as Kubernetes does. */
class Worker {
  child!: ChildProcess;
  exit!: Promise<{ code: number | null; signal: string | null; at: number }>;
  log = '';

  constructor(private readonly env: Record<string, string>, private readonly logFile: string) {}

  async start(): Promise<void> {
    const out = createWriteStream(this.logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [join(root, 'bin', 'audit-spike.js'), 'worker'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.pipe(out, { end: false });
    this.child.stderr!.pipe(out, { end: false });
    this.child.stderr!.on('data', (chunk: Buffer) => { this.log += String(chunk); });
    this.exit = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      out.end();
      resolve({ code, signal, at: Date.now() });
    }));
    const deadline = Date.now() + 60_000;
    while (!this.log.includes('polling task queue')) {
      if (this.child.exitCode !== null) throw new Error(`worker exited with ${this.child.exitCode} before polling:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`worker did not start polling within 60 s:\n${this.log}`);
      await sleep(100);
    }
  }

  async kill(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
  }
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.text() };
}

/** A run's scan activity attempts, and each one's outcome, from its history. */
async function scanAttempts(stack: Stack, workflowId: string): Promise<{ started: number[]; completed: number; failed: number }> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'scanAuditEvents').map((e) => String(e.eventId)));
  return {
    started: events.filter((e) => scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0),
    completed: events.filter((e) => scheduled.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId))).length,
    failed: events.filter((e) => scheduled.has(String(e.activityTaskFailedEventAttributes?.scheduledEventId)) || scheduled.has(String(e.activityTaskTimedOutEventAttributes?.scheduledEventId))).length,
  };
}

/**
 * #25: the worker's health endpoint, its Prometheus port, and SIGTERM mid-scan. With a grace time, the scan in flight
 * finishes on the stopping worker (one attempt) while it no longer takes new tasks and reports not ready; with a grace
 * time too short for it, the scan is given up and the next worker resumes it from its page checkpoint. Either way every
 * event is read once, and each burst is paged exactly once.
 */
describe('SIGTERM drains the worker', () => {
  let stack: Stack;
  const workers: Worker[] = [];

  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await worker.kill();
    await stack?.stop();
  }, 60_000);

  const workerEnv = (extra: Record<string, string>) => ({
    ...stack.workerEnv, TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default', AUDIT_SPIKE_TASK_QUEUE: 'audit-spike',
    AUDIT_SPIKE_LOG_LEVEL: 'WARN', ...extra,
  });

  /** Plants one burst among enough everyday events for a scan of many pages; returns how many events it planted. */
  function plant(org: string, actor: Actor): number {
    // The simulator has one store for every org: each test reads only its own events (no org filter in the query).
    stack.datadog.clear();
    const now = Date.now();
    const events = [
      ...burst(actor, ACTIONS.roleGrant, 11, now - 9 * MIN, 5 * MIN),
      // Near misses the server-side query returns (so the scan pages through them): 150 people, 2 role grants each.
      ...Array.from({ length: 300 }, (_, i) => auditEvent(now - 15 * MIN + i * 2_000, { id: `u-${org}-${i % 150}`, email: `person${i % 150}@${org}.example.com`, name: `P${i % 150}` }, ACTIONS.roleGrant)),
    ];
    stack.datadog.addEvents(events);
    return events.length;
  }

  async function startRun(org: string): Promise<string> {
    const config = stack.config(YAML, org);
    await applySchedule(stack.client, config);
    const handle = stack.client.schedule.getHandle(config.schedule.scheduleId);
    await handle.trigger();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const action = (await handle.describe()).info.recentActions[0];
      if (action) return action.action.workflow.workflowId;
      if (Date.now() > deadline) throw new Error('no run started');
      await sleep(100);
    }
  }

  async function searchesAfter(since: number, count: number, worker: Worker, workflowId: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (stack.datadog.requests.filter((r) => r.at >= since && r.path.startsWith('/api/v2/audit/events') && r.status === 200).length < count) {
      if (Date.now() > deadline) {
        const description = await stack.client.workflow.getHandle(workflowId).describe().catch((error: Error) => error.message);
        const failure = await stack.client.workflow.getHandle(workflowId).result().then(() => '', (error: Error & { cause?: Error }) => error.cause?.message ?? error.message);
        throw new Error(`fewer than ${count} Datadog pages read in 30 s (requests: ${JSON.stringify(stack.datadog.requests.slice(-3).map((r) => [r.method, r.path, r.status]))}; run: ${JSON.stringify(typeof description === 'string' ? description : description.status)} ${failure.slice(0, 2000)}); worker log:\n${worker.log.slice(-3000)}`);
      }
      await sleep(20);
    }
  }

  test('health and metrics answer; SIGTERM mid-scan finishes the scan on the stopping worker, not ready meanwhile', async () => {
    const first = new Worker(workerEnv({
      AUDIT_SPIKE_HEALTH_ADDRESS: `127.0.0.1:${HEALTH_PORT}`, AUDIT_SPIKE_METRICS_ADDRESS: `127.0.0.1:${METRICS_PORT}`, AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: '40s',
    }), join(stack.dir, 'worker-drain-1.log'));
    workers.push(first);
    await first.start();
    const health = `http://127.0.0.1:${HEALTH_PORT}`;
    expect((await get(`${health}/livez`)).status).toBe(200);
    const ready = await get(`${health}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'ok', state: 'RUNNING', workflowPoller: 'POLLING', activityPoller: 'POLLING' });
    expect((await get(`${health}/nope`)).status).toBe(404);

    const mallory = { id: 'u-mal', email: 'mallory@drain.example.com', name: 'Mallory' };
    const planted = plant('drain', mallory);
    stack.datadog.faults.latencyMs = 700; // 13 pages of 25: about 9 s of scanning
    const since = Date.now();
    const workflowId = await startRun('drain');
    await searchesAfter(since, 3, first, workflowId);

    // What the HPA reads (deploy/kubernetes): the SDK's slot gauges, on the Prometheus port.
    const metrics = await get(`http://127.0.0.1:${METRICS_PORT}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^temporal_worker_task_slots_used\{[^}]*worker_type="ActivityWorker"[^}]*\} 1$/m);
    expect(metrics.body).toMatch(/^temporal_worker_task_slots_available\{[^}]*worker_type="ActivityWorker"/m);

    const termAt = Date.now();
    first.child.kill('SIGTERM');
    // Draining: still alive (not restarted by its liveness probe), no longer ready (no new traffic, no new tasks).
    await sleep(300);
    const draining = await get(`${health}/readyz`);
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body).state).toMatch(/DRAINING|STOPPING|DRAINED/);
    expect((await get(`${health}/livez`)).status).toBe(200);

    const exited = await first.exit;
    expect(exited).toMatchObject({ code: 0, signal: null });
    expect(exited.at - termAt).toBeLessThan(40_000);
    expect(first.log).toMatch(/SIGTERM: stopped polling; draining 1 in-flight activity/);
    expect(first.log).toContain('drained and stopped');
    // The scan finished on the stopping worker: one attempt, completed, every page after the signal read by it.
    const attempts = await scanAttempts(stack, workflowId);
    expect(attempts).toEqual({ started: [1], completed: 1, failed: 0 });

    // The rest of the run (paging) waits for a worker: the next one finishes it.
    stack.datadog.faults.latencyMs = 0;
    const second = new Worker(workerEnv({}), join(stack.dir, 'worker-drain-2.log'));
    workers.push(second);
    await second.start();
    const result = (await stack.client.workflow.getHandle(workflowId).result()) as RunResult;
    expect(result.counts.read).toBe(planted);
    expect(result.counts.duplicates).toBe(0);
    const incidents = stack.pagerduty.incidents.filter((i) => i.title.includes('mallory@drain.example.com'));
    expect(incidents).toHaveLength(1);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  }, 180_000);

  test('a grace time shorter than the scan: the scan resumes on the next worker from its checkpoint, nothing lost or paged twice', async () => {
    const first = new Worker(workerEnv({ AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: '1s', AUDIT_SPIKE_SHUTDOWN_FORCE_TIME: '5s' }), join(stack.dir, 'worker-short-1.log'));
    workers.push(first);
    await first.start();
    const trent = { id: 'u-trent', email: 'trent@short.example.com', name: 'Trent' };
    const planted = plant('short', trent);
    stack.datadog.faults.latencyMs = 1_000; // 13 pages: the scan outlasts the grace (1 s) and the force time (5 s)
    const since = Date.now();
    const workflowId = await startRun('short');
    await searchesAfter(since, 3, first, workflowId);
    first.child.kill('SIGTERM');
    const exited = await first.exit;
    // Cancelled after the grace time; the process ends either cleanly or when the force time gives up.
    expect(exited.signal).toBeNull();

    stack.datadog.faults.latencyMs = 0;
    const second = new Worker(workerEnv({}), join(stack.dir, 'worker-short-2.log'));
    workers.push(second);
    await second.start();
    const result = (await stack.client.workflow.getHandle(workflowId).result()) as RunResult;
    const attempts = await scanAttempts(stack, workflowId);
    // History keeps the last attempt's start only: the scan completed once, on a later attempt than the first.
    expect(attempts.completed).toBe(1);
    expect(attempts.started).toHaveLength(1);
    expect(attempts.started[0]).toBeGreaterThanOrEqual(2);
    // The retry went on from the checkpoint: its first request carried a page cursor, not the window's first page.
    const retryRequests = stack.datadog.requests.filter((r) => r.at >= exited.at && r.path.startsWith('/api/v2/audit/events'));
    expect(retryRequests.length).toBeGreaterThan(0);
    expect(JSON.stringify(retryRequests[0])).toMatch(/cursor/);
    const searches = stack.datadog.requests.filter((r) => r.at >= since && r.path.startsWith('/api/v2/audit/events'));
    const trace = `pages ${result.counts.pages}; requests (ms after SIGTERM exit, cursor?): ${searches.map((r) => `${r.at - exited.at}${JSON.stringify(r.body ?? r.searchParams).includes('cursor') ? 'c' : ''}`).join(' ')}; first worker:\n${first.log.slice(-1500)}`;
    expect([result.counts.read, trace]).toEqual([planted, trace]);
    expect(result.counts.duplicates).toBe(0);
    expect(stack.pagerduty.incidents.filter((i) => i.title.includes('trent@short.example.com'))).toHaveLength(1);
    second.child.kill('SIGTERM');
    await second.exit;
  }, 180_000);
});
