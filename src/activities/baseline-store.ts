import { WithStartWorkflowOperation, WorkflowNotFoundError, isGrpcServiceError, type Client } from '@temporalio/client';
import {
  BASELINE_LIMITS, Baselines, packBaselines, packPersons, unpackBaselines, unpackPersons, type PackedBaselines, type PersonBaseline,
} from '../detection/methods/baseline';
import {
  BASELINE_SHARDS, BASELINE_VERSION_MEMO, applyBaselineMerge, baselineQuery, baselineWorkflowId, mergeBaselineUpdate, versionedBaselineQuery,
  type BaselineWorkflowInput, type baselineWorkflow,
} from '../workflows/baseline-workflow';

/** gRPC NOT_FOUND. */
const NOT_FOUND = 5;

export interface LoadedBaselines {
  baselines: Baselines;
  /** Shards that did not exist yet (the org's first scan with baseline rules), or whose workflow was closed (terminated). */
  missingShards: number;
  /** Base64 characters read (the packed shards queried; a shard served from the worker's cache reads none). */
  bytes: number;
}

export interface SavedBaselines {
  persons: number;
  shards: number;
  /** Base64 characters written to the baseline workflows' histories (the updates' deltas). */
  bytes: number;
}

/** Where a live scan finds the persons' baselines and hands its changes back (src/workflows/baseline-workflow.ts). */
export interface BaselineStore {
  load(orgId: string, taskQueue: string): Promise<LoadedBaselines>;
  save(orgId: string, taskQueue: string, baselines: Baselines, now: number, forgetAfterMs: number): Promise<SavedBaselines>;
}

/** What the store asked Temporal, since the worker started (the cache's effect: tests and the bench read it). */
export interface BaselineStoreStats {
  /** Describe calls (the version check: answered by the server, no worker involved). */
  describes: number;
  /** Queries of a shard workflow (a worker answers, replaying the shard's history if it is not cached there). */
  queries: number;
  /** Base64 characters the queries returned. */
  queriedChars: number;
  /** Shards served from the cache (their version unchanged). */
  cacheHits: number;
  /** Updates sent (merges), and how many came back stale (another writer in between: the copy was dropped). */
  updates: number;
  staleUpdates: number;
}

export interface TemporalBaselineStoreOptions {
  /** Cache the shards in this worker (default yes); without it every load queries every existing shard, as before. */
  cache?: boolean;
  /** At most this many base64 characters cached, the least recently used shard dropped first (default 16,000,000). */
  maxCacheChars?: number;
}

export interface TemporalBaselineStore extends BaselineStore {
  readonly stats: BaselineStoreStats;
}

export function shardOf(key: number): number {
  return key % BASELINE_SHARDS;
}

interface CachedShard {
  version: string;
  packed: PackedBaselines;
}

function notFound(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === NOT_FOUND);
}

/**
 * The store in Temporal: one baseline workflow per org and shard, read by query and changed by update (never by the
 * run's history).
 *
 * Cached per worker (one store per worker, built by createActivities): a shard is kept with the version it was read at.
 * Each load describes the org's shard workflows (the version is in their memo) and queries only those whose version is
 * not the cached one: when nothing changed, a scan asks no worker for any baseline. A save sends each changed shard's
 * delta with the version it was read at; when the workflow merged it over that very version, the cached copy is
 * patched with the same merge (applyBaselineMerge) and takes the new version, so the next scan on this worker reads
 * nothing either. A shard changed by another worker has another version: its copy is read again (load) or dropped
 * (a stale save). A shard whose workflow is closed (terminated) counts as missing, as a save then starts it afresh.
 */
