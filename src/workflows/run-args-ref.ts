import { hash64 } from '../detection/hash';
import type { StateRef } from './run-result';

/**
 * Where a scan finds its org's config (rules, Datadog target): the arguments its run was started with, in the run's
 * start event, with their hash as the workflow decoded them. The config is then stored once per run, not again in
 * every scan's input.
 */
export interface ArgsRef {
  from: StateRef;
  /** runArgsHash of the run's raw arguments: the scan checks it read the config the workflow saw. */
  hash: string;
}

/** hash64 of the JSON of a run's arguments exactly as decoded (before parsing): the workflow's and the scan's agree. */
export function runArgsHash(rawArgs: unknown): string {
  return hash64(JSON.stringify(rawArgs) ?? 'undefined');
}
