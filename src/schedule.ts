import { createHash } from 'node:crypto';
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSummary,
} from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import { dataConverterFromEnv } from './codec/data-converter';
import { compactScheduleArgs } from './config/schedule-args';
import { FLEET_APPLY_DEFAULTS } from './config/fleet';
import { phaseOffsetMs } from './config/phase-offset';
import type { ResolvedConfig } from './config/resolve';
import { temporalSettings } from './temporal-connection';
import { auditSpikeWorkflow } from './workflows';
import type { RunResult } from './workflows/run-result';
import { AUDIT_SPIKE_EVENTS_READ, AUDIT_SPIKE_PAGED, AUDIT_SPIKE_SEVERITY } from './workflows/search-attributes';

export async function connectClient(env: Record<string, string | undefined> = process.env): Promise<Client> {
  const settings = temporalSettings(env);
  const connection = await Connection.connect(settings.connectionOptions as Parameters<typeof Connection.connect>[0]);
  const dataConverter = dataConverterFromEnv(env);
  return new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
}

export { phaseOffsetMs };

/**
 * The Schedule for one Datadog org. Overlap SKIP: a run still catching up is never doubled, and since every run reads from
 * the previous cursor, skipped ticks lose nothing. The catch-up window only decides whether a tick missed while Temporal
 * itself was down still runs when it returns; one such run already covers the whole gap, so a short window is enough.
 */
export function scheduleOptions(config: ResolvedConfig): ScheduleOptions {
  const { args, schedule } = config;
  return {
    scheduleId: schedule.scheduleId,
    spec: { intervals: [{ every: schedule.intervalMs, offset: phaseOffsetMs(args.orgId, schedule.intervalMs) }] },
    action: {
      type: 'startWorkflow',
      workflowType: auditSpikeWorkflow,
      // The defaults by reference (schedule-args.ts): a run's start event stores 1.5 KB of config instead of 14 KB.
      args: [compactScheduleArgs(args)],
      taskQueue: schedule.taskQueue,
      workflowId: schedule.scheduleId,
      workflowExecutionTimeout: '6 hours',
      staticSummary: `audit-spike: Datadog org "${args.orgId}" → PagerDuty (${args.pagerduty.mode} mode)`,
      staticDetails: ruleDetails(config),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: schedule.catchupWindowMs, pauseOnFailure: false },
    state: { paused: schedule.paused, note: scheduleNote(config) },
    memo: { orgId: args.orgId, managedBy: MANAGED_BY },
  };
}

/**
 * The watched rules as Temporal markdown, shown on every run's page: one line per threshold, naming its rules
 * ("3+ → error, 10+ → critical within 10 min: role_grant, api_key_create"). Stored in every run's start event, so it
 * says each threshold once rather than once per rule (#24: 0.6 KB instead of 1.1 KB with the default catalog).
 */
export function ruleDetails(config: ResolvedConfig): string {
  const byThreshold = new Map<string, string[]>();
  for (const rule of config.args.detection.rules) {
    if (!rule.enabled) continue;
    const threshold = `${rule.tiers.map((tier) => `${tier.count}+ → ${tier.severity}`).join(', ')} within ${rule.windowMs / 60_000} min`;
    byThreshold.set(threshold, [...(byThreshold.get(threshold) ?? []), rule.id]);
  }
  return [
    `Every ${config.schedule.intervalMs / 60_000} min, per actor:`,
    ...[...byThreshold].map(([threshold, ids]) => `- ${threshold}: ${ids.join(', ')}`),
  ].join('\n');
}

/** Marks Schedules `audit-spike schedule apply` owns, so it may delete them when the config stops declaring them. */
export const MANAGED_BY = 'audit-spike';

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

/** What decides a run's behaviour and timing; equal fingerprints mean an update would change nothing. */
function fingerprint(args: unknown, intervalMs: number, offsetMs: number, taskQueue: string, catchupWindowMs: number): string {
  return JSON.stringify({ args, intervalMs, offsetMs, taskQueue, catchupWindowMs });
}

function configFingerprint(config: ResolvedConfig): string {
  const { args, schedule } = config;
  return fingerprint(compactScheduleArgs(args), schedule.intervalMs, phaseOffsetMs(args.orgId, schedule.intervalMs), schedule.taskQueue, schedule.catchupWindowMs);
}

/** A short digest of the fingerprint, kept in the Schedule's note: listing Schedules shows it, so an unchanged org costs no request. */
export function configDigest(config: ResolvedConfig): string {
  return createHash('sha256').update(configFingerprint(config)).digest('hex').slice(0, 16);
}

