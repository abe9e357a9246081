import type { Environment } from '../secrets';
import { createNotePagerDuty } from './note';
import { createContainmentSteps } from './steps';

export type { StepInput, StepResult } from './steps';
export type { NoteInput, NoteResult } from './note';

/** The containment activities (#17), clients built once per worker. */
export function createContainmentActivities(deps: { env: Environment }) {
  const steps = createContainmentSteps({ env: deps.env });
  return {
    containmentStep: steps.containmentStep,
    undoContainmentStep: steps.undoContainmentStep,
    notePagerDuty: createNotePagerDuty({ env: deps.env }),
  };
}