export function temporalBaselineStore(client: Client, options: TemporalBaselineStoreOptions = {}): TemporalBaselineStore {
  const useCache = options.cache ?? true;
  const maxCacheChars = options.maxCacheChars ?? 16_000_000;
  const cache = new Map<string, CachedShard>();
  /** Shards this worker's last load found missing: a save that starts one (its first merge, version `…:0`) knows it was empty. */
  const missing = new Set<string>();
  let cachedChars = 0;
  const stats: BaselineStoreStats = { describes: 0, queries: 0, queriedChars: 0, cacheHits: 0, updates: 0, staleUpdates: 0 };

  const forget = (id: string) => {
    const found = cache.get(id);
    if (found) cachedChars -= found.packed.persons.length;
    cache.delete(id);
  };
  const remember = (id: string, shard: CachedShard) => {
    forget(id);
    if (!useCache || shard.packed.persons.length > maxCacheChars) return;
    cache.set(id, shard);
    cachedChars += shard.packed.persons.length;
    while (cachedChars > maxCacheChars) forget(cache.keys().next().value as string);
  };

  /** The shard's packed baselines, or undefined when its workflow does not exist or is closed. */
  async function loadShard(orgId: string, shard: number): Promise<{ packed: PackedBaselines; queried: boolean } | undefined> {
    const id = baselineWorkflowId(orgId, shard);
    const handle = client.workflow.getHandle(id);
    let version: unknown;
    try {
      stats.describes++;
      const described = await handle.describe();
      if (described.status.name !== 'RUNNING') {
        forget(id);
        missing.add(id);
        return undefined;
      }
      version = described.memo?.[BASELINE_VERSION_MEMO];
    } catch (error) {
      if (!notFound(error)) throw error;
      forget(id);
      missing.add(id);
      return undefined;
    }
    missing.delete(id);
    const cached = cache.get(id);
    if (cached && typeof version === 'string' && cached.version === version) {
      // Most recently used last.
      cache.delete(id);
      cache.set(id, cached);
      stats.cacheHits++;
      return { packed: cached.packed, queried: false };
    }
    stats.queries++;
    try {
      const read = await handle.query(versionedBaselineQuery);
      stats.queriedChars += read.packed.persons.length;
      remember(id, read);
      return { packed: read.packed, queried: true };
    } catch (error) {
      if (notFound(error)) {
        forget(id);
        return undefined;
      }
      // A shard whose workflow still runs code from before versions (no such query): read it the old way, uncached.
      if (!/versionedBaseline/.test(String((error as Error)?.message))) throw error;
      forget(id);
      stats.queries++;
      const packed = await handle.query(baselineQuery);
      stats.queriedChars += packed.persons.length;
      return { packed, queried: true };
    }
  }

  return {
    stats,

    async load(orgId) {
      const baselines = new Baselines();
      let missingShards = 0;
      let bytes = 0;
      const shards = await Promise.all(Array.from({ length: BASELINE_SHARDS }, (_, shard) => loadShard(orgId, shard)));
      for (const read of shards) {
        if (read === undefined) {
          missingShards++;
          continue;
        }
        if (read.queried) bytes += read.packed.persons.length;
        // Unpacked afresh: the scan teaches its copy in place, and the cached one must stay what the shard holds.
        baselines.merge(unpackPersons(read.packed));
      }
      baselines.takeDelta();
      return { baselines, missingShards, bytes };
    },

    async save(orgId, taskQueue, baselines, now, forgetAfterMs) {
      const byShard = new Map<number, Array<[number, PersonBaseline]>>();
      let persons = 0;
      for (const [key, person] of baselines.takeDelta()) {
        if (person === null) continue;
        persons++;
        const shard = shardOf(key);
        let list = byShard.get(shard);
        if (!list) byShard.set(shard, (list = []));
        list.push([key, person]);
      }
      let bytes = 0;
      await Promise.all([...byShard].map(async ([shard, list]) => {
        const delta = packPersons(list);
        bytes += delta.persons.length;
        const id = baselineWorkflowId(orgId, shard);
        const cached = cache.get(id);
        const input: BaselineWorkflowInput = { orgId, shard };
        stats.updates++;
        const result = await client.workflow.executeUpdateWithStart(mergeBaselineUpdate, {
          args: [{ delta, now, forgetAfterMs, ...(cached ? { expectedVersion: cached.version } : {}) }],
          startWorkflowOperation: new WithStartWorkflowOperation<typeof baselineWorkflow>('baselineWorkflow', {
            workflowId: id, taskQueue, args: [input], workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        });
        if (result.stale) stats.staleUpdates++;
        // A shard missing at this worker's last load, merged first by this save (its workflow started from nothing, by
        // this save or just before by another writer's first merge, which would make this one `…:1`): it was empty.
        const startedEmpty = !cached && missing.has(id) && result.version !== undefined && result.previous !== undefined && result.previous.endsWith(':0');
        missing.delete(id);
        // Patch the copy only if it was exactly what the workflow merged over (and is still this worker's copy).
        const copy = cache.get(id);
        if (!startedEmpty && (!cached || copy !== cached || result.stale !== false || result.version === undefined)) {
          forget(id);
          return;
        }
        const patched = startedEmpty ? new Baselines(BASELINE_LIMITS.persons) : unpackBaselines(cached!.packed, BASELINE_LIMITS.persons);
        applyBaselineMerge(patched, { delta, now, forgetAfterMs });
        // The workflow's own count is a check that both ran the same merge (a shard started with another cap would not).
        if (patched.size !== result.persons) {
          forget(id);
          return;
        }
        remember(id, { version: result.version!, packed: packBaselines(patched) });
      }));
      return { persons, shards: byShard.size, bytes };
    },
  };
}
