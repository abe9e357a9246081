import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { dataConverterFromEnv } from './codec/data-converter';
import type { ResolvedConfig } from './config/resolve';
import { temporalSettings } from './temporal-connection';
import { auditSpikeWorkflow } from './workflows';

export async function connectClient(env: Record<string, string | undefined> = process.env): Promise<Client> {
  const settings = temporalSettings(env);
  const connection = await Connection.connect(settings.connectionOptions as Parameters<typeof Connection.connect>[0]);
  const dataConverter = dataConverterFromEnv(env);
  return new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
}

/**
 * The Schedule for one Datadog org. Overlap SKIP: a run still catching up is never doubled, and since every run reads from
 * the previous cursor, skipped ticks lose nothing. The catch-up window only decides whether a tick missed while Temporal
 * itself was down still runs when it returns; one such run already covers the whole gap, so a short window is enough.
 */
export function scheduleOptions(config: ResolvedConfig): ScheduleOptions {
  const { args, schedule } = config;
  return {
    scheduleId: schedule.scheduleId,
    spec: { intervals: [{ every: schedule.intervalMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: auditSpikeWorkflow,
      args: [args],
      taskQueue: schedule.taskQueue,
      workflowId: schedule.scheduleId,
      workflowExecutionTimeout: '6 hours',
      staticSummary: `audit-spike: Datadog org "${args.orgId}" → PagerDuty (${args.pagerduty.mode} mode)`,
      staticDetails: ruleDetails(config),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: schedule.catchupWindowMs, pauseOnFailure: false },
    state: { paused: schedule.paused, note: `audit-spike for Datadog org "${args.orgId}"` },
    memo: { orgId: args.orgId, managedBy: MANAGED_BY },
  };
}

/** The watched rules as Temporal markdown, shown on every run's page. */
function ruleDetails(config: ResolvedConfig): string {
  const enabled = config.args.detection.rules.filter((rule) => rule.enabled);
  return [
    `Every ${config.schedule.intervalMs / 60_000} min, per actor:`,
    ...enabled.map((rule) => `- **${rule.id}**: ${rule.tiers.map((tier) => `${tier.count}+ → ${tier.severity}`).join(', ')} within ${rule.windowMs / 60_000} min`),
  ].join('\n');
}

/** Marks Schedules `audit-spike schedule apply` owns, so it may delete them when the config stops declaring them. */
export const MANAGED_BY = 'audit-spike';

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

/** What decides a run's behaviour; equal fingerprints mean an update would change nothing. */
function fingerprint(args: unknown, intervalMs: number, taskQueue: string, catchupWindowMs: number): string {
  return JSON.stringify({ args, intervalMs, taskQueue, catchupWindowMs });
}

/** Creates the Schedule, or updates it in place (keeping its history and its runs' carried cursor). */
export async function applySchedule(client: Client, config: ResolvedConfig): Promise<ApplyOutcome> {
  const options = scheduleOptions(config);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(options.scheduleId);
  const current = await handle.describe();
  const currentAction = current.action as { args?: unknown[]; taskQueue?: string };
  const currentInterval = current.spec.intervals?.[0]?.every;
  if (
    current.action.type === 'startWorkflow' &&
    current.spec.intervals?.length === 1 &&
    fingerprint(currentAction.args?.[0], typeof currentInterval === 'number' ? currentInterval : Number.NaN, currentAction.taskQueue ?? '', current.policies.catchupWindow) ===
      fingerprint(config.args, config.schedule.intervalMs, config.schedule.taskQueue, config.schedule.catchupWindowMs)
  ) {
    return 'unchanged';
  }
  // Paused or not stays as a person left it (`audit-spike schedule pause`); everything else follows the config.
  await handle.update((previous) => ({
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    state: { ...previous.state, note: options.state?.note },
  }));
  return 'updated';
}

export interface ReconcileChange {
  scheduleId: string;
  orgId: string;
  outcome: ApplyOutcome | 'deleted';
}

/**
 * Makes the namespace hold exactly the Schedules the config declares (one per watched org): creates the missing, updates
 * the changed in place, and deletes audit-spike Schedules on the same task queue(s) that the config no longer declares.
 */
export async function reconcileSchedules(client: Client, configs: ResolvedConfig[], options: { prune?: boolean } = {}): Promise<ReconcileChange[]> {
  const changes: ReconcileChange[] = [];
  for (const config of configs) {
    changes.push({ scheduleId: config.schedule.scheduleId, orgId: config.args.orgId, outcome: await applySchedule(client, config) });
  }
  if (options.prune === false) return changes;
  const wanted = new Set(configs.map((config) => config.schedule.scheduleId));
  const queues = new Set(configs.map((config) => config.schedule.taskQueue));
  for await (const summary of client.schedule.list()) {
    if (wanted.has(summary.scheduleId) || summary.memo?.managedBy !== MANAGED_BY) continue;
    const description = await describeSchedule(client, summary.scheduleId);
    const queue = description?.action.type === 'startWorkflow' ? description.action.taskQueue : undefined;
    if (!description || !queue || !queues.has(queue)) continue;
    await client.schedule.getHandle(summary.scheduleId).delete();
    changes.push({ scheduleId: summary.scheduleId, orgId: String(summary.memo?.orgId ?? '?'), outcome: 'deleted' });
  }
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
