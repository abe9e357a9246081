import { client, type v2 } from '@datadog/datadog-api-client';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { DatadogTargetSchema, DetectionSettingsSchema, describeIssues } from '../config/args-schema';
import { Detector } from '../detection/detector';
import { auditQueryFor } from '../detection/query';
import { Scan, type ScanContext, type ScanProgress, type ScanResult } from '../detection/scan';
import { isCarriedState, type CarriedState } from '../detection/state';
import type { DatadogAuditClient } from './datadog-client';
import { needsAttention, passing } from './failures';

export const ScanInputSchema = z.object({
  orgId: z.string().min(1),
  datadog: DatadogTargetSchema,
  detection: DetectionSettingsSchema,
  latenessMs: z.number().int().min(0),
  window: z.object({ readFrom: z.number(), from: z.number(), to: z.number() }).refine((w) => w.readFrom <= w.from && w.from < w.to, 'window must satisfy readFrom <= from < to'),
  runAt: z.number(),
  lateAfterMs: z.number(),
  state: z.unknown().refine(isCarriedState, 'state must be a carried state (v: 1)'),
});
export type ScanInput = z.infer<typeof ScanInputSchema>;

export interface ScanOutput extends ScanResult {
  pages: number;
  /** The page the scan resumed from after a retry (0 when it started fresh). */
  resumedAtPage: number;
  query: string;
}

/** What a scan reports after each page: enough to resume mid-pagination after a crash (the activity's heartbeat details). */
export interface ScanHeartbeat {
  cursor: string;
  pages: number;
  progress: ScanProgress;
}

/** One window to read and fold into the carried state: the activity's input once validated. */
export interface WindowScanRequest {
  orgId: string;
  datadog: z.infer<typeof DatadogTargetSchema>;
  detection: z.infer<typeof DetectionSettingsSchema>;
  window: ScanContext['window'];
  runAt: number;
  lateAfterMs: number;
  state: CarriedState;
}

/**
 * How the page loop waits and reports: in the activity, sleeping while heartbeating and heartbeating each page; in a
 * backtest, plain waits and a progress bar. Everything else (queries, retries, resuming, cursor restart) is shared.
 */
export interface PageLoopHooks {
  /** Progress a previous attempt reported (the activity's last heartbeat details); the scan resumes from it when usable. */
  resumeFrom?: unknown;
  /** Waits before asking again (rate limit, transient failure); `latest` is the progress last reported, if any. */
  wait(ms: number, latest: ScanHeartbeat | undefined): Promise<void>;
  /** Called after each page that has a next page. */
  pageRead(progress: ScanHeartbeat): void;
}

const TRANSIENT_ATTEMPTS = 4;
const RATE_LIMIT_ATTEMPTS = 20;

const MAX_RESUMABLE_HEARTBEAT_BYTES = 1_000_000;

class CursorRejected extends Error {}

export interface ScanDeps {
  datadogFor(orgId: string, target: z.infer<typeof DatadogTargetSchema>): DatadogAuditClient;
  detectorFor(detection: z.infer<typeof DetectionSettingsSchema>, latenessMs: number): Detector;
}

/** Sleeps in slices, heartbeating, so long rate-limit waits do not trip the heartbeat timeout. */
async function waitHeartbeating(ms: number, details: unknown): Promise<void> {
  const ctx = Context.current();
  let left = ms;
  while (left > 0) {
    const slice = Math.min(left, 5_000);
    await ctx.sleep(slice);
    left -= slice;
    ctx.heartbeat(details);
  }
}

async function searchPage(
  dd: DatadogAuditClient,
  body: v2.AuditLogsSearchEventsRequest,
  target: z.infer<typeof DatadogTargetSchema>,
  orgId: string,
  hooks: PageLoopHooks,
  latest: ScanHeartbeat | undefined,
): Promise<v2.AuditLogsEventsResponse> {
  let transient = 0;
  let limited = 0;
  for (;;) {
    try {
      return await dd.api.searchAuditLogs({ body });
    } catch (error) {
      const status = error instanceof client.ApiException ? error.code : undefined;
      const detail = error instanceof client.ApiException ? JSON.stringify(error.body).slice(0, 300) : (error as Error).message;
      if (status === 401 || status === 403) {
        throw needsAttention(
          'DatadogAuthRejected',
          `Datadog answered ${status} to the audit events search for org "${orgId}": the API key in ${target.apiKeyEnv} or the ` +
            `application key in ${target.appKeyEnv} is wrong, revoked, for another site, or lacks the audit_trail_read scope. ` +
            `Fix the worker's environment; the next scheduled run will retry.`,
        );
      }
      if (status === 400 && body.page?.cursor) throw new CursorRejected(detail);
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw needsAttention('DatadogRequestRejected', `Datadog rejected the audit events search for org "${orgId}" with ${status}: ${detail}. Check datadog.query in the config.`);
      }
      if (status === 429) {
        const waitS = Math.max(1, dd.http.rateLimit.reset ?? 5);
        if (++limited > RATE_LIMIT_ATTEMPTS) throw passing('DatadogRateLimited', `Datadog kept answering 429 (${dd.http.rateLimit.name ?? 'rate limit'})`, waitS * 1000);
        await hooks.wait(waitS * 1000, latest);
        continue;
      }
      if (++transient >= TRANSIENT_ATTEMPTS) {
        throw passing('DatadogUnavailable', `Datadog audit events search failed ${transient} times for org "${orgId}": ${status ?? ''} ${detail}`.trim());
      }
      await hooks.wait(500 * 2 ** transient, latest);
    }
  }
}

