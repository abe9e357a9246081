import { temporal } from '@temporalio/proto';
import { Client, Connection, makeGrpcRetryInterceptor, defaultGrpcRetryOptions, type ConnectionOptions } from '@temporalio/client';
import { applySchedule } from '../../src/schedule';
import { createAuditSpikeWorker } from '../../src/worker';
import { LOGIN, PLACES, locatedEvent } from '../../sim/audit-events';
import { Baselines, packBaselines, personKey, unpackPersons } from '../../src/detection/methods/baseline';
import { COUNTRY_FIELD } from '../../src/detection/methods/person';
import { shardOf, temporalBaselineStore, type BaselineStoreStats, type TemporalBaselineStore } from '../../src/activities/baseline-store';
import { BASELINE_SHARDS, baselineWorkflowId, versionedBaselineQuery } from '../../src/workflows/baseline-workflow';
import { startStack, triggerAndWait, workflowBundle, type Stack } from '../support/stack';

/**
 * The per-worker cache of the baseline shards (#23) on the real dev server: each worker's store (built once per worker
 * by createActivities) keeps the shards it read with their versions; a load describes the 8 shard workflows and queries
 * only a shard whose version moved. Two workers' stores here, each on its own connection: what one saves the other
 * loads, never a stale copy; a save over a version the saver did not see is merged and reported stale.
 */
const DAY = 86_400_000;
const FORGET = 28 * DAY;
const TQ = 'audit-spike';

function delta(stats: BaselineStoreStats, before: BaselineStoreStats): BaselineStoreStats {
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v - before[k as keyof BaselineStoreStats]])) as unknown as BaselineStoreStats;
}

function countriesOf(baselines: Baselines, person: string): string[] {
  return (baselines.get(person)?.values[COUNTRY_FIELD] ?? []).map(([country]) => country).sort();
}

/** The shard as its workflow holds it, packed (the truth a cached copy must equal). */
async function shardTruth(client: Client, org: string): Promise<Baselines> {
  const all = new Baselines();
  for (let shard = 0; shard < BASELINE_SHARDS; shard++) {
    const { packed } = await client.workflow.getHandle(baselineWorkflowId(org, shard)).query(versionedBaselineQuery);
    all.merge(unpackPersons(packed));
  }
  all.takeDelta();
  return all;
}

