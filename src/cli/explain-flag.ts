import { z } from 'zod';
import type { AuditSpikeArgs } from '../config/args-schema';
import { Detector } from '../detection/detector';
import type { SuppressedBurst } from '../detection/scan';
import { ActorWatch } from '../replay/explain-collect';
import { explainActor, type Explanation } from '../replay/explain';
import type { IncidentOutput } from '../replay/incidents';

/** `--explain ACTOR`: an actor id as the reports print it. */
export const ExplainFlagSchema = z.string().trim().min(1, 'name an actor as the report prints it, e.g. --explain mallory@example.com, service_account:<id> or api_key:<id>');

/** The watch a replay feeds for `--explain`, and how to turn what it saw into the explanation once the replay is done. */
export function explainFor(args: AuditSpikeArgs, actor: string): { watch: ActorWatch; explain(report: { incidents: readonly IncidentOutput[]; suppressed: readonly SuppressedBurst[] }): Explanation } {
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const watch = new ActorWatch(detector, actor);
  return {
    watch,
    explain: ({ incidents, suppressed }) => explainActor({ facts: watch.result(), rules: detector.rules.rules, incidents, suppressed, suppress: args.detection.suppress }),
  };
}