/** The Schedule's note: who made it, and the digest of the config it was applied from (a pause or unpause replaces it). */
export function scheduleNote(config: ResolvedConfig): string {
  return `audit-spike for Datadog org "${config.args.orgId}" (config ${configDigest(config)})`;
}

function offsetOf(every: unknown, offset: unknown): number {
  return typeof every === 'number' && typeof offset === 'number' ? offset : typeof every === 'number' ? 0 : Number.NaN;
}

function describedFingerprint(current: ScheduleDescription): string | undefined {
  const interval = current.spec.intervals?.[0];
  if (current.action.type !== 'startWorkflow' || current.spec.intervals?.length !== 1 || !interval) return undefined;
  const action = current.action as { args?: unknown[]; taskQueue?: string };
  const every = typeof interval.every === 'number' ? interval.every : Number.NaN;
  return fingerprint(action.args?.[0], every, offsetOf(interval.every, interval.offset), action.taskQueue ?? '', current.policies.catchupWindow);
}

const UNCHANGED = Symbol('unchanged');

/**
 * Spaces requests to the Temporal service: at most `perSecond` start in any second (one every 1/perSecond s, no burst),
 * the way Temporal Cloud limits schedule requests (10 per second per namespace). `clock` is for tests.
 */
export class RateLimiter {
  private next = 0;
  private readonly spacingMs: number;
  constructor(
    readonly perSecond: number,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
  ) {
    if (!(perSecond > 0)) throw new RangeError(`requests per second must be above 0 (got ${perSecond})`);
    this.spacingMs = 1000 / perSecond;
  }

  /** Resolves when `count` more requests may start now. */
  async take(count = 1): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + count * this.spacingMs;
    if (at > now) await this.clock.sleep(at - now);
  }
}

export interface ApplyOptions {
  /** How many Schedules are worked on at once (default 8). */
  concurrency?: number;
  /** Requests per second to the Temporal service, all kinds counted (default 10, Temporal Cloud's schedule limit). */
  ratePerSecond?: number;
  limiter?: RateLimiter;
  /** What is known of the namespace's Schedules (from a listing): lets an unchanged Schedule cost no request at all. */
  listed?: ScheduleSummary;
}

/** Creates the Schedule, or updates it in place (keeping its history and its runs' carried cursor). */
export async function applySchedule(client: Client, config: ResolvedConfig, options: ApplyOptions = {}): Promise<ApplyOutcome> {
  const scheduleOptions_ = scheduleOptions(config);
  const limiter = options.limiter;
  const listed = options.listed;
  if (listed) {
    // Listed with this config's digest and the same timing: nothing to do, no request.
    const interval = listed.spec?.intervals?.[0];
    if (
      listed.state.note?.endsWith(`(config ${configDigest(config)})`) &&
      listed.spec?.intervals?.length === 1 && interval && interval.every === config.schedule.intervalMs &&
      offsetOf(interval.every, interval.offset) === phaseOffsetMs(config.args.orgId, config.schedule.intervalMs)
    ) return 'unchanged';
  } else {
    await limiter?.take();
    try {
      await client.schedule.create(scheduleOptions_);
      return 'created';
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    }
  }
  // One describe, and an update only when the config changed (the update function refuses to go on when it did not).
  await limiter?.take(2);
  const handle = client.schedule.getHandle(scheduleOptions_.scheduleId);
  const wanted = configFingerprint(config);
  const note = scheduleOptions_.state?.note;
  try {
    await handle.update((previous) => {
      const notePerson = previous.state.note !== undefined && !previous.state.note.startsWith('audit-spike for Datadog org');
      // A note a person left (a pause's reason) stays; an unchanged Schedule whose note lacks the digest only gets it.
      if (describedFingerprint(previous) === wanted && (notePerson || previous.state.note === note)) throw UNCHANGED;
      return {
        spec: scheduleOptions_.spec,
        action: scheduleOptions_.action,
        policies: scheduleOptions_.policies,
        // Paused or not stays as a person left it (`audit-spike schedule pause`); everything else follows the config.
        state: { ...previous.state, note: notePerson ? previous.state.note : note },
      };
    });
  } catch (error) {
    if (error === UNCHANGED) return 'unchanged';
    if (error instanceof ScheduleNotFoundError && listed) {
      // Listed, but deleted since (a listing lags): create it.
      return applySchedule(client, config, { ...options, listed: undefined });
    }
    throw error;
  }
  return 'updated';
}