describe('per-worker cache of the baseline shards', () => {
  let stack: Stack;
  let otherConnection: Connection;
  let other: Client;
  let shardsWorker: { stop(): Promise<void> };
  beforeAll(async () => {
    stack = await startStack();
    shardsWorker = await stack.startWorker({ identity: 'shards-worker' });
    otherConnection = await Connection.connect({ address: stack.server.address });
    other = new Client({ connection: otherConnection });
  }, 120_000);
  afterAll(async () => {
    await otherConnection?.close();
    await stack?.stop();
  }, 60_000);

  test('a load queries only shards whose version moved; a save on one worker is seen by a load on the other', async () => {
    const org = 'cache';
    const now = Date.now();
    const a: TemporalBaselineStore = temporalBaselineStore(stack.client);
    const b: TemporalBaselineStore = temporalBaselineStore(other);
    const persons = Array.from({ length: 40 }, (_, i) => `p${i}@example.com`);

    // Worker A: the org's first load (no shard yet), teaches 40 persons, saves.
    let loaded = await a.load(org, TQ);
    expect(loaded.missingShards).toBe(BASELINE_SHARDS);
    expect(a.stats).toMatchObject({ describes: 8, queries: 0 });
    for (const person of persons) loaded.baselines.learn(person, now - 10 * DAY, COUNTRY_FIELD, 'US');
    await a.save(org, TQ, loaded.baselines, now, FORGET);
    expect(new Set(persons.map((p) => shardOf(personKey(p)))).size).toBe(BASELINE_SHARDS);

    // A's saves created the shards it had found missing (their first merge, over nothing): its next loads read none.
    let before = { ...a.stats };
    loaded = await a.load(org, TQ);
    expect(delta(a.stats, before)).toMatchObject({ describes: 8, queries: 0, cacheHits: 8 });
    expect(loaded.bytes).toBe(0);
    expect(loaded.baselines.size).toBe(40);
    expect(packBaselines(loaded.baselines)).toEqual(packBaselines(await shardTruth(stack.client, org)));

    // A teaches p1 Canada and saves: its copy of p1's shard is patched, so its next load still queries nothing, and the
    // patched copy is exactly what the shard workflow holds.
    loaded.baselines.learn('p1@example.com', now - DAY, COUNTRY_FIELD, 'CA');
    await a.save(org, TQ, loaded.baselines, now, FORGET);
    before = { ...a.stats };
    loaded = await a.load(org, TQ);
    expect(delta(a.stats, before)).toMatchObject({ queries: 0, cacheHits: 8 });
    expect(countriesOf(loaded.baselines, 'p1@example.com')).toEqual(['CA', 'US']);
    expect(packBaselines(loaded.baselines)).toEqual(packBaselines(await shardTruth(stack.client, org)));

    // Worker B (cold) reads all 8, teaches p1 Romania and saves (its copy patched).
    const fromB = await b.load(org, TQ);
    expect(b.stats).toMatchObject({ describes: 8, queries: 8 });
    fromB.baselines.learn('p1@example.com', now - 60_000, COUNTRY_FIELD, 'RO');
    await b.save(org, TQ, fromB.baselines, now, FORGET);
    expect(b.stats.staleUpdates).toBe(0);

    // A's next load sees B's change: one shard's version moved, one query, Romania there.
    before = { ...a.stats };
    loaded = await a.load(org, TQ);
    expect(delta(a.stats, before)).toMatchObject({ describes: 8, queries: 1, cacheHits: 7 });
    expect(countriesOf(loaded.baselines, 'p1@example.com')).toEqual(['CA', 'RO', 'US']);

    // A stale save: B changes p1's shard again while A holds the version before it; A then saves to that shard. The
    // workflow merges A's write (nothing lost) and says it was stale: A drops its copy and reads the shard again.
    const bAgain = await b.load(org, TQ);
    bAgain.baselines.learn('p1@example.com', now - 30_000, COUNTRY_FIELD, 'SG');
    await b.save(org, TQ, bAgain.baselines, now, FORGET);
    loaded.baselines.learn('p1@example.com', now - 20_000, COUNTRY_FIELD, 'DE');
    before = { ...a.stats };
    await a.save(org, TQ, loaded.baselines, now, FORGET);
    expect(delta(a.stats, before)).toMatchObject({ updates: 1, staleUpdates: 1 });
    before = { ...a.stats };
    loaded = await a.load(org, TQ);
    expect(delta(a.stats, before)).toMatchObject({ queries: 1, cacheHits: 7 });
    expect(countriesOf(loaded.baselines, 'p1@example.com')).toEqual(['CA', 'DE', 'RO', 'SG', 'US']);
    expect(packBaselines(loaded.baselines)).toEqual(packBaselines(await shardTruth(stack.client, org)));

    // What the version costs the shard's history: per merge, one properties-modified event (the memo), besides the update.
    const history = await stack.client.workflow.getHandle(baselineWorkflowId(org, shardOf(personKey('p1@example.com')))).fetchHistory();
    const events = (history.events ?? []) as temporal.api.history.v1.IHistoryEvent[];
    const sizeOf = (type: temporal.api.enums.v1.EventType) => events.filter((e) => e.eventType === type)
      .map((e) => temporal.api.history.v1.HistoryEvent.encode(e as temporal.api.history.v1.HistoryEvent).finish().length);
    const memoEvents = sizeOf(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED);
    const updates = sizeOf(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
    const total = temporal.api.history.v1.History.encode(history as temporal.api.history.v1.History).finish().length;
    expect(memoEvents.length).toBe(updates.length + 1);
    expect(Math.max(...memoEvents)).toBeLessThan(200);
    // eslint-disable-next-line no-console
    console.log(`shard history after ${updates.length} merges: ${total} B; the version memo ${memoEvents.reduce((a, b) => a + b, 0)} B in ${memoEvents.length} events ` +
      `(${memoEvents.join(', ')}), update completions ${updates.join(', ')} B`);

    // A terminated shard is missing (a save would start it afresh), never served from a copy.
    await stack.client.workflow.getHandle(baselineWorkflowId(org, shardOf(personKey('p1@example.com')))).terminate('test');
    loaded = await a.load(org, TQ);
    expect(loaded.missingShards).toBe(1);
    expect(loaded.baselines.get('p1@example.com')).toBeUndefined();
  }, 120_000);

  test('a cached copy stays valid across the shard workflow\'s continue-as-new (same content, same version)', async () => {
    const org = 'cache-can';
    const now = Date.now();
    const firstRuns: string[] = [];
    for (let shard = 0; shard < BASELINE_SHARDS; shard++) {
      const handle = await stack.client.workflow.start('baselineWorkflow', { workflowId: baselineWorkflowId(org, shard), taskQueue: TQ, args: [{ orgId: org, shard, mergesPerRun: 2 }] });
      firstRuns.push(handle.firstExecutionRunId);
    }
    const store = temporalBaselineStore(stack.client);
    let loaded = await store.load(org, TQ);
    expect(store.stats).toMatchObject({ queries: 8, cacheHits: 0 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 16; i++) loaded.baselines.learn(`can${i}@example.com`, now - (10 - round) * DAY, COUNTRY_FIELD, ['US', 'GB', 'FR'][round]);
      await store.save(org, TQ, loaded.baselines, now, FORGET);
      const before = { ...store.stats };
      loaded = await store.load(org, TQ);
      expect(delta(store.stats, before)).toMatchObject({ queries: 0, cacheHits: 8 });
    }
    // Every shard merged 3 times with 2 merges a run: each continued as new, its copy still exact.
    for (let shard = 0; shard < BASELINE_SHARDS; shard++) {
      expect((await stack.client.workflow.getHandle(baselineWorkflowId(org, shard)).describe()).runId).not.toBe(firstRuns[shard]);
    }
    expect(packBaselines(loaded.baselines)).toEqual(packBaselines(await shardTruth(stack.client, org)));
    expect(countriesOf(loaded.baselines, 'can3@example.com')).toEqual(['FR', 'GB', 'US']);
  }, 60_000);

  test('measured: queries and time per load, cached and not, for 20,000 persons', async () => {
    const org = 'cache-big';
    const now = Date.now();
    const seedStore = temporalBaselineStore(stack.client, { cache: false });
    const seeded = await seedStore.load(org, TQ);
    for (let i = 0; i < 20_000; i++) {
      seeded.baselines.learn(`person${i}@example.com`, now - 9 * DAY, COUNTRY_FIELD, 'US');
      seeded.baselines.learn(`person${i}@example.com`, now - DAY, COUNTRY_FIELD, i % 7 ? 'US' : 'CA');
    }
    await seedStore.save(org, TQ, seeded.baselines, now, FORGET);

    const uncached = temporalBaselineStore(stack.client, { cache: false });
    const cached = temporalBaselineStore(other);
    await cached.load(org, TQ);
    const loads = 5;
    const time = async (store: TemporalBaselineStore) => {
      const before = { ...store.stats };
      const started = process.hrtime.bigint();
      let bytes = 0;
      for (let i = 0; i < loads; i++) {
        const loaded = await store.load(org, TQ);
        expect(loaded.baselines.size).toBe(20_000);
        bytes += loaded.bytes;
      }
      return { ms: Number(process.hrtime.bigint() - started) / 1e6 / loads, stats: delta(store.stats, before), bytes: bytes / loads };
    };
    const off = await time(uncached);
    const on = await time(cached);
    // Nothing changed between the loads: without the cache every load queries all 8 shards, with it none.
    expect(off.stats.queries).toBe(8 * loads);
    expect(on.stats.queries).toBe(0);
    expect(on.stats.describes).toBe(8 * loads);
    // The cache is bounded: a worker allowed fewer characters than a shard holds keeps no copy, and reads every time.
    const tiny = temporalBaselineStore(other, { maxCacheChars: 1_000 });
    await tiny.load(org, TQ);
    await tiny.load(org, TQ);
    expect(tiny.stats).toMatchObject({ queries: 16, cacheHits: 0 });
    // eslint-disable-next-line no-console
    console.log(`per load of 20,000 persons (8 shards), nothing changed: uncached ${off.stats.queries / loads} queries, ` +
      `${off.bytes} base64 chars, ${off.ms.toFixed(1)} ms; cached ${on.stats.queries / loads} queries + ${on.stats.describes / loads} describes, ` +
      `${on.bytes} chars, ${on.ms.toFixed(1)} ms`);
  }, 180_000);

  test('measured in live scans: the worker\'s scans query no shard when their copies are current', async () => {
    // One worker only (the product's, built by createAuditSpikeWorker), its Temporal client counting the calls it makes.
    await shardsWorker.stop();
    const calls = new Map<string, number>();
    type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];
    const counting = ((options: Parameters<Interceptor>[0], nextCall: Parameters<Interceptor>[1]) => {
      const method = options.method_definition.path.split('/').pop()!;
      calls.set(method, (calls.get(method) ?? 0) + 1);
      return nextCall(options);
    }) as Interceptor;
    const connection = await Connection.connect({ address: stack.server.address, interceptors: [counting, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())] });
    const worker = await createAuditSpikeWorker({
      connection: stack.nativeConnection, namespace: 'default', taskQueue: TQ, env: stack.workerEnv,
      temporalClient: new Client({ connection }), workflowBundle: await workflowBundle(), identity: 'counted-worker',
    });
    const running = worker.run();
    try {
      // Paused: only this test's triggers run (a tick of its own would be a second, concurrent scan of the org).
      const config = stack.config('schedule:\n  paused: true\n  ingestionDelay: 5s\n  lookback: 15m\n', 'live-cache');
      await applySchedule(stack.client, config);
      const persons = Array.from({ length: 16 }, (_, i) => ({ id: `u-live${i}`, email: `live${i}@example.com` }));
      const perRun: Array<{ queries: number; describes: number; updates: number }> = [];
      for (let run = 0; run < 5; run++) {
        // Runs 1-4 each read a login by every person (every shard changes); run 5 reads nothing new.
        if (run < 4) stack.datadog.addEvents(persons.map((person) => locatedEvent(Date.now() - 2_000, person, LOGIN, PLACES.newYork)));
        await new Promise((resolve) => setTimeout(resolve, 6_000));
        const before = new Map(calls);
        await triggerAndWait(stack.client, config.schedule.scheduleId);
        const count = (method: string) => (calls.get(method) ?? 0) - (before.get(method) ?? 0);
        perRun.push({ queries: count('QueryWorkflow'), describes: count('DescribeWorkflowExecution'), updates: count('ExecuteMultiOperation') + count('UpdateWorkflowExecution') });
      }
      // eslint-disable-next-line no-console
      console.log(`live scans, 16 persons in 8 shards, per run (queries, describes, updates): ${perRun.map((r) => `(${r.queries}, ${r.describes}, ${r.updates})`).join(' ')}; ` +
        'before the cache every run made 8 queries');
      // Run 1: no shard yet (8 describes, not found), its saves create all 8 (copies made from nothing). Runs 2-4
      // change every shard and read none: their copies are patched by their own saves.
      // Run 5 reads nothing new (only run 4's events again, in its lateness overlap): nothing read or written.
      expect(perRun.map((r) => r.queries)).toEqual([0, 0, 0, 0, 0]);
      // 8 describes of the shards (and, from run 2, one more the run makes of its predecessor).
      expect(perRun.every((r) => r.describes >= 8 && r.describes <= 9)).toBe(true);
      expect(perRun.map((r) => r.updates)).toEqual([8, 8, 8, 8, 0]);
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    }
  }, 180_000);
});
