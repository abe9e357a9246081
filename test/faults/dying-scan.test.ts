import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { applySchedule } from '../../src/schedule';
import type { RunResult } from '../../src/workflows/run-result';
import { ACTIONS, auditEvent, burst, type AuditEventJson } from '../../sim/audit-events';
import { prng } from '../../sim/sample-day';
import type { Stack } from '../support/stack';
import { startStackWithWorkerProcess, type WorkerProcess } from '../support/worker-process';

const SEC = 1_000;
const MIN = 60 * SEC;
const KILLS = 6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A window whose scan dies with its worker again and again (issue #22: a worker killed for memory mid-scan, every
 * retry dying the same way): the worker, `audit-spike worker` in a child process, is SIGKILLed each time an attempt has
 * read a random few pages, six times in a row. The retries may not repeat the doomed attempt forever: after three
 * deaths the workflow reads the window in halves, and the burst inside is paged exactly once.
 */
describe('a scan killed mid-window again and again', () => {
  let stack: Stack;
  let worker: WorkerProcess;

  beforeAll(async () => {
    ({ stack, worker } = await startStackWithWorkerProcess());
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    worker?.close();
    await stack?.stop();
  }, 60_000);

  test('the window is split, the run completes, and the burst is paged exactly once', async () => {
    const config = stack.config(['schedule:', '  paused: true', '  lookback: 16m', 'datadog:', '  pageLimit: 100', '  requestTimeout: 2s', '  heartbeatTimeout: 3s'].join('\n'), 'dying');
    await applySchedule(stack.client, config);
    const at = Date.now();
    // The triggered run reads its look-back, [trigger time − ingestion delay − 16 min, trigger time − ingestion delay).
    const windowFrom = at - MIN - 16 * MIN + 10 * SEC;
    const random = prng(2212);
    const events: AuditEventJson[] = [];
    // 3,000 people under every threshold (two role grants each), spread over the window: 60 pages of 100.
    for (let i = 0; i < 3_000; i++) {
      const person = { id: `p${i}`, email: `person${i}@example.com` };
      const start = windowFrom + 30 * SEC + Math.floor(random() * 14 * MIN);
      events.push(auditEvent(start, person, ACTIONS.roleGrant), auditEvent(start + 20 * SEC, person, ACTIONS.roleGrant));
    }
    const mallory = { id: 'mallory', email: 'Mallory@Example.com', name: 'Mallory' };
    events.push(...burst(mallory, ACTIONS.roleGrant, 11, windowFrom + 9 * MIN, 4 * MIN));
    stack.datadog.addEvents(events);
    // Slow pages, so that each attempt dies a few pages in, wherever it resumed from.
    stack.datadog.faults.latencyMs = 40;

    const handle = stack.client.schedule.getHandle(config.schedule.scheduleId);
    await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);

    let kills = 0;
    let since = Date.now();
    while (kills < KILLS) {
      const pages = 2 + Math.floor(random() * 5);
      const deadline = Date.now() + 90_000;
      while (stack.datadog.requests.filter((r) => r.at >= since && r.status === 200).length < pages) {
        if (Date.now() > deadline) {
          const log = readFileSync(join(stack.dir, 'worker.log'), 'utf8').split('\n').slice(-15).join('\n');
          throw new Error(`kill ${kills + 1}: the scan did not read ${pages} pages within 90 s; the worker log ends:\n${log}`);
        }
        await sleep(20);
      }
      await worker.kill();
      kills++;
      await worker.start();
      since = Date.now();
    }
    stack.datadog.faults.latencyMs = 0;

    let workflow: { workflowId: string; firstExecutionRunId: string } | undefined;
    for (let tries = 0; !workflow && tries < 100; tries++) {
      workflow = (await handle.describe()).info.recentActions.at(-1)?.action.workflow;
      if (!workflow) await sleep(100);
    }
    expect(workflow).toBeDefined();
    const result = (await stack.client.workflow.getHandle(workflow!.workflowId, workflow!.firstExecutionRunId).result()) as RunResult;

    expect(result.warnings?.some((w) => w.includes('read in two halves'))).toBe(true);
    expect(result.counts.matched).toBe(6_011);
    const paged = stack.pagerduty.incidents.filter((i) => JSON.stringify(i.alerts[0]?.payload ?? {}).includes('mallory@example.com'));
    expect(paged).toHaveLength(1);
    expect(result.incidents.filter((i) => i.kind === 'trigger')).toEqual([
      expect.objectContaining({ actor: 'mallory@example.com', severity: 'critical', counts: { role_grant: 11 } }),
    ]);
  }, 600_000);
});
