import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { phaseOffsetMs } from '../../src/config/phase-offset';
import { scheduleTicks } from '../../src/replay/backtest';
import { applySchedule } from '../../src/schedule';
import type { RunResult } from '../../src/workflows/run-result';
import type { Stack } from './stack';

const MIN = 60_000;
/** The interval of the Schedules backfilled here: their YAML says `interval: 5m`. */
const INTERVAL = 5 * MIN;
const ORG = 'e2e';

/** The head of a backfilled Schedule's YAML: every 5 minutes, paused (only backfills run it), reading the stack's Datadog simulator. */
export function backfilledScheduleYaml(stack: Stack): string[] {
  return ['schedule:', '  interval: 5m', '  paused: true', 'datadog:', `  baseUrl: ${stack.datadog.url}`];
}

/**
 * The last half hour of org e2e's Schedule ticks: t2 the latest tick not in the future (the ticks fall at the org's
 * phase in the interval, src/config/phase-offset.ts), t1 half an hour before it.
 */
export function lastHalfHourOfTicks(): { t1: number; t2: number } {
  const offset = phaseOffsetMs(ORG, INTERVAL);
  const t2 = Math.floor((Date.now() - offset) / INTERVAL) * INTERVAL + offset;
  return { t1: t2 - 30 * MIN, t2 };
}

/** Backfills the paused schedule over [from, to] and waits for every run, oldest first. */
async function backfillAndWait(stack: Stack, scheduleId: string, from: number, to: number, expectedRuns: number, timeoutMs: number): Promise<RunResult[]> {
  const handle = stack.client.schedule.getHandle(scheduleId);
  await handle.backfill({ start: new Date(from), end: new Date(to), overlap: ScheduleOverlapPolicy.BUFFER_ALL });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { info } = await handle.describe();
    if (info.recentActions.length >= expectedRuns && info.runningActions.length === 0) {
      const results: RunResult[] = [];
      for (const action of info.recentActions) {
        const { workflowId, firstExecutionRunId } = action.action.workflow;
        results.push((await stack.client.workflow.getHandle(workflowId, firstExecutionRunId).result()) as RunResult);
      }
      return results.sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt));
    }
    if (Date.now() > deadline) throw new Error(`backfill started ${info.recentActions.length} of ${expectedRuns} runs in time`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The live side of a backtest-equals-live test: applies YAML (headed by backfilledScheduleYaml) as org e2e's
 * Schedule, backfills it over [t1, t2] (from lastHalfHourOfTicks: 7 ticks) and waits up to timeoutMs for every run.
 * Returns the runs' results, oldest first, and the same config written to `file` in the stack's folder, with
 * `org: e2e`, for the CLI to read.
 */
export async function backfillLiveRuns(stack: Stack, yaml: string, { t1, t2 }: { t1: number; t2: number }, options: { file: string; timeoutMs: number }): Promise<{ live: RunResult[]; configFile: string }> {
  const config = stack.config(yaml);
  await applySchedule(stack.client, config);

  const ticks = scheduleTicks(t1, t2, INTERVAL, phaseOffsetMs(ORG, INTERVAL));
  expect(ticks).toHaveLength(7);
  const live = await backfillAndWait(stack, config.schedule.scheduleId, t1, t2, ticks.length, options.timeoutMs);

  const configFile = join(stack.dir, options.file);
  writeFileSync(configFile, `org: ${ORG}\n${yaml}`);
  return { live, configFile };
}
