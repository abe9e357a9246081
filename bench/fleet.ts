import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { parseFleetText } from '../src/config/fleet';
import type { ResolvedConfig } from '../src/config/resolve';
import { phaseOffsetMs, reconcileSchedules } from '../src/schedule';
import { bundleWorkflows } from '../src/workflow-bundle';
import { ACTIONS, NOISE, auditEvent } from '../sim/audit-events';
import { DatadogSimulator } from '../sim/datadog-sim';
import { PagerDutySimulator } from '../sim/pagerduty-sim';
import { machineFacts } from './machine';
import { round } from './stats';

/**
 * `npm run bench:fleet -- --orgs N --workers W [--intervals K] [--bursting B] [--json]`
 *
 * N orgs, each with its own Schedule at the real cadence (5 min, ingestion delay 1 min, offsets spread over the
 * interval), on a running Temporal server (default the production-shaped one of scripts/temporal-cluster.sh at
 * 127.0.0.1:17550, or TEMPORAL_ADDRESS), served by W real audit-spike workers (child processes, bench/worker-child.ts).
 * Every org reads its own Datadog Audit Trail: a front on one port routes /o/<org>/… to a Datadog simulator (one shared
 * by the quiet orgs, with everyday noise arriving in real time, and one per bursting org). B orgs burst in the worst
 * phase for time to page: three role grants (threshold 3 → error), the third landing just after a tick's window edge,
 * so the next tick pages. Measured over K intervals after the Schedules are applied:
 *   schedule-to-start p50/p99 (a run's start time − its TemporalScheduledStartTime), runs/s completed, the bursting
 *   orgs' time to page (last event landed → PagerDuty simulator's incident createdAt) against interval + ingestion
 *   delay + 15 s, CPU-seconds per run of the workers, the server and PostgreSQL (/proc: utime+stime, PostgreSQL's
 *   postmaster with its children, live and exited), worker RSS, PostgreSQL bytes per run (database sizes, and WAL).
 * The last line of stdout is the JSON object with --json.
 */

