import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { applySchedule } from '../../src/schedule';
import { BASELINE_SHARDS, baselineQuery, baselineWorkflow, baselineWorkflowId, mergeBaselineUpdate } from '../../src/workflows/baseline-workflow';
import { Baselines, packDelta, personKey, unpackPersons } from '../../src/detection/methods/baseline';
import { COUNTRY_FIELD } from '../../src/detection/methods/person';
import type { RunResult } from '../../src/workflows/run-result';
import { ACTIONS, LOGIN, PLACES, locatedEvent } from '../../sim/audit-events';
import { startStack, type Stack } from '../support/stack';

/**
 * Catalog v3 on the real dev server (#23): a person's baseline lives in the org's baseline workflows, survives a worker
 * restart, a redeploy (a new worker with a new workflow bundle) and a Temporal server restart, and a change from a new
 * country is paged after them, saying what was seen before. The scheduled runs' histories hold no baseline.
 */
const MIN = 60_000;

async function trigger(client: Client, scheduleId: string): Promise<{ workflowId: string; runId: string; result: RunResult }> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  await handle.trigger();
  for (let i = 0; i < 600; i++) {
    const fresh = (await handle.describe()).info.recentActions.find((a) => !before.has(a.action.workflow.firstExecutionRunId));
    if (fresh) {
      const { workflowId, firstExecutionRunId: runId } = fresh.action.workflow;
      return { workflowId, runId, result: (await client.workflow.getHandle(workflowId, runId).result()) as RunResult };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`schedule ${scheduleId} did not start a run`);
}

/** The bytes of a run's history, and whether any payload in it holds a packed baseline. */
async function historyFacts(client: Client, workflowId: string, runId: string): Promise<{ bytes: number; holdsBaseline: boolean }> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const bytes = temporal.api.history.v1.History.encode(history as temporal.api.history.v1.History).finish().length;
  const json = JSON.stringify(temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { bytes: String }));
  const payloads = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8'));
  return { bytes, holdsBaseline: payloads.some((text) => text.includes('"persons"') && text.includes('"fields"')) };
}

