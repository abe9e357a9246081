import { WithStartWorkflowOperation, WorkflowNotFoundError, isGrpcServiceError, type Client } from '@temporalio/client';
import { Baselines, packPersons, unpackPersons, type PersonBaseline } from '../detection/methods/baseline';
import {
  BASELINE_SHARDS, baselineQuery, baselineWorkflowId, mergeBaselineUpdate, type BaselineWorkflowInput, type baselineWorkflow,
} from '../workflows/baseline-workflow';

/** gRPC NOT_FOUND. */
const NOT_FOUND = 5;

export interface LoadedBaselines {
  baselines: Baselines;
  /** Shards that did not exist yet (the org's first scan with baseline rules). */
  missingShards: number;
  /** Base64 characters read (the packed shards). */
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

export function shardOf(key: number): number {
  return key % BASELINE_SHARDS;
}

/** The store in Temporal: one baseline workflow per org and shard, read by query and changed by update (never by the run's history). */
export function temporalBaselineStore(client: Client): BaselineStore {
  return {
    async load(orgId) {
      const baselines = new Baselines();
      let missingShards = 0;
      let bytes = 0;
      const shards = await Promise.all(Array.from({ length: BASELINE_SHARDS }, async (_, shard) => {
        try {
          return await client.workflow.getHandle(baselineWorkflowId(orgId, shard)).query(baselineQuery);
        } catch (error) {
          if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === NOT_FOUND)) return undefined;
          throw error;
        }
      }));
      for (const packed of shards) {
        if (packed === undefined) {
          missingShards++;
          continue;
        }
        bytes += packed.persons.length;
        baselines.merge(unpackPersons(packed));
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
        const input: BaselineWorkflowInput = { orgId, shard };
        await client.workflow.executeUpdateWithStart(mergeBaselineUpdate, {
          args: [{ delta, now, forgetAfterMs }],
          startWorkflowOperation: new WithStartWorkflowOperation<typeof baselineWorkflow>('baselineWorkflow', {
            workflowId: baselineWorkflowId(orgId, shard), taskQueue, args: [input], workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        });
      }));
      return { persons, shards: byShard.size, bytes };
    },
  };
}
