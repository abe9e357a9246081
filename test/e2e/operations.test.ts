import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { applySchedule } from '../../src/schedule';
import { ACTIONS, burst } from '../../sim/audit-events';
import { historyBytes } from '../support/history';
import { freePort } from '../support/ports';
import { startStack, triggerAndWait, type Stack } from '../support/stack';
import { WorkerProcess } from '../support/worker-process';

const MIN = 60_000;


/** The product's worker as operators run it: two processes on one task queue, JSON logs, Prometheus metrics. */
describe('operating it: two workers, metrics, logs, readable runs', () => {
  let stack: Stack;
  const workers: WorkerProcess[] = [];
  /** Each worker's Prometheus port: which worker runs which activity is Temporal's choice, so the fleet's counters are their sum. */
  const metricsPorts: number[] = [];
  const logs = [0, 1].map((i) => `worker-${i}.log`);

  beforeAll(async () => {
    stack = await startStack();
    for (const [i, log] of logs.entries()) {
      metricsPorts.push(await freePort());
      const worker = new WorkerProcess(
        {
          ...stack.workerEnv,
          TEMPORAL_ADDRESS: stack.server.address,
          TEMPORAL_NAMESPACE: 'default',
          AUDIT_SPIKE_LOG_FORMAT: 'json',
          AUDIT_SPIKE_METRICS_ADDRESS: `127.0.0.1:${metricsPorts[i]}`,
        },
        join(stack.dir, log),
      );
      await worker.start();
      workers.push(worker);
    }
  }, 180_000);

  afterAll(async () => {
    for (const worker of workers) {
      await worker.stop();
      worker.close();
    }
    await stack?.stop();
  }, 60_000);

  test('two workers share one task queue and every burst is paged exactly once', async () => {
    const config = stack.config('schedule:\n  ingestionDelay: 2s\n  lookback: 30m\n', 'ops');
    await applySchedule(stack.client, config);
    const quiet = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(quiet.incidents).toEqual([]);

    const actors = ['a', 'b', 'c'].map((name) => ({ id: `ops-${name}`, email: `${name}.admin@example.com` }));
    for (const [i, actor] of actors.entries()) {
      stack.datadog.addEvents(burst(actor, ACTIONS.roleGrant, 4 + i, Date.now() - 4 * MIN, 2 * MIN));
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const run = await triggerAndWait(stack.client, config.schedule.scheduleId);
      expect(run.incidents.filter((incident) => incident.kind === 'trigger').map((incident) => incident.actor)).toEqual([actor.email]);
    }
    const paged = stack.pagerduty.incidents.map((incident) => (incident.alerts[0].payload as { custom_details: { actor: string } }).custom_details.actor);
    expect(paged.sort()).toEqual(actors.map((actor) => actor.email).sort());

    const pollers = await stack.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: 'audit-spike' },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    expect(new Set(pollers.pollers?.map((poller) => poller.identity)).size).toBeGreaterThanOrEqual(2);
  });

  test('a run reads like a report in the UI: memo, current details, activity summaries', async () => {
    const description = await (async () => {
      for await (const workflow of stack.client.workflow.list({ query: 'TemporalScheduledById = "audit-spike-ops"' })) {
        const handle = stack.client.workflow.getHandle(workflow.workflowId, workflow.runId);
        const described = await handle.describe();
        if (String(described.memo?.report ?? '').includes('paged 1')) return { handle, described };
      }
      throw new Error('no bursting run found');
    })();
    expect(description.described.memo).toMatchObject({ eventsRead: expect.any(Number), eventsSkipped: 0, burstingActors: expect.stringMatching(/admin@example\.com \(error\)/) });
    expect(await description.described.staticSummary()).toContain('Datadog org "ops"');
    expect(await description.described.staticDetails()).toContain('role_grant');
    const history = (await historyBytes(description.handle)).toString('utf8');
    expect(history).toMatch(/Read audit events 20\d\d-/);
    expect(history).toMatch(/Page [a-c]\.admin@example\.com \(error, \d+ events\)/);
  });

  test('the worker exports Prometheus metrics through the SDK, with audit-spike counters', async () => {
    // The SDK exports on its own schedule; give it a moment after the last run.
    // Both workers' exports: the scan and the PagerDuty call of one run may run on different workers (seen in CI: the
    // bursts counted on one, the incidents opened on the other).
    let text = '';
    for (let i = 0; i < 20 && !text.includes('audit_spike_incidents_opened'); i++) {
      text = (await Promise.all(metricsPorts.map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()))).join('\n');
      if (!text.includes('audit_spike_incidents_opened')) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(text).toMatch(/temporal_\w*(workflow|activity)\w*/);
    for (const name of ['audit_spike_events_read', 'audit_spike_events_skipped', 'audit_spike_bursts', 'audit_spike_incidents_opened']) {
      expect(text).toMatch(new RegExp(`${name}\\w*\\{[^}]*org="ops"`));
    }
  });

  test('logs are JSON lines with run id and window, and never hold a secret', () => {
    const lines = logs.flatMap((log) => readFileSync(join(stack.dir, log), 'utf8').split('\n')).filter((line) => line.startsWith('{'));
    expect(lines.length).toBeGreaterThan(3);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.find((entry) => entry.runId && entry.window && String(entry.message).startsWith('Read '))).toBeDefined();
    const all = logs.map((log) => readFileSync(join(stack.dir, log), 'utf8')).join('\n');
    for (const secret of Object.values(stack.workerEnv)) expect(all.includes(secret)).toBe(false);
  });
});