const args = process.argv.slice(2);
function flag(name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number`);
  return value;
}
const ORGS = flag('orgs', 200);
const WORKERS = Math.max(1, flag('workers', 1));
const INTERVALS = flag('intervals', 2);
const BURSTING = Math.min(ORGS, flag('bursting', 3));
const RATE = flag('rate', 50);
const JSON_OUT = args.includes('--json');
const ADDRESS = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:17550';
const TASK_QUEUE = 'audit-spike-fleet';
const INTERVAL_MS = 300_000;
const DELAY_MS = 60_000;
const BOUND_S = INTERVAL_MS / 1000 + DELAY_MS / 1000 + 15;
const ROOT = join(__dirname, existsSync(join(__dirname, '..', 'package.json')) ? '..' : '../..');
const CLUSTER_DATA = process.env.TEMPORAL_CLUSTER_DATA ?? join(ROOT, '.data', 'temporal-cluster');
const PG_PORT = process.env.TEMPORAL_CLUSTER_PG_PORT ?? '17590';
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

const log = (message: string) => process.stderr.write(`[bench:fleet ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CLK = 100; // USER_HZ on Linux

/** utime+stime (and, with children, cutime+cstime) of a process, in seconds; 0 when it is gone. */
function cpuSeconds(pid: number, withExitedChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3): utime is field 14, stime 15, cutime 16, cstime 17.
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return (utime + stime + (withExitedChildren ? cutime + cstime : 0)) / CLK;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssMB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

function pids(): { server?: number; postgres?: number } {
  const read = (file: string) => {
    try {
      return Number(readFileSync(file, 'utf8').split('\n')[0].trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  return { server: read(join(CLUSTER_DATA, 'server.pid')), postgres: read(join(CLUSTER_DATA, 'pg', 'postmaster.pid')) };
}

function psql(sql: string): string {
  return execFileSync('psql', ['-X', '-q', '-h', '127.0.0.1', '-p', PG_PORT, '-U', 'postgres', '-d', 'postgres', '-tAc', sql], { encoding: 'utf8' }).trim();
}

function postgresBytes(): { db: number; wal: number } | undefined {
  try {
    const [db, wal] = psql(
      "SELECT (SELECT sum(pg_database_size(datname)) FROM pg_database WHERE datname IN ('temporal','temporal_visibility'))::bigint, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
    ).split('|').map(Number);
    return { db, wal };
  } catch {
    return undefined;
  }
}

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Routes /o/<org>/… to that org's Datadog simulator, keeping the rest of the path. */
function startFront(route: (org: string) => DatadogSimulator): Promise<Server> {
  const server = createServer((req, res) => {
    const match = /^\/o\/([^/]+)(\/.*)$/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const target = new URL(route(decodeURIComponent(match[1])).url);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: match[2], headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(17585, '127.0.0.1', () => resolve(server)));
}

interface Burst {
  org: string;
  actor: string;
  /** When the third grant was added (real time, its own timestamp). */
  landedAt?: number;
  pagedAt?: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-fleet-'));
  const stoppers: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { server: serverPid, postgres: postgresPid } = pids();
    log(`Temporal at ${ADDRESS} (server pid ${serverPid ?? '?'}, PostgreSQL pid ${postgresPid ?? '?'}); ${ORGS} orgs, ${WORKERS} worker(s), ${BURSTING} bursting, ${INTERVALS} intervals`);
    const connection = await Connection.connect({ address: ADDRESS });
    stoppers.push(() => connection.close());
    const client = new Client({ connection });

    // Datadog: one simulator for the quiet orgs (everyday noise arriving in real time), one per bursting org.
    const quiet = await DatadogSimulator.start({ rateLimit: { limit: 10_000_000, periodSeconds: 60 } });
    stoppers.push(() => quiet.stop());
    const orgs = Array.from({ length: ORGS }, (_, i) => `fleet-${String(i).padStart(5, '0')}`);
    const bursts = new Map<string, { sim: DatadogSimulator; burst: Burst }>();
    // Bursting orgs spread over the interval too: every ORGS/BURSTING-th org.
    for (let b = 0; b < BURSTING; b++) {
      const org = orgs[Math.floor((b * ORGS) / BURSTING)];
      const sim = await DatadogSimulator.start({ apiKey: quiet.apiKey, appKey: quiet.appKey, rateLimit: { limit: 10_000_000, periodSeconds: 60 } });
      stoppers.push(() => sim.stop());
      bursts.set(org, { sim, burst: { org, actor: `mallory-${org}@example.com` } });
    }
    const front = await startFront((org) => bursts.get(org)?.sim ?? quiet);
    stoppers.push(() => new Promise<void>((resolve) => front.close(() => resolve())));
    const frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    const staff = Array.from({ length: 5 }, (_, i) => ({ id: `u${i}`, email: `user${i}@example.com` }));
    let noiseIndex = 0;
    const noiseTimer = setInterval(() => {
      const event = auditEvent(Date.now(), staff[noiseIndex % staff.length], NOISE[noiseIndex % NOISE.length]);
      noiseIndex++;
      quiet.addEvents([event]);
      for (const { sim } of bursts.values()) sim.addEvents([event]);
    }, 10_000);
    stoppers.push(() => clearInterval(noiseTimer));

    const pagerduty = await PagerDutySimulator.start({ tlsDir: join(dir, 'tls') });
    stoppers.push(() => pagerduty.stop());

    // Workers: the product's worker in child processes (RSS and CPU of their own).
    log('bundling the workflows');
    const bundle = await bundleWorkflows();
    const bundleFile = join(dir, 'workflow-bundle.js');
    writeFileSync(bundleFile, bundle.code);
    const workers: ChildProcess[] = [];
    let workerErrors = 0;
    for (let w = 0; w < WORKERS; w++) {
      const child = fork(join(__dirname, 'worker-child.js'), [], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: {
          ...process.env,
          BENCH_TEMPORAL_ADDRESS: ADDRESS, BENCH_TASK_QUEUE: TASK_QUEUE, BENCH_BUNDLE: bundleFile,
          DD_API_KEY: quiet.apiKey, DD_APP_KEY: quiet.appKey, PAGERDUTY_ROUTING_KEY: pagerduty.routingKeys[0],
        },
      });
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString('utf8').split('\n')) {
            if (!/WARN|ERROR|Error/.test(line)) continue;
            if (workerErrors++ < 5) process.stderr.write(`[worker ${w}] ${line.slice(0, 300)}\n`);
          }
        });
      }
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`worker ${w} exited with ${code}`)));
      });
      workers.push(child);
      stoppers.push(() => new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => { clearTimeout(timer); resolve(); });
        child.send({ type: 'stop' });
      }));
    }

    // The fleet's Schedules, each org reading its own Datadog through the front.
    const configs: ResolvedConfig[] = parseFleetText(
      [`schedule: { taskQueue: ${TASK_QUEUE}, interval: 5m, ingestionDelay: 1m }`, 'pagerduty: { mode: events, routingKeyEnv: PAGERDUTY_ROUTING_KEY }', 'orgs:', ...orgs.map((org) => `  - org: ${org}`)].join('\n'),
      'fleet bench',
    ).map((config) => ({
      ...config,
      args: {
        ...config.args,
        datadog: { ...config.args.datadog, baseUrl: `${frontUrl}/o/${config.args.orgId}` },
        pagerduty: { ...config.args.pagerduty, eventsServer: pagerduty.eventsServer, caFile: pagerduty.caFile },
      },
    }));
    const applyStart = Date.now();
    const changes = await reconcileSchedules(client, configs, { ratePerSecond: RATE, concurrency: 16 });
    const applySeconds = (Date.now() - applyStart) / 1000;
    const tally = changes.reduce<Record<string, number>>((t, c) => ({ ...t, [c.outcome]: (t[c.outcome] ?? 0) + 1 }), {});
    log(`applied ${ORGS} Schedules in ${applySeconds.toFixed(1)} s at ${RATE} requests/s: ${JSON.stringify(tally)}`);

    // Bursts in the worst phase: two grants seen by tick T (quiet), the third just after T's window edge, paged at T + interval.
    const windowStart = Date.now();
    const timers: NodeJS.Timeout[] = [];
    for (const { sim, burst } of bursts.values()) {
      const offset = phaseOffsetMs(burst.org, INTERVAL_MS);
      let tick = Math.floor((windowStart - offset) / INTERVAL_MS) * INTERVAL_MS + offset;
      while (tick - DELAY_MS - 45_000 < windowStart + 5_000) tick += INTERVAL_MS;
      const actor = { id: `u-${burst.org}`, email: burst.actor };
      const at = (time: number, last: boolean) => timers.push(setTimeout(() => {
        sim.addEvents([auditEvent(Date.now(), actor, ACTIONS.roleGrant)]);
        if (last) burst.landedAt = Date.now();
      }, time - Date.now()));
      at(tick - DELAY_MS - 40_000, false);
      at(tick - DELAY_MS - 20_000, false);
      at(tick - DELAY_MS + 2_000, true);
    }
    stoppers.push(() => timers.forEach(clearTimeout));

    // Resources over the measured window.
    const measureMs = INTERVALS * INTERVAL_MS;
    const postgresCpu = () => (postgresPid ? cpuSeconds(postgresPid, true) + childrenOf(postgresPid).reduce((sum, pid) => sum + cpuSeconds(pid), 0) : Number.NaN);
    const workerCpu = () => workers.reduce((sum, child) => sum + cpuSeconds(child.pid!), 0);
    const cpu0 = { worker: workerCpu(), server: serverPid ? cpuSeconds(serverPid) : Number.NaN, postgres: postgresCpu() };
    const bytes0 = postgresBytes();
    const rssMax = workers.map(() => 0);
    const sampler = setInterval(() => workers.forEach((child, i) => (rssMax[i] = Math.max(rssMax[i], rssMB(child.pid!)))), 5_000);
    stoppers.push(() => clearInterval(sampler));
    const measureEnd = windowStart + measureMs;
    log(`measuring until ${new Date(measureEnd).toISOString()} (${INTERVALS} intervals)`);
    while (Date.now() < measureEnd) {
      await sleep(Math.min(30_000, measureEnd - Date.now()));
      const paged = [...bursts.values()].filter(({ burst }) => pagerduty.incidents.some((i) => JSON.stringify(i.alerts[0]?.payload ?? '').includes(burst.actor))).length;
      log(`${Math.round((Date.now() - windowStart) / 1000)} s: ${paged}/${BURSTING} bursting orgs paged; worker CPU ${(workerCpu() - cpu0.worker).toFixed(0)} s`);
    }
    const cpu1 = { worker: workerCpu(), server: serverPid ? cpuSeconds(serverPid) : Number.NaN, postgres: postgresCpu() };
    const bytes1 = postgresBytes();
    // Late pages: wait up to the bound past the last landing.
    const lastLanding = Math.max(0, ...[...bursts.values()].map(({ burst }) => burst.landedAt ?? 0));
    while ([...bursts.values()].some(({ burst }) => !pagerduty.incidents.some((i) => JSON.stringify(i.alerts[0]?.payload ?? '').includes(burst.actor))) && Date.now() < lastLanding + (BOUND_S + 30) * 1000) {
      await sleep(5_000);
    }
    for (const { burst } of bursts.values()) {
      const incident = pagerduty.incidents.find((i) => JSON.stringify(i.alerts[0]?.payload ?? '').includes(burst.actor));
      if (incident) burst.pagedAt = Date.parse(incident.createdAt);
    }

    // Runs started in the window, from visibility.
    const runs: WorkflowExecutionInfo[] = [];
    const query = `WorkflowType = 'auditSpikeWorkflow' AND TaskQueue = '${TASK_QUEUE}' AND StartTime >= '${new Date(windowStart).toISOString()}' AND StartTime < '${new Date(measureEnd).toISOString()}'`;
    for await (const run of client.workflow.list({ query, pageSize: 1000 })) runs.push(run);
    const delays = runs.flatMap((run) => {
      const scheduled = run.typedSearchAttributes.get(SCHEDULED_START);
      return scheduled instanceof Date ? [run.startTime.getTime() - scheduled.getTime()] : [];
    });
    const completed = runs.filter((run) => run.status.name === 'COMPLETED' && run.closeTime && run.closeTime.getTime() <= measureEnd + 60_000);
    const failed = runs.filter((run) => run.status.name !== 'COMPLETED' && run.status.name !== 'RUNNING').length;
    const expectedRuns = Math.round((ORGS * measureMs) / INTERVAL_MS);
    const runDurations = completed.map((run) => run.closeTime!.getTime() - run.startTime.getTime());
    const timesToPage = [...bursts.values()].map(({ burst }) => (burst.landedAt && burst.pagedAt ? (burst.pagedAt - burst.landedAt) / 1000 : Number.POSITIVE_INFINITY));
    const n = completed.length || 1;
    const result = {
      bench: 'fleet',
      at: new Date().toISOString(),
      machine: machineFacts(),
      temporal: { address: ADDRESS, serverPid, postgresPid },
      orgs: ORGS, workers: WORKERS, bursting: BURSTING, intervals: INTERVALS, intervalS: INTERVAL_MS / 1000, ingestionDelayS: DELAY_MS / 1000,
      apply: { seconds: round(applySeconds, 1), ratePerSecond: RATE, outcomes: tally },
      runs: { started: runs.length, expected: expectedRuns, completed: completed.length, failedOrTimedOut: failed, perSecond: round(completed.length / (measureMs / 1000), 2) },
      scheduleToStartMs: { p50: round(percentile(delays, 50), 0), p99: round(percentile(delays, 99), 0), max: round(Math.max(...delays), 0) },
      runDurationMs: { p50: round(percentile(runDurations, 50), 0), p99: round(percentile(runDurations, 99), 0) },
      timeToPageS: { p99: round(percentile(timesToPage, 99), 1), max: round(Math.max(...timesToPage), 1), values: timesToPage.map((t) => round(t, 1)), boundS: BOUND_S },
      cpuSecondsPerRun: {
        worker: round((cpu1.worker - cpu0.worker) / n, 4),
        server: round((cpu1.server - cpu0.server) / n, 4),
        postgres: round((cpu1.postgres - cpu0.postgres) / n, 4),
        total: round((cpu1.worker - cpu0.worker + cpu1.server - cpu0.server + cpu1.postgres - cpu0.postgres) / n, 4),
      },
      cpuSecondsTotal: { worker: round(cpu1.worker - cpu0.worker, 1), server: round(cpu1.server - cpu0.server, 1), postgres: round(cpu1.postgres - cpu0.postgres, 1), windowS: measureMs / 1000 },
      workerRssMB: rssMax.map((mb) => round(mb, 0)),
      postgresBytesPerRun: bytes0 && bytes1 ? { database: Math.round((bytes1.db - bytes0.db) / n), wal: Math.round((bytes1.wal - bytes0.wal) / n) } : null,
      workerLogWarnings: workerErrors,
      sustained: timesToPage.every((t) => t <= BOUND_S) && completed.length >= expectedRuns * 0.95,
    };
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await stopAll();
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
