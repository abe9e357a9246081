import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { applySchedule } from '../../src/schedule';
import type { RunResult } from '../../src/workflows/run-result';
import type { Stack } from '../support/stack';
import type { WorkerProcess } from '../support/worker-process';
import { LOCATED_WARM_UP, prng, scheduledAt, type Fault, type Scenario } from './scenarios';

export interface ScenarioOutcome {
  label: string;
  expected: number;
  /** Of `expected`, the careful attackers of a located scenario (new country, impossible travel); the rest are bursts. */
  locatedExpected: number;
  paged: number;
  /** Of `paged`, the PagerDuty incidents of those careful attackers. */
  locatedPaged: number;
  missed: number;
  duplicated: number;
  faultsInjected: number;
  /** Anything else that disagrees with the reference (severity, counts, late flag), one line each. */
  problems: string[];
  runs: RunResult[];
  seconds: number;
  /** What the scenario did that the closing line does not show: a person's action, time abandoned past the retention. */
  notes: string[];
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

export function faultConfigYaml(scenario: Pick<Scenario, 'index' | 'mode' | 'retentionMs'> & Partial<Pick<Scenario, 'located'>>): string {
  const shortRetention = scenario.retentionMs < 7 * 86_400_000;
  return [
    'schedule:',
    '  paused: true', // the suite drives every run itself, by backfilling one scheduled time at a time
    '  lookback: 10m',
    // A catch-up past a 3-day retention reads what is left in one run (48 chunks of 6h), so the scenario stays short.
    ...(shortRetention ? ['  maxChunk: 6h'] : []),
    'datadog:',
    '  pageLimit: 10',
    '  requestTimeout: 2s',
    '  heartbeatTimeout: 4s',
    `  retention: ${Math.round(scenario.retentionMs / 86_400_000)}d`,
    'pagerduty:',
    '  requestTimeout: 2s',
    // REST mode against the simulator's account (sim/pagerduty/account.ts): its service, its policy, its bot user.
    ...(scenario.mode === 'rest' ? ['  mode: rest', '  serviceId: PSEC001', '  escalationPolicyId: PSECEP1', '  fromEmail: audit-spike@example.com'] : []),
    // A located scenario's warm-up is minutes, not 7 days: its careful attackers' history is planted within the scenario.
    // Its baselines are its own: each scenario is its own org (f<index>), and baseline shard workflows are per org.
    ...(scenario.located ? ['detection:', '  rules:', `    - { id: new_country_sensitive, learning: ${LOCATED_WARM_UP / 60_000}m }`, `    - { id: impossible_travel, learning: ${LOCATED_WARM_UP / 60_000}m }`] : []),
    `# fault scenario ${scenario.index}`,
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

/** What a person did in PagerDuty during the scenario. */
interface PersonAction {
  action: 'resolve' | 'acknowledge';
  actor: string;
  dedupKey: string;
  incidentId: string;
  at: number;
  /** The burst's severity PagerDuty had been told when the person acted. */
  severity: string;
}

const RANK: Record<string, number> = { info: 0, warning: 1, error: 2, critical: 3 };

/**
 * Compares with the planted bursts. The truth of what a burst amounts to is the runs' own records (its last trigger or
 * update: PagerDuty keeps the counts of what was last sent, and a same-severity update is not re-sent in Events mode);
 * the truth of what was paged is the PagerDuty simulator's incidents, one per burst (two when a person resolved it and
 * its severity then rose).
 */
function compare(scenario: Scenario, stack: Stack, runs: RunResult[], person: PersonAction | undefined): Pick<ScenarioOutcome, 'expected' | 'locatedExpected' | 'paged' | 'locatedPaged' | 'missed' | 'duplicated' | 'problems'> {
  const problems: string[] = [];
  const records = runs.flatMap((run) => run.incidents);
  const actorOfKey = new Map(records.map((r) => [r.dedupKey, r.actor]));
  const byActor = new Map<string, ReturnType<Stack['pagerduty']['incidents']['slice']>>();
  for (const incident of stack.pagerduty.incidents) {
    const details = (incident.alerts[0]?.payload as { custom_details?: { actor?: string } } | undefined)?.custom_details;
    const actor = actorOfKey.get(incident.dedupKey) ?? details?.actor ?? `(dedup key ${incident.dedupKey})`;
    byActor.set(actor, [...(byActor.get(actor) ?? []), incident]);
  }
  let missed = 0;
  let duplicated = 0;
  const expectedActors = new Set(scenario.expected.map((e) => e.actor));
  for (const want of scenario.expected) {
    const got = byActor.get(want.actor) ?? [];
    // Resolved by a person, then more severe: PagerDuty gets a new incident (the same key), as documented.
    const allowed = person?.action === 'resolve' && person.actor === want.actor && RANK[want.severity] > RANK[person.severity] ? 2 : 1;
    if (got.length === 0) {
      missed++;
      problems.push(`missed: ${want.actor} (${want.severity}, ${JSON.stringify(want.counts)})`);
      continue;
    }
    if (got.length > allowed) {
      duplicated += got.length - allowed;
      problems.push(`paged ${got.length} times (expected ${allowed}): ${want.actor}`);
    } else if (got.length < allowed) {
      problems.push(`paged ${got.length} times, expected ${allowed} (resolved by a person at ${person!.severity}, then ${want.severity}): ${want.actor}`);
    }
    const mine = records.filter((r) => r.actor === want.actor && (r.kind === 'trigger' || r.kind === 'update'));
    const current = mine[mine.length - 1];
    const trigger = mine.find((r) => r.kind === 'trigger');
    if (!current || !trigger) {
      problems.push(`${want.actor}: no trigger in the runs' records`);
      continue;
    }
    if (current.severity !== want.severity) problems.push(`${want.actor}: severity ${current.severity} in the runs' records, expected ${want.severity}`);
    const latest = got[got.length - 1];
    if (scenario.mode === 'events' && latest.severity !== want.severity && !(person?.actor === want.actor && person.action === 'resolve' && got.length === 1)) {
      problems.push(`${want.actor}: severity ${latest.severity} in PagerDuty, expected ${want.severity}`);
    }
    if (JSON.stringify(sortKeys(current.counts)) !== JSON.stringify(sortKeys(want.counts))) {
      problems.push(`${want.actor}: counts ${JSON.stringify(sortKeys(current.counts))}, expected ${JSON.stringify(sortKeys(want.counts))}`);
    }
    if (want.checkLate && trigger.late !== want.late) problems.push(`${want.actor}: late=${trigger.late}, expected ${want.late}`);
  }
  for (const gone of scenario.gone) {
    if (byActor.has(gone.actor)) problems.push(`paged a burst Datadog no longer held: ${gone.actor}`);
  }
  for (const [actor, got] of byActor) {
    if (!expectedActors.has(actor)) {
      duplicated += got.length;
      problems.push(`paged without a burst: ${actor}`);
    }
  }
  if (person?.action === 'resolve' && scenario.mode === 'rest') {
    // A person's resolve is final for REST mode: no PUT and no note on that incident afterwards.
    const touched = stack.pagerduty.requests.filter((r) => r.at > person.at && r.path.startsWith(`/incidents/${person.incidentId}`) && r.method !== 'GET');
    if (touched.length) problems.push(`${person.actor}: the incident a person resolved was changed again: ${touched.map((r) => `${r.method} ${r.path} ${r.status}`).join(', ')}`);
  }
  const paged = [...byActor.values()].reduce((sum, list) => sum + list.length, 0);
  const careful = scenario.expected.filter((e) => e.located);
  const locatedPaged = careful.reduce((sum, want) => sum + (byActor.get(want.actor)?.length ?? 0), 0);
  return { expected: scenario.expected.length, locatedExpected: careful.length, paged, locatedPaged, missed, duplicated, problems };
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
  const config = stack.config(faultConfigYaml(scenario), `f${scenario.index}`);
  await persist('apply schedule', () => applySchedule(stack.client, config));
  const scheduleId = config.schedule.scheduleId;
  const runs: RunResult[] = [];
  let faultsInjected = 0;
  const problems: string[] = [];
  let personFault = scenario.faults.find((f) => f.kind === 'pd-person-resolves' || f.kind === 'pd-person-acks');
  let person: PersonAction | undefined;

  for (let step = 1; step <= scenario.steps; step++) {
    const faults: Fault[] = scenario.faults.filter((f) => f.step === step);
    if (scenario.skipped.has(step)) continue;
    let during: (() => Promise<void>) | undefined;
    const stepStart = Date.now();
    // Datadog as it stood at this run's scheduled time: the org's retention counted back from then, not from now.
    stack.datadog.setRetention(Date.now() - scheduledAt(scenario, step) + scenario.retentionMs);
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
        case 'retention-catch-up':
          break; // the skipped steps before this one are a gap longer than the retention
        case 'pd-person-resolves':
        case 'pd-person-acks':
          break; // acted on right after the run that pages the target burst, below
        case 'pd-429-reset':
          stack.pagerduty.failNext(429, 1 + Math.floor(random() * 3), { resetS: 1 + Math.floor(random() * 3) });
          break;
        case 'dd-partial':
          // 1-2 partial pages are re-read; 3 or more in a row fail the attempt (retryable) and the retry resumes.
          stack.datadog.partialNext(1 + Math.floor(random() * 4));
          break;
        case 'dd-cursor-last-page':
          stack.datadog.faults.cursorOnLastPage = true;
          break;
      }
    }
    const run = await runStep(stack.client, scheduleId, scheduledAt(scenario, step), during);
    runs.push(run);
    if (personFault && scenario.personTarget !== undefined) {
      const target = scenario.expected[scenario.personTarget];
      const paged = run.incidents.find((r) => r.actor === target.actor && r.kind === 'trigger');
      if (paged) {
        const action = personFault.kind === 'pd-person-resolves' ? 'resolve' : 'acknowledge';
        try {
          const incident = action === 'resolve' ? stack.pagerduty.personResolves(paged.dedupKey) : stack.pagerduty.personAcknowledges(paged.dedupKey);
          person = { action, actor: target.actor, dedupKey: paged.dedupKey, incidentId: incident.id, at: Date.now(), severity: paged.severity };
        } catch (error) {
          problems.push(`${target.actor}: a person could not ${action} the incident: ${(error as Error).message}`);
        }
        personFault = undefined;
      }
    }
    if (scenario.gone.length && run.chunks > 1 && !run.abandoned) problems.push(`run ${step}: caught up past the retention without reporting what was abandoned`);
    if (process.env.FAULT_DEBUG) process.stderr.write(`[faults] #${scenario.index} step ${step} ${faults.map((f) => f.kind).join(',')} ${((Date.now() - stepStart) / 1000).toFixed(1)}s: ${runs[runs.length - 1].report}\n`);
    stack.datadog.faults.duplicateAcrossPages = false;
    stack.datadog.faults.latencyMs = 0;
    stack.datadog.faults.cursorOnLastPage = false;
    stack.datadog.faults.partialPages = 0;
    stack.datadog.addEvents(scenario.events.filter((e) => e.arrivesAfterStep === step).map((e) => e.event));
  }
  stack.datadog.resetFaults();
  stack.pagerduty.resetFaults();
  await persist('delete schedule', () => stack.client.schedule.getHandle(scheduleId).delete());
  if (personFault) problems.push(`the burst a person was to act on was never paged`);
  const compared = compare(scenario, stack, runs, person);
  const notes = [
    ...(person ? [`a person ${person.action}d ${person.actor}'s incident at ${person.severity}`] : []),
    ...runs.filter((r) => r.abandoned).map((r) => `run ${r.scheduledAt} abandoned ${r.abandoned!.from} → ${r.abandoned!.to}`),
  ];
  return { label: scenario.label, faultsInjected, runs, seconds: (Date.now() - began) / 1000, notes, ...compared, problems: [...problems, ...compared.problems] };
}

function chain(previous: (() => Promise<void>) | undefined, next: () => Promise<void>): () => Promise<void> {
  return async () => {
    await previous?.();
    await next();
  };
}
