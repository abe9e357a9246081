import { ApplicationFailure } from '@temporalio/common';

/** A failure a person must fix (configuration, credentials): retrying cannot help, so the run fails with this message. */
export function needsAttention(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** A passing failure: Temporal retries the activity, after `delayMs` when the service told us how long to wait. */
export function passing(type: string, message: string, delayMs?: number): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, ...(delayMs ? { nextRetryDelay: delayMs } : {}) });
}
