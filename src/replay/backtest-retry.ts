import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { DatadogAuditClient } from '../activities/datadog-client';
import { CHECKPOINT_EVERY_MS, scanWindowPages, type ScanHeartbeat, type ScanOutput, type WindowScanRequest } from '../activities/scan-audit-events';
import type { Detector } from '../detection/detector';

/** The workflow's retry policy for the scan activity (2s, doubling, at most 2 minutes apart); a backtest gives up sooner. */
export const SCAN_RETRY = { initialMs: 2_000, coefficient: 2, maximumMs: 120_000, attempts: 6 };

export interface ScanRetryHooks {
  sleep(ms: number): Promise<void>;
  /** After each page (a progress bar). */
  pageRead?(pages: number): void;
  /** How often to checkpoint while pages keep coming; default as the activity does. */
  checkpointEveryMs?: number;
  /** Before each retry, with the reason and the wait. */
  retrying?(reason: string, delayMs: number, attempt: number): void;
}

/**
 * Reads one window as the scan activity does, with Temporal's retries played out in process: a retryable failure
 * (Datadog unavailable, rate limited too long) waits as the activity's retry policy would, then resumes from the last
 * checkpoint, exactly as a retried activity resumes from its heartbeat. A failure a person must fix is thrown at once.
 * Each attempt without a checkpoint starts from a fresh copy of the request's state, as a retried activity gets its
 * input afresh from Temporal (a scan changes the state it is given).
 */
export async function scanWindowWithRetries(dd: DatadogAuditClient, detector: Detector, request: WindowScanRequest, hooks: ScanRetryHooks): Promise<ScanOutput> {
  const input = JSON.stringify(request.state);
  let checkpoint: ScanHeartbeat | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await scanWindowPages(dd, detector, { ...request, state: JSON.parse(input) as WindowScanRequest['state'] }, {
        resumeFrom: checkpoint,
        checkpointEveryMs: hooks.checkpointEveryMs ?? CHECKPOINT_EVERY_MS,
        wait: (ms) => hooks.sleep(ms),
        checkpoint: (beat) => {
          checkpoint = beat;
        },
        pageRead: (pages) => hooks.pageRead?.(pages),
      });
    } catch (error) {
      if (!(error instanceof ApplicationFailure) || error.nonRetryable || attempt >= SCAN_RETRY.attempts) throw error;
      const backoff = Math.min(SCAN_RETRY.initialMs * SCAN_RETRY.coefficient ** (attempt - 1), SCAN_RETRY.maximumMs);
      const delayMs = error.nextRetryDelay != null ? msToNumber(error.nextRetryDelay) : backoff;
      hooks.retrying?.(error.message, delayMs, attempt);
      await hooks.sleep(delayMs);
    }
  }
}