export interface ReconcileChange {
  scheduleId: string;
  orgId: string;
  outcome: ApplyOutcome | 'deleted';
}

/** Runs `work` over `items` with at most `concurrency` at once; stops taking new items after the first failure. */
async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let index = 0;
  let failed: unknown;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (failed === undefined && index < items.length) {
      const item = items[index++];
      try {
        await work(item);
      } catch (error) {
        failed ??= error;
      }
    }
  });
  await Promise.all(lanes);
  if (failed !== undefined) throw failed;
}

/** gRPC codes worth another try: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE (a busy or restarting server). */
const TRANSIENT_CODES = new Set([4, 8, 14]);

export function isTransient(error: unknown): boolean {
  for (let cause = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; cause && depth < 5; cause = cause.cause as typeof cause, depth++) {
    if (typeof cause.code === 'number' && TRANSIENT_CODES.has(cause.code)) return true;
  }
  return false;
}

/**
 * Runs `work` again after a transient failure (1 s, 2 s, 4 s, 8 s; 5 attempts): on a busy cluster a Schedule's describe
 * is a query to its scheduler and can pass its deadline. Applying a Schedule is idempotent, so a repeat is safe.
 */
export async function retryTransient<T>(work: () => Promise<T>, options: { attempts?: number; sleep?: (ms: number) => Promise<void> } = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isTransient(error)) throw error;
      await sleep(1000 * 2 ** (attempt - 1));
    }
  }
}

const LIST_PAGE = 1000;

/** Every Schedule of the namespace, read page by page through the limiter. */
async function listSchedules(client: Client, limiter: RateLimiter): Promise<Map<string, ScheduleSummary>> {
  const found = new Map<string, ScheduleSummary>();
  let seen = 0;
  await limiter.take();
  for await (const summary of client.schedule.list({ pageSize: LIST_PAGE })) {
    found.set(summary.scheduleId, summary);
    if (++seen % LIST_PAGE === 0) await limiter.take();
  }
  return found;
}

/**
 * Makes the namespace hold exactly the Schedules the config declares (one per watched org): creates the missing, updates
 * the changed in place, and deletes audit-spike Schedules on the same task queue(s) that the config no longer declares.
 *
 * Built for fleets: one listing (a request per 1,000 Schedules) tells which exist and, by the digest in their note, which
 * are already up to date, so those cost no request; the rest go `concurrency` at a time, every request (list, create,
 * describe, update, delete) spaced by one limiter at `ratePerSecond`. It is idempotent, so an interrupted apply is
 * resumed by running it again: what was done is listed as unchanged. `onChange` hears each outcome as it happens.
 */
