import { ActorResolver } from './actor';
import { MethodSet } from './methods';
import { CompiledRules } from './rules';
import type { DetectionSettings } from './types';

/** The detection settings, compiled once and shared by every scan that uses them. */
export class Detector {
  readonly rules: CompiledRules;
  readonly actors: ActorResolver;
  /** The derived rules (catalog v3): new value, impossible travel, correlation. */
  readonly methods: MethodSet;
  /** A burst ends after this long with no matching event by its actor. */
  readonly quietMs: number;
  /** How far back matched events are kept: the longest rule window or the re-read overlap for late events. */
  readonly horizonMs: number;

  constructor(readonly settings: DetectionSettings, readonly latenessMs: number) {
    this.rules = new CompiledRules(settings.rules, settings.readOnlyActions);
    this.actors = new ActorResolver(settings.actorFields, settings.actorNameFields);
    this.methods = new MethodSet(this.rules.rules);
    this.quietMs = this.rules.maxWindowMs;
    // Correlation (multi_rule) keeps per-actor crossing times for its own span (ActorState.crossed), not hits.
    this.horizonMs = Math.max(this.quietMs, latenessMs);
  }
}
