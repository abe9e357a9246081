import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { applySchedule } from '../../src/schedule';
import type { RunResult } from '../../src/workflows/run-result';
import type { Stack } from '../support/stack';
import type { WorkerProcess } from '../support/worker-process';
import { prng, scheduledAt, type ExpectedIncident, type Fault, type Scenario } from './scenarios';

export interface ScenarioOutcome {
  label: string;
  expected: number;
  paged: number;
  missed: number;
  duplicated: number;
  faultsInjected: number;
  /** Anything else that disagrees with the reference (severity, counts, late flag), one line each. */
  problems: string[];
  runs: RunResult[];
  seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries an operation through a Temporal server restart (connection refused, unavailable) until the deadline. */
async function persist<T>(what: string, operation: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs / 1000}s: ${(error as Error).message}`);
      await sleep(500);
    }
  }
}

export function faultConfigYaml(index: number): string {
  return [
    'schedule:',
    '  paused: true', // the suite drives every run itself, by backfilling one scheduled time at a time
    '  lookback: 10m',
    'datadog:',
    '  pageLimit: 10',
    '  requestTimeout: 2s',
    '  heartbeatTimeout: 4s',
    'pagerduty:',
    '  requestTimeout: 2s',
    `# fault scenario ${index}`,
  ].join('\n');
}

/** Starts the Schedule's run for scheduled time `at` (a backfill of exactly that tick) and returns its result. */
async function runStep(client: Client, scheduleId: string, at: number, during?: () => Promise<void>): Promise<RunResult> {
  const handle = client.schedule.getHandle(scheduleId);
  await persist('backfill', () => handle.backfill({ start: new Date(at - 1000), end: new Date(at + 1000), overlap: ScheduleOverlapPolicy.BUFFER_ALL }));
  const duringDone = during?.();
  const deadline = Date.now() + 180_000;
  let workflow: { workflowId: string; firstExecutionRunId: string } | undefined;
  while (!workflow) {
    if (Date.now() > deadline) throw new Error(`${scheduleId}: no run started for ${new Date(at).toISOString()}`);
    const description = await persist('describe schedule', () => handle.describe());
    workflow = description.info.recentActions.find((action) => action.scheduledAt.getTime() === at)?.action.workflow;
    if (!workflow) await sleep(150);
  }
  await duringDone;
  const started = workflow;
  return persist('run result', () => client.workflow.getHandle(started.workflowId, started.firstExecutionRunId).result() as Promise<RunResult>, 180_000);
}

async function waitForSearches(stack: Stack, after: number, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stack.datadog.requests.filter((r) => r.at >= after && r.status === 200).length >= count) return;
    await sleep(50);
  }
}

