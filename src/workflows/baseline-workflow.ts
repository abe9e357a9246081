import { allHandlersFinished, condition, continueAsNew, defineQuery, defineUpdate, makeContinueAsNewFunc, patched, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { BASELINE_LIMITS, isPackedBaselines, packBaselines, unpackBaselines, unpackPersons, type Baselines, type PackedBaselines } from '../detection/methods/baseline';

/**
 * Where the persons' baselines live (catalog v3, #23): one long-lived workflow per org and shard, holding its shard of the
 * org's baselines packed (src/detection/methods/baseline.ts).
 *
 * Why here: a baseline must outlive worker restarts, redeploys and the namespace's history retention (a lost baseline
 * is an alert storm, or a blind week of warm-up), and must not ride in every scheduled run's history. An open workflow
 * is never deleted by retention; its state is rebuilt from its own history after a restart; continue-as-new bounds that
 * history and carries the packed baseline once. A scan loads the shards with a query (no history written) and hands its
 * changes back with one update per shard it changed: the run's own history holds no baseline at all.
 *
 * Sharded by person (personKey % BASELINE_SHARDS) so that each continue-as-new input stays far below Temporal's 2 MiB
 * payload limit even at the caps: 20,000 persons × 255 B at worst = 5.1 MB raw in all, about 850 KB of base64 per shard
 * (a typical 20,000-person org: about 185 KB per shard).
 *
 * Versioned, so that a worker can cache the shards (src/activities/baseline-store.ts): every merge moves the shard to a
 * new version, `<first run id of the chain>:<merges so far>`, which the workflow also puts in its memo (`baselineVersion`),
 * in the same workflow task as the merge. Describing the workflow (served by the Temporal server from the execution's
 * own record, no worker involved) says whether a cached copy is still the shard; a query then reads it only when not.
 * A merge carries the version its sender last saw; a merge over a newer version is still applied (merging is
 * idempotent and commutative, so nothing the other writer taught is lost) and reported stale, so the sender drops
 * its copy instead of patching it.
 */
export const BASELINE_SHARDS = 8;
/** Continue-as-new after this many merges (a day and a half of 5-minute runs), or when Temporal suggests it. */
export const MERGES_PER_RUN = 500;

export interface BaselineWorkflowInput {
  orgId: string;
  shard: number;
  maxPersons?: number;
  packed?: PackedBaselines;
  /** Merges before continue-as-new (MERGES_PER_RUN unless given: tests use a few). */
  mergesPerRun?: number;
  /** Merges over the whole chain of runs (continue-as-new carries it): the sequence of the shard's version. */
  merges?: number;
}

export interface BaselineMerge {
  delta: PackedBaselines;
  /** The end of the scan's window: what is older than forgetAfterMs before it is pruned (deterministic: no clock). */
  now: number;
  forgetAfterMs: number;
  /** The shard's version the sender's copy was at (absent: it has none); a merge over another version is reported stale. */
  expectedVersion?: string;
}

export interface BaselineMergeResult {
  persons: number;
  /** The shard's version after this merge, and before it (absent from workflows started before versions). */
  version?: string;
  previous?: string;
  /** The sender's `expectedVersion` was not the version merged over: another writer changed the shard in between. */
  stale?: boolean;
}

export interface VersionedBaselines {
  packed: PackedBaselines;
  version: string;
}

export const baselineQuery = defineQuery<PackedBaselines>('baseline');
/** The shard and its version, read together. */
export const versionedBaselineQuery = defineQuery<VersionedBaselines>('versionedBaseline');
export const mergeBaselineUpdate = defineUpdate<BaselineMergeResult, [BaselineMerge]>('mergeBaseline');
/** The memo key holding the shard's version. */
export const BASELINE_VERSION_MEMO = 'baselineVersion';
const VERSION_PATCH = 'baseline-version-memo';

/** What a merge does to a shard: the workflow's handler, and a worker patching its cached copy, run exactly this. */
export function applyBaselineMerge(baselines: Baselines, { delta, now, forgetAfterMs }: Pick<BaselineMerge, 'delta' | 'now' | 'forgetAfterMs'>): void {
  baselines.merge(unpackPersons(delta));
  if (forgetAfterMs > 0) baselines.prune(now, forgetAfterMs);
  baselines.takeDelta();
}

export function baselineWorkflowId(orgId: string, shard: number): string {
  return `audit-spike-baseline-${orgId}-${shard}`;
}

export async function baselineWorkflow(input: BaselineWorkflowInput): Promise<void> {
  const baselines = unpackBaselines(input.packed, input.maxPersons ?? BASELINE_LIMITS.persons);
  let merges = 0;
  let total = input.merges ?? 0;
  const version = () => `${workflowInfo().firstExecutionRunId}:${total}`;
  // Workflows started before versions replay without the memo (no command where their history has none).
  if (patched(VERSION_PATCH)) upsertMemo({ [BASELINE_VERSION_MEMO]: version() });
  setHandler(baselineQuery, () => packBaselines(baselines));
  setHandler(versionedBaselineQuery, () => ({ packed: packBaselines(baselines), version: version() }));
  setHandler(mergeBaselineUpdate, (merge) => {
    const previous = version();
    applyBaselineMerge(baselines, merge);
    merges++;
    total++;
    if (!patched(VERSION_PATCH)) return { persons: baselines.size };
    upsertMemo({ [BASELINE_VERSION_MEMO]: version() });
    return {
      persons: baselines.size, version: version(), previous, ...(merge.expectedVersion !== undefined ? { stale: merge.expectedVersion !== previous } : {}),
    };
  }, {
    validator: ({ delta, now, forgetAfterMs, expectedVersion }) => {
      if (!isPackedBaselines(delta) || !Number.isFinite(now) || !Number.isFinite(forgetAfterMs) || (expectedVersion !== undefined && typeof expectedVersion !== 'string')) throw new Error('mergeBaseline needs { delta: PackedBaselines, now, forgetAfterMs, expectedVersion? }');
    },
  });
  await condition(() => merges >= (input.mergesPerRun ?? MERGES_PER_RUN) || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  const next: BaselineWorkflowInput = { ...input, packed: packBaselines(baselines), merges: total };
  // The next run starts with the same content and version, in its memo from its start (a cached copy stays valid).
  if (patched(VERSION_PATCH)) await makeContinueAsNewFunc<typeof baselineWorkflow>({ memo: { [BASELINE_VERSION_MEMO]: version() } })(next);
  await continueAsNew<typeof baselineWorkflow>(next);
}