export async function reconcileSchedules(
  client: Client,
  configs: ResolvedConfig[],
  options: { prune?: boolean; onChange?: (change: ReconcileChange) => void } & Omit<ApplyOptions, 'listed'> = {},
): Promise<ReconcileChange[]> {
  const limiter = options.limiter ?? new RateLimiter(options.ratePerSecond ?? FLEET_APPLY_DEFAULTS.ratePerSecond);
  const concurrency = options.concurrency ?? FLEET_APPLY_DEFAULTS.concurrency;
  const changes: ReconcileChange[] = [];
  const record = (change: ReconcileChange) => {
    changes.push(change);
    options.onChange?.(change);
  };
  const existing = await listSchedules(client, limiter);
  await pool(configs, concurrency, async (config) => {
    const listed = existing.get(config.schedule.scheduleId);
    const outcome = await retryTransient(() => applySchedule(client, config, { limiter, ...(listed ? { listed } : {}) }));
    record({ scheduleId: config.schedule.scheduleId, orgId: config.args.orgId, outcome });
  });
  if (options.prune === false) return changes;
  const wanted = new Set(configs.map((config) => config.schedule.scheduleId));
  const queues = new Set(configs.map((config) => config.schedule.taskQueue));
  const stale = [...existing.values()].filter((summary) => !wanted.has(summary.scheduleId) && summary.memo?.managedBy === MANAGED_BY);
  await pool(stale, concurrency, async (summary) => {
    const description = await retryTransient(async () => {
      await limiter.take();
      return describeSchedule(client, summary.scheduleId);
    });
    const queue = description?.action.type === 'startWorkflow' ? description.action.taskQueue : undefined;
    if (!description || !queue || !queues.has(queue)) return;
    await limiter.take();
    await client.schedule.getHandle(summary.scheduleId).delete();
    record({ scheduleId: summary.scheduleId, orgId: String(summary.memo?.orgId ?? '?'), outcome: 'deleted' });
  });
  return changes;
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

/** How one of a Schedule's runs ended, as `audit-spike schedule describe` shows it. */
export interface RunOutcome {
  scheduledAt: Date;
  workflowId: string;
  outcome: 'paged' | 'quiet' | 'failed' | 'running' | 'timed out' | 'terminated' | 'canceled' | 'unknown';
  /** The highest severity paged. */
  severity?: string;
  eventsRead?: number;
  /** Where it came from: the run's search attributes, or its result (a namespace without the AuditSpike* attributes). */
  source: 'search attributes' | 'result' | 'status';
  /** A failed run's failure message, first line. */
  failure?: string;
}

const SEVERITY_ORDER = ['info', 'warning', 'error', 'critical'];

/**
 * How a Schedule's recent runs ended, read from Temporal: each run's status, then the AuditSpikePaged and
 * AuditSpikeSeverity search attributes the run upserted, or, in a namespace lacking them, the run's result.
 */
export async function recentRunOutcomes(client: Client, description: ScheduleDescription, count = 5): Promise<RunOutcome[]> {
  const recent = description.info.recentActions.slice(-count);
  return Promise.all(recent.map(async (action): Promise<RunOutcome> => {
    const { workflowId, firstExecutionRunId } = action.action.workflow;
    const base = { scheduledAt: action.scheduledAt, workflowId };
    const handle = client.workflow.getHandle(workflowId, firstExecutionRunId);
    let status: string;
    let attributes: TypedSearchAttributes;
    try {
      const described = await handle.describe();
      status = described.status.name;
      attributes = described.typedSearchAttributes;
    } catch {
      return { ...base, outcome: 'unknown', source: 'status' }; // past the namespace's retention
    }
    switch (status) {
      case 'RUNNING': return { ...base, outcome: 'running', source: 'status' };
      case 'TIMED_OUT': return { ...base, outcome: 'timed out', source: 'status' };
      case 'TERMINATED': return { ...base, outcome: 'terminated', source: 'status' };
      case 'CANCELLED': return { ...base, outcome: 'canceled', source: 'status' };
      case 'FAILED': {
        let failure: string | undefined;
        try {
          await handle.result();
        } catch (error) {
          const cause = (error as { cause?: { message?: string } }).cause;
          failure = String(cause?.message ?? (error as Error).message).split('\n')[0];
        }
        return { ...base, outcome: 'failed', source: 'status', ...(failure ? { failure } : {}) };
      }
      case 'COMPLETED': break;
      default: return { ...base, outcome: 'unknown', source: 'status' };
    }
    const paged = attributes.get(AUDIT_SPIKE_PAGED);
    if (typeof paged === 'boolean') {
      const severity = attributes.get(AUDIT_SPIKE_SEVERITY);
      const eventsRead = attributes.get(AUDIT_SPIKE_EVENTS_READ);
      return {
        ...base, outcome: paged ? 'paged' : 'quiet', source: 'search attributes',
        ...(paged && typeof severity === 'string' ? { severity } : {}),
        ...(typeof eventsRead === 'number' ? { eventsRead } : {}),
      };
    }
    const result = (await handle.result().catch(() => undefined)) as RunResult | undefined;
    if (!result || !Array.isArray(result.incidents)) return { ...base, outcome: 'unknown', source: 'result' };
    const pagedIncidents = result.incidents.filter((incident) => incident.kind === 'trigger' && incident.outcome?.result !== 'failed');
    const severity = pagedIncidents.map((incident) => incident.severity).sort((a, b) => SEVERITY_ORDER.indexOf(b) - SEVERITY_ORDER.indexOf(a))[0];
    return {
      ...base, outcome: pagedIncidents.length ? 'paged' : 'quiet', source: 'result',
      ...(severity ? { severity } : {}),
      ...(typeof result.counts?.read === 'number' ? { eventsRead: result.counts.read } : {}),
    };
  }));
}

/** One line per run: when it was scheduled, how it ended, and which run it is. */
export function formatRunOutcome(run: RunOutcome): string {
  const what = run.outcome === 'paged' ? `paged${run.severity ? ` (${run.severity})` : ''}` : run.outcome;
  const events = run.eventsRead === undefined ? '' : `, ${run.eventsRead} events read`;
  const failure = run.failure ? `: ${run.failure}` : '';
  return `  ${run.scheduledAt.toISOString()}  ${what}${events}${failure}  ${run.workflowId}`;
}