/**
 * Pages through one window of the audit trail and folds every event into the scan: Datadog's 429s wait as told, 5xx and
 * timeouts back off, 401/403 and rejected queries fail at once, an expired cursor restarts the window from the run's state.
 */
export async function scanWindowPages(dd: DatadogAuditClient, detector: Detector, request: WindowScanRequest, hooks: PageLoopHooks): Promise<ScanOutput> {
  const { state } = request;
  const context: ScanContext = { orgId: request.orgId, window: request.window, runAt: request.runAt, lateAfterMs: request.lateAfterMs };
  const query = auditQueryFor(request.detection.rules, request.detection.readOnlyActions, request.datadog.query);

  const saved = hooks.resumeFrom as ScanHeartbeat | undefined;
  const resumable = saved && typeof saved.cursor === 'string' && saved.progress && isCarriedState(saved.progress.state);
  let scan = resumable ? Scan.resume(detector, context, saved.progress) : Scan.start(detector, context, state);
  let cursor: string | undefined = resumable ? saved.cursor : undefined;
  let pages = resumable ? saved.pages : 0;
  const resumedAtPage = pages;
  let lastBeat: ScanHeartbeat | undefined = resumable ? saved : undefined;

  for (;;) {
    const body: v2.AuditLogsSearchEventsRequest = {
      filter: { query, from: new Date(request.window.readFrom).toISOString(), to: new Date(request.window.to).toISOString() },
      page: { limit: request.datadog.pageLimit, ...(cursor ? { cursor } : {}) },
      sort: 'timestamp',
    };
    let page: v2.AuditLogsEventsResponse;
    try {
      page = await searchPage(dd, body, request.datadog, request.orgId, hooks, lastBeat);
    } catch (error) {
      if (!(error instanceof CursorRejected)) throw error;
      // The page cursor expired (e.g. a long outage between attempts): start this window again from the run's state.
      scan = Scan.start(detector, context, state);
      cursor = undefined;
      pages = 0;
      lastBeat = undefined;
      continue;
    }
    for (const event of page.data ?? []) scan.add(event as Parameters<Scan['add']>[0]);
    pages++;
    cursor = page.meta?.page?.after;
    if (!cursor) break;
    const snapshot = JSON.stringify({ cursor, pages, progress: scan.progress() });
    // Temporal refuses heartbeat details over 2 MiB. A partial aggregate that large is not resumable: heartbeat without
    // it, and a retry reads this window again from its start (counting nothing twice, as it starts from the run's state).
    lastBeat = (snapshot.length <= MAX_RESUMABLE_HEARTBEAT_BYTES ? JSON.parse(snapshot) : { pages }) as ScanHeartbeat;
    hooks.pageRead(lastBeat);
  }
  return { ...scan.finish(), pages, resumedAtPage, query };
}

export function createScanAuditEvents(deps: ScanDeps) {
  return async function scanAuditEvents(rawInput: ScanInput): Promise<ScanOutput> {
    const parsed = ScanInputSchema.safeParse(rawInput);
    if (!parsed.success) throw needsAttention('BadScanInput', `scanAuditEvents got invalid input:\n${describeIssues(parsed.error).join('\n')}`);
    const input = parsed.data;
    const state = rawInput.state as ScanInput['state'] & object;
    if (!isCarriedState(state)) throw needsAttention('BadScanInput', 'state must be a carried state');
    const ctx = Context.current();
    const detector = deps.detectorFor(input.detection, input.latenessMs);
    const dd = deps.datadogFor(input.orgId, input.datadog);
    return scanWindowPages(dd, detector, { ...input, state }, {
      resumeFrom: ctx.info.heartbeatDetails,
      wait: waitHeartbeating,
      pageRead: (progress) => ctx.heartbeat(progress),
    });
  };
}
