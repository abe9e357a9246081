import { Client, Connection } from '@temporalio/client';
import { Baselines, packBaselines, personKey, unpackPersons } from '../../src/detection/methods/baseline';
import { COUNTRY_FIELD } from '../../src/detection/methods/person';
import { shardOf, temporalBaselineStore, type BaselineStoreStats, type TemporalBaselineStore } from '../../src/activities/baseline-store';
import { BASELINE_SHARDS, baselineWorkflowId, versionedBaselineQuery } from '../../src/workflows/baseline-workflow';
import { startStack, type Stack } from '../support/stack';

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
  beforeAll(async () => {
    stack = await startStack();
    await stack.startWorker({ identity: 'shards-worker' });
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

    // A's next load reads the shards its saves just created (it had no copy to patch), the one after reads none.
    let before = { ...a.stats };
    loaded = await a.load(org, TQ);
    expect(delta(a.stats, before)).toMatchObject({ describes: 8, queries: 8, cacheHits: 0 });
    before = { ...a.stats };
    loaded = await a.load(org, TQ);
    expect(delta(a.stats, before)).toMatchObject({ describes: 8, queries: 0, cacheHits: 8 });
    expect(loaded.bytes).toBe(0);
    expect(loaded.baselines.size).toBe(40);

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

    // A terminated shard is missing (a save would start it afresh), never served from a copy.
    await stack.client.workflow.getHandle(baselineWorkflowId(org, shardOf(personKey('p1@example.com')))).terminate('test');
    loaded = await a.load(org, TQ);
    expect(loaded.missingShards).toBe(1);
    expect(loaded.baselines.get('p1@example.com')).toBeUndefined();
  }, 120_000);

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
    // eslint-disable-next-line no-console
    console.log(`per load of 20,000 persons (8 shards), nothing changed: uncached ${off.stats.queries / loads} queries, ` +
      `${off.bytes} base64 chars, ${off.ms.toFixed(1)} ms; cached ${on.stats.queries / loads} queries + ${on.stats.describes / loads} describes, ` +
      `${on.bytes} chars, ${on.ms.toFixed(1)} ms`);
  }, 180_000);
});