describe('baselines survive restarts and redeploys, and a new country pages after them', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test('learn, restart the worker, redeploy, restart the server, then a role grant from Romania pages with seen before: United States', async () => {
    const alice = { id: 'u-alice', email: 'alice@example.com', name: 'Alice' };
    // Warm-up shortened to a minute for the test (the default is 7 days; the config validates it like any option).
    const config = stack.config('schedule:\n  ingestionDelay: 5s\n  lookback: 15m\ndetection:\n  rules:\n    - { id: new_country_sensitive, learning: 1m }\n', 'geo');
    await applySchedule(stack.client, config);
    let worker = await stack.startWorker({ identity: 'worker-1' });

    // Run 1 learns: logins from New York.
    stack.datadog.addEvents([locatedEvent(Date.now() - 10 * MIN, alice, LOGIN, PLACES.newYork), locatedEvent(Date.now() - 9 * MIN, alice, LOGIN, PLACES.newYork)]);
    const first = await trigger(stack.client, config.schedule.scheduleId);
    expect(first.result.incidents).toEqual([]);
    const shard = personKey('alice@example.com') % BASELINE_SHARDS;
    const stored = unpackPersons(await stack.client.workflow.getHandle(baselineWorkflowId('geo', shard)).query(baselineQuery));
    expect(stored.map(([, p]) => p.values['network.client.geoip.country.iso_code'].map(([c]) => c))).toEqual([['US']]);
    const facts = await historyFacts(stack.client, first.workflowId, first.runId);
    expect(facts.holdsBaseline).toBe(false);

    // A worker restart, then a redeploy (a new worker with another identity), then the Temporal server itself.
    await worker.stop();
    worker = await stack.startWorker({ identity: 'worker-2' });
    await worker.stop();
    worker = await stack.startWorker({ identity: 'worker-3-redeployed' });
    await worker.stop();
    await stack.server.restart();
    worker = await stack.startWorker({ identity: 'worker-4-after-server-restart' });

    // Run 2: one role grant (under role_grant's threshold of 3) from Bucharest.
    stack.datadog.addEvents([locatedEvent(Date.now() - 20_000, alice, ACTIONS.roleGrant, PLACES.bucharest)]);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const second = await trigger(stack.client, config.schedule.scheduleId);
    expect(second.result.incidents.map((i) => [i.kind, i.actor, i.severity, i.rules])).toEqual([['trigger', 'alice@example.com', 'warning', ['new_country_sensitive']]]);
    expect(second.result.incidents[0].evidence?.newValues).toEqual([{ rule: 'new_country_sensitive', field: 'network.client.geoip.country.iso_code', value: 'RO', seenBefore: ['US'] }]);
    const paged = stack.pagerduty.requests.map((r) => r.body as { event_action?: string; payload?: { summary?: string } } | undefined).filter((b) => b?.event_action === 'trigger');
    expect(paged.map((b) => b!.payload?.summary)).toEqual([expect.stringContaining('first sensitive change from Romania (seen before: United States)')]);
    expect((await historyFacts(stack.client, second.workflowId, second.runId)).holdsBaseline).toBe(false);
    // What the baseline costs in history: the shard's workflow, after one merge (its start, one update, its tasks).
    const shardHistory = await stack.client.workflow.getHandle(baselineWorkflowId('geo', shard)).fetchHistory();
    const shardBytes = temporal.api.history.v1.History.encode(shardHistory as temporal.api.history.v1.History).finish().length;
    expect(shardBytes).toBeLessThan(20_000);
    // eslint-disable-next-line no-console
    console.log(`history bytes: learning run ${facts.bytes}, paging run ${(await historyFacts(stack.client, second.workflowId, second.runId)).bytes}, ` +
      `baseline shard workflow after ${shardHistory.events?.length} events: ${shardBytes}`);
    await worker.stop();
  }, 240_000);

  test('first enable: the baselines are seeded from the Audit Trail within its retention, so a new country pages in the first run', async () => {
    const worker = await stack.startWorker({ identity: 'worker-seed' });
    stack.datadog.setRetention(30 * 86_400_000);
    const bob = { id: 'u-bob', email: 'bob@example.com', name: 'Bob' };
    const DAY = 86_400_000;
    stack.datadog.addEvents([
      locatedEvent(Date.now() - 9 * DAY, bob, LOGIN, PLACES.newYork),
      locatedEvent(Date.now() - 2 * DAY, bob, LOGIN, PLACES.chicago),
      locatedEvent(Date.now() - 20_000, bob, ACTIONS.roleGrant, PLACES.bucharest),
    ]);
    const config = stack.config('datadog:\n  retention: 30d\nschedule:\n  ingestionDelay: 5s\n  lookback: 15m\ndetection:\n  seedBaselines: true\n', 'seed');
    await applySchedule(stack.client, config);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const first = await trigger(stack.client, config.schedule.scheduleId);
    expect(first.result.incidents.map((i) => [i.actor, i.rules, i.evidence?.newValues?.[0]?.seenBefore])).toEqual([['bob@example.com', ['new_country_sensitive'], ['US']]]);
    stack.datadog.setRetention(7 * DAY);
    await worker.stop();
  }, 120_000);

  test('a baseline workflow continues as new with its packed baseline: nothing learned is lost across runs', async () => {
    const worker = await stack.startWorker({ identity: 'worker-can' });
    const workflowId = 'audit-spike-baseline-can-test-0';
    const handle = await stack.client.workflow.start(baselineWorkflow, { workflowId, taskQueue: 'audit-spike', args: [{ orgId: 'can-test', shard: 0, mergesPerRun: 2 }] });
    const firstRunId = handle.firstExecutionRunId;
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      const baselines = new Baselines();
      baselines.learn(`p${i}@example.com`, now - i * MIN, COUNTRY_FIELD, i % 2 ? 'US' : 'RO');
      await stack.client.workflow.getHandle(workflowId).executeUpdate(mergeBaselineUpdate, { args: [{ delta: packDelta(baselines.takeDelta()), now, forgetAfterMs: 28 * 86_400_000 }] });
    }
    const described = await stack.client.workflow.getHandle(workflowId).describe();
    expect(described.runId).not.toBe(firstRunId);
    const persons = unpackPersons(await stack.client.workflow.getHandle(workflowId).query(baselineQuery));
    expect(persons.map(([key]) => key).sort()).toEqual([0, 1, 2, 3, 4].map((i) => personKey(`p${i}@example.com`)).sort());
    await stack.client.workflow.getHandle(workflowId).terminate('test done');
    await worker.stop();
  }, 120_000);
});