function compare(expected: ExpectedIncident[], stack: Stack): Pick<ScenarioOutcome, 'expected' | 'paged' | 'missed' | 'duplicated' | 'problems'> {
  const problems: string[] = [];
  const byActor = new Map<string, ReturnType<Stack['pagerduty']['incidents']['slice']>>();
  for (const incident of stack.pagerduty.incidents) {
    const details = (incident.alerts[0]?.payload as { custom_details?: { actor?: string } } | undefined)?.custom_details;
    const actor = details?.actor ?? '(none)';
    byActor.set(actor, [...(byActor.get(actor) ?? []), incident]);
  }
  let missed = 0;
  let duplicated = 0;
  const expectedActors = new Set(expected.map((e) => e.actor));
  for (const want of expected) {
    const got = byActor.get(want.actor) ?? [];
    if (got.length === 0) {
      missed++;
      problems.push(`missed: ${want.actor} (${want.severity}, ${JSON.stringify(want.counts)})`);
      continue;
    }
    if (got.length > 1) {
      duplicated += got.length - 1;
      problems.push(`paged ${got.length} times: ${want.actor}`);
    }
    const incident = got[0];
    const last = incident.alerts[incident.alerts.length - 1].payload as { custom_details: { counts: Record<string, number>; late: boolean } };
    const first = incident.alerts[0].payload as { custom_details: { late: boolean } };
    if (incident.severity !== want.severity) problems.push(`${want.actor}: severity ${incident.severity}, expected ${want.severity}`);
    if (JSON.stringify(sortKeys(last.custom_details.counts)) !== JSON.stringify(sortKeys(want.counts))) {
      problems.push(`${want.actor}: counts ${JSON.stringify(sortKeys(last.custom_details.counts))}, expected ${JSON.stringify(sortKeys(want.counts))}`);
    }
    if (want.checkLate && first.custom_details.late !== want.late) problems.push(`${want.actor}: late=${first.custom_details.late}, expected ${want.late}`);
  }
  for (const [actor, got] of byActor) {
    if (!expectedActors.has(actor)) {
      duplicated += got.length;
      problems.push(`paged without a burst: ${actor}`);
    }
  }
  const paged = [...byActor.values()].reduce((sum, list) => sum + list.length, 0);
  return { expected: expected.length, paged, missed, duplicated, problems };
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** Plays one scenario: seeds the simulators, runs every step through the real Schedule with its faults, compares. */
export async function playScenario(stack: Stack, worker: WorkerProcess, scenario: Scenario): Promise<ScenarioOutcome> {
  const began = Date.now();
  const random = prng(scenario.seed ^ 0x5bd1e995);
  stack.datadog.clear();
  stack.pagerduty.clear();
  stack.pagerduty.resetFaults();
  stack.datadog.addEvents(scenario.events.filter((e) => e.arrivesAfterStep === undefined).map((e) => e.event));
  const config = stack.config(faultConfigYaml(scenario.index), `f${scenario.index}`);
  await persist('apply schedule', () => applySchedule(stack.client, config));
  const scheduleId = config.schedule.scheduleId;
  const runs: RunResult[] = [];
  let faultsInjected = 0;

  for (let step = 1; step <= scenario.steps; step++) {
    const faults: Fault[] = scenario.faults.filter((f) => f.step === step);
    if (scenario.skipped.has(step)) continue;
    let during: (() => Promise<void>) | undefined;
    const stepStart = Date.now();
    for (const fault of faults) {
      faultsInjected++;
      switch (fault.kind) {
        case 'dd-429':
          stack.datadog.failNext(429, 1 + Math.floor(random() * 3), { resetS: 1 });
          break;
        case 'dd-5xx':
          stack.datadog.failNext([500, 502, 503, 504][Math.floor(random() * 4)], 1 + Math.floor(random() * 3));
          break;
        case 'dd-timeout':
          stack.datadog.hangNext(1);
          break;
        case 'dd-duplicate-pages':
          stack.datadog.faults.duplicateAcrossPages = true;
          break;
        case 'pd-429':
          stack.pagerduty.failNext(429, 2 + Math.floor(random() * 4));
          break;
        case 'pd-5xx':
          stack.pagerduty.failNext([500, 502, 503][Math.floor(random() * 3)], 1 + Math.floor(random() * 3));
          break;
        case 'pd-outage':
          stack.pagerduty.outage(true);
          during = chain(during, async () => {
            await sleep(2_500);
            stack.pagerduty.outage(false);
          });
          break;
        case 'worker-kill':
          // Slow pages so the kill lands mid-pagination, after at least one heartbeated page.
          stack.datadog.faults.latencyMs = 250;
          during = chain(during, async () => {
            await waitForSearches(stack, stepStart, 2, 20_000);
            await worker.kill();
            stack.datadog.faults.latencyMs = 0;
            await worker.start();
          });
          break;
        case 'server-restart':
          if (random() < 0.5) await stack.server.restart();
          else during = chain(during, async () => {
            await sleep(300);
            await stack.server.restart();
          });
          break;
        case 'downtime-hour':
          break; // the skipped steps before this one are the downtime; this run catches up
      }
    }
    runs.push(await runStep(stack.client, scheduleId, scheduledAt(scenario, step), during));
    if (process.env.FAULT_DEBUG) process.stderr.write(`[faults] #${scenario.index} step ${step} ${faults.map((f) => f.kind).join(',')} ${((Date.now() - stepStart) / 1000).toFixed(1)}s: ${runs[runs.length - 1].report}\n`);
    stack.datadog.faults.duplicateAcrossPages = false;
    stack.datadog.faults.latencyMs = 0;
    stack.datadog.addEvents(scenario.events.filter((e) => e.arrivesAfterStep === step).map((e) => e.event));
  }
  stack.datadog.resetFaults();
  stack.pagerduty.resetFaults();
  await persist('delete schedule', () => stack.client.schedule.getHandle(scheduleId).delete());
  return { label: scenario.label, faultsInjected, runs, seconds: (Date.now() - began) / 1000, ...compare(scenario.expected, stack) };
}

function chain(previous: (() => Promise<void>) | undefined, next: () => Promise<void>): () => Promise<void> {
  return async () => {
    await previous?.();
    await next();
  };
}
