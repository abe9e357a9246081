import { allHandlersFinished, condition, continueAsNew, defineQuery, defineUpdate, setHandler, workflowInfo } from '@temporalio/workflow';
import { BASELINE_LIMITS, isPackedBaselines, packBaselines, unpackBaselines, unpackPersons, type PackedBaselines } from '../detection/methods/baseline';

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
}

export interface BaselineMerge {
  delta: PackedBaselines;
  /** The end of the scan's window: what is older than forgetAfterMs before it is pruned (deterministic: no clock). */
  now: number;
  forgetAfterMs: number;
}

export const baselineQuery = defineQuery<PackedBaselines>('baseline');
export const mergeBaselineUpdate = defineUpdate<{ persons: number }, [BaselineMerge]>('mergeBaseline');

export function baselineWorkflowId(orgId: string, shard: number): string {
  return `audit-spike-baseline-${orgId}-${shard}`;
}

export async function baselineWorkflow(input: BaselineWorkflowInput): Promise<void> {
  const baselines = unpackBaselines(input.packed, input.maxPersons ?? BASELINE_LIMITS.persons);
  let merges = 0;
  setHandler(baselineQuery, () => packBaselines(baselines));
  setHandler(mergeBaselineUpdate, ({ delta, now, forgetAfterMs }) => {
    baselines.merge(unpackPersons(delta));
    if (forgetAfterMs > 0) baselines.prune(now, forgetAfterMs);
    baselines.takeDelta();
    merges++;
    return { persons: baselines.size };
  }, {
    validator: ({ delta, now, forgetAfterMs }) => {
      if (!isPackedBaselines(delta) || !Number.isFinite(now) || !Number.isFinite(forgetAfterMs)) throw new Error('mergeBaseline needs { delta: PackedBaselines, now, forgetAfterMs }');
    },
  });
  await condition(() => merges >= (input.mergesPerRun ?? MERGES_PER_RUN) || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof baselineWorkflow>({ ...input, packed: packBaselines(baselines) });
}
