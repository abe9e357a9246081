import { client, type v2 } from '@datadog/datadog-api-client';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { DatadogTargetSchema, DetectionSettingsSchema, describeIssues, type AuditSpikeArgs } from '../config/args-schema';
import { Detector } from '../detection/detector';
import { eventTimestamp, innerAttributes } from '../detection/event-fields';
import type { AuditEventLike } from '../detection/types';
import type { Baselines } from '../detection/methods';
import { DEFAULT_RETENTION_MS, pastRetention, retentionMessage } from '../detection/plan';
import { auditQueryFor, learningSetQuery } from '../detection/query';
import { Scan, type ScanContext, type ScanProgress, type ScanResult } from '../detection/scan';
import { packState } from '../detection/packed-state';
import { emptyState, isCarriedState, type PackedState, type StoredState } from '../detection/state';
import type { StateRef } from '../workflows/run-result';
import type { ArgsRef } from '../workflows/run-args-ref';
import type { LoadedState } from './carried-state-store';
import type { BaselineStore, LoadedBaselines } from './baseline-store';
import { BASELINE_SHARDS } from '../workflows/baseline-workflow';
import { DEFAULT_MAX_RESULT_BYTES, describeShedding, fitStateToBudget, lowestTiers, utf8Bytes } from '../detection/state-budget';
import { MalformedAuditPage, type DatadogAuditClient } from './datadog-client';
import type { AuditPage } from './audit-page';
import { needsAttention, passing } from './failures';

const RunRefSchema = z.object({ workflowId: z.string().min(1), runId: z.string().min(1) }).strict();

export const ScanInputSchema = z.object({
  orgId: z.string().min(1),
  /** The Datadog target and the detection settings inline, as versions before the config reference sent them... */
  datadog: DatadogTargetSchema.optional(),
  detection: DetectionSettingsSchema.optional(),
  /** ...or where they are: the run's own start input (stored once per run), with its hash as the workflow saw it. */
  config: z.object({ from: RunRefSchema, hash: z.string().min(1) }).strict().optional(),
  latenessMs: z.number().int().min(0),
  window: z.object({ readFrom: z.number(), from: z.number(), to: z.number() }).refine((w) => w.readFrom <= w.from && w.from < w.to, 'window must satisfy readFrom <= from < to'),
  runAt: z.number(),
  lateAfterMs: z.number(),
  /** The state inline: the first run's empty state, or one handed over by an earlier version. */
  state: z.unknown().refine(isCarriedState, 'state must be a carried state (v: 1, 2, 3, or 4 packed)').optional(),
  /** Else the run whose last completed scan returned the state (the previous run, or this run for its next chunk). */
  stateFrom: RunRefSchema.optional(),
}).refine((input) => (input.state === undefined) !== (input.stateFrom === undefined), 'exactly one of state and stateFrom must be given')
  .refine((input) => (input.config === undefined) === (input.datadog !== undefined && input.detection !== undefined), 'exactly one of config, or datadog and detection, must be given');
export type ScanInput = z.infer<typeof ScanInputSchema>;
/** A scan's input with its config in hand (read from the run's start input when the input refers to it). */
export type ResolvedScanInput = Omit<ScanInput, 'datadog' | 'detection' | 'config'> & Pick<WindowScanRequest, 'datadog' | 'detection'>;

export interface ScanOutput extends ScanResult {
  pages: number;
  /** The page the scan resumed from after a retry (0 when it started fresh). */
  resumedAtPage: number;
  query: string;
  /**
   * What a person should know about this read, in words: the window reached past Datadog's retention (with the date
   * reading could start from). Empty when there is nothing to say.
   */
  warnings: string[];
}

/**
 * A checkpoint: enough to resume mid-pagination after a crash (the activity's heartbeat details). `snapshot` is the
 * JSON of the scan's progress taken together with `cursor`, kept as text so it cannot change after it is taken; without
 * both (a partial aggregate too large to heartbeat, or an expired cursor), a retry reads the window from its start.
 */
export interface ScanHeartbeat {
  pages: number;
  cursor?: string;
  snapshot?: string;
}

/** One window to read and fold into the carried state: the activity's input once validated. */
export interface WindowScanRequest {
  orgId: string;
  datadog: z.infer<typeof DatadogTargetSchema>;
  detection: z.infer<typeof DetectionSettingsSchema>;
  window: ScanContext['window'];
  runAt: number;
  lateAfterMs: number;
  /** The state to start from; the scan takes it over and changes it in place (see `Scan.start`). */
  state: StoredState;
  /** Catalog v3: the persons' baselines; the scan reads and teaches them in place (see ScanContext.baselines). */
  baselines?: Baselines;
  /** The backtest's `--explain` (see ScanContext.watch); never set by the activity. */
  watch?: ScanContext['watch'];
}

/**
 * How the page loop waits and reports: in the activity, sleeping while heartbeating and heartbeating checkpoints; in a
 * backtest, plain waits and a progress bar. Everything else (queries, retries, resuming, checkpoints) is shared.
 */
export interface PageLoopHooks {
  /** A checkpoint a previous attempt reported (the activity's last heartbeat details); the scan resumes from it when usable. */
  resumeFrom?: unknown;
  /** How often to take a checkpoint while pages keep coming (0: after every page). */
  checkpointEveryMs: number;
  /** Waits before asking again (rate limit, transient failure); `latest` is the checkpoint last reported, if any. */
  wait(ms: number, latest: ScanHeartbeat | undefined): Promise<void>;
  /** Reports a checkpoint. */
  checkpoint(beat: ScanHeartbeat): void;
  /** After each page (a progress bar). */
  pageRead?(pages: number): void;
}

const TRANSIENT_ATTEMPTS = 4;
/** Reads of a partial page (meta.status "timeout" or warnings) before the attempt fails; each waits a little longer. */
const PARTIAL_READS = 3;
const PARTIAL_RETRY_MS = 1_000;
const RATE_LIMIT_ATTEMPTS = 20;

// Temporal refuses heartbeat details over 2 MiB and warns past 512 KiB (TMPRL1103). A partial aggregate larger than
// this is not checkpointed: the scan heartbeats without it, and a retry reads the window again from its start
// (counting nothing twice, as it starts from the run's input state); a window whose attempts keep dying then is read
// in halves by the workflow.
const MAX_SNAPSHOT_CHARS = 400_000;
/** `1795478400042,1234567890123456,` is a hit's share of a snapshot (31 characters); 24 keeps the estimate low. */
const MIN_CHARS_PER_MATCH = 24;

/** Time between checkpoints in the activity: often enough that a crash re-reads little, rarely enough to cost nothing. */
export const CHECKPOINT_EVERY_MS = 2_000;

class CursorRejected extends Error {}

function parseCheckpoint(value: unknown): { cursor: string; pages: number; progress: ScanProgress } | undefined {
  const beat = value as Partial<ScanHeartbeat> | undefined;
  if (!beat || typeof beat.cursor !== 'string' || typeof beat.snapshot !== 'string' || typeof beat.pages !== 'number') return undefined;
  try {
    const progress = JSON.parse(beat.snapshot) as ScanProgress;
    return progress && isCarriedState(progress.state) ? { cursor: beat.cursor, pages: beat.pages, progress } : undefined;
  } catch {
    return undefined;
  }
}

export interface ScanDeps {
  /** Reads the arguments a run was started with (the config an input refers to); needs a Temporal client. */
  loadArgs?(ref: ArgsRef): Promise<{ args: Pick<AuditSpikeArgs, 'datadog' | 'detection'>; warnings: string[] }>;
  datadogFor(orgId: string, target: z.infer<typeof DatadogTargetSchema>): DatadogAuditClient;
  detectorFor(detection: z.infer<typeof DetectionSettingsSchema>, latenessMs: number): Detector;
  /** Fetches the state a run's last scan returned (from its history); absent when the worker has no Temporal client. */
  loadState?(ref: StateRef): Promise<LoadedState>;
  /** Catalog v3: where the persons' baselines live (the org's baseline workflows); absent when the worker has no Temporal client. */
  baselines?: BaselineStore;
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
): Promise<AuditPage> {
  let transient = 0;
  let limited = 0;
  for (;;) {
    try {
      return await dd.searchPage(body);
    } catch (error) {
      const status = error instanceof client.ApiException ? error.code : undefined;
      const detail = error instanceof client.ApiException ? JSON.stringify(error.body).slice(0, 300)
        : error instanceof MalformedAuditPage ? `a 200 whose body is not an audit events page: ${error.message}` : (error as Error).message;
      if (status === 401 || status === 403) {
        throw needsAttention(
          'DatadogAuthRejected',
          `Datadog answered ${status} to the audit events search for org "${orgId}": the API key in ${target.apiKeyEnv} or the ` +
            `application key in ${target.appKeyEnv} is wrong, revoked, for another site, or its user lacks the audit_logs_read permission. ` +
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
 * A page Datadog could not complete: `meta.status` other than `done`, or `meta.warnings` ("Partial results may return if
 * warnings are present": AuditLogsResponseMetadata in .generator/schemas/v2/openapi.yaml @ f722578514a6b8d464aa1ecdf909bb39260c0dc3).
 * An unknown status deserializes to an UnparsedObject, which is not `done` either.
 */
function partialReason(page: AuditPage): string | undefined {
  const status = page.meta?.status as unknown;
  const warnings = page.meta?.warnings ?? [];
  if ((status === undefined || status === 'done') && warnings.length === 0) return undefined;
  const said = warnings.map((w) => [w.code, w.title, w.detail].filter(Boolean).join(': ')).join('; ');
  return `meta.status ${typeof status === 'string' ? `"${status}"` : JSON.stringify(status ?? 'absent')}${said ? `, warnings: ${said}` : ''}`.slice(0, 400);
}

/**
 * Pages through one window of the audit trail and folds every event into the scan: Datadog's 429s wait as told, 5xx and
 * timeouts back off, 401/403 and rejected queries fail at once. The next page is requested before the current one is
 * folded, so detection runs while Datadog answers. An expired cursor fails the attempt (retryable) with a checkpoint
 * that makes the retry read the window from its start: the state this attempt was given has been changed in place.
 * A partial page is never folded: it is read again, and if it stays partial the attempt fails (retryable) and resumes
 * from the last checkpoint, which holds only complete pages. An empty page ends the window, whatever cursor it carries
 * (Datadog's own paginators stop on an empty page: AuditApi.ts listAuditLogsWithPagination @ a9b17f2a0).
 */
export async function scanWindowPages(dd: DatadogAuditClient, detector: Detector, request: WindowScanRequest, hooks: PageLoopHooks): Promise<ScanOutput> {
  const context: ScanContext = {
    orgId: request.orgId, window: request.window, runAt: request.runAt, lateAfterMs: request.lateAfterMs, ...(request.baselines ? { baselines: request.baselines } : {}),
    ...(request.watch ? { watch: request.watch } : {}),
  };
  const query = auditQueryFor(request.detection.rules, request.detection.readOnlyActions, request.datadog.query);
  const saved = parseCheckpoint(hooks.resumeFrom);
  const scan = saved ? Scan.resume(detector, context, saved.progress) : Scan.start(detector, context, request.state);
  let pages = saved ? saved.pages : 0;
  const resumedAtPage = pages;
  let lastBeat: ScanHeartbeat | undefined = saved ? (hooks.resumeFrom as ScanHeartbeat) : undefined;
  let lastCheckpointAt = Date.now();
  let snapshotsTooLarge = false;

  const fetchPage = (cursor: string | undefined, latest: ScanHeartbeat | undefined) => {
    const body: v2.AuditLogsSearchEventsRequest = {
      filter: { query, from: new Date(request.window.readFrom).toISOString(), to: new Date(request.window.to).toISOString() },
      page: { limit: request.datadog.pageLimit, ...(cursor ? { cursor } : {}) },
      sort: 'timestamp',
    };
    const pending = searchPage(dd, body, request.datadog, request.orgId, hooks, latest);
    // Awaited after the current page is folded; until then a failure must not count as unhandled.
    pending.catch(() => undefined);
    return pending;
  };

  let requested = saved?.cursor;
  let next = fetchPage(requested, lastBeat);
  let partialReads = 0;
  for (;;) {
    let page: AuditPage;
    try {
      page = await next;
    } catch (error) {
      if (!(error instanceof CursorRejected)) throw error;
      hooks.checkpoint({ pages: 0 });
      throw passing('DatadogCursorExpired', `Datadog no longer accepts this window's page cursor (${error.message}); the retry reads the window again from its start`);
    }
    const partial = partialReason(page);
    if (partial) {
      if (++partialReads >= PARTIAL_READS) {
        throw passing('DatadogPartialResults',
          `Datadog answered page ${pages + 1} of the audit events search for org "${request.orgId}" with partial results ${PARTIAL_READS} times in a row ` +
            `(${partial}); the window ${new Date(request.window.from).toISOString()} → ${new Date(request.window.to).toISOString()} is not complete, so it is not ` +
            'counted: the retry reads it again from the last complete page, and nothing is counted twice');
      }
      await hooks.wait(PARTIAL_RETRY_MS * partialReads, lastBeat);
      next = fetchPage(requested, lastBeat);
      continue;
    }
    partialReads = 0;
    const cursor = page.size ? page.meta?.page?.after : undefined;
    if (cursor) {
      requested = cursor;
      next = fetchPage(cursor, lastBeat);
      // The client builds and sends the request in promise continuations: without a turn of the event loop here it
      // would not leave until the page below is folded, and Datadog's time to answer would add to ours, not overlap it.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    try {
      for (const event of page.events()) scan.add(event as Parameters<Scan['add']>[0]);
    } catch (error) {
      if (!(error instanceof MalformedAuditPage)) throw error;
      // Part of the page is folded: the attempt fails, and its retry resumes from the last checkpoint (complete pages only).
      throw passing('DatadogResponseMalformed', `Datadog answered page ${pages + 1} of the audit events search for org "${request.orgId}" with a body that is not JSON (${error.message}); the retry reads it again from the last complete page`);
    }
    pages++;
    hooks.pageRead?.(pages);
    if (!cursor) break;
    const now = Date.now();
    if (now - lastCheckpointAt < hooks.checkpointEveryMs) continue;
    lastCheckpointAt = now;
    let snapshot: string | undefined;
    // Each event matched so far is at least one hit of about 31 characters in the snapshot: past that, do not serialize
    // the aggregate just to find it too large. Within one window it only grows, so once too large it stays so.
    if (!snapshotsTooLarge && scan.matchedSoFar * MIN_CHARS_PER_MATCH > MAX_SNAPSHOT_CHARS) snapshotsTooLarge = true;
    if (!snapshotsTooLarge) {
      snapshot = JSON.stringify(scan.progress());
      if (snapshot.length > MAX_SNAPSHOT_CHARS) snapshotsTooLarge = true;
    }
    lastBeat = snapshotsTooLarge ? { pages } : { pages, cursor, snapshot };
    hooks.checkpoint(lastBeat);
  }
  const retentionMs = request.datadog.retentionMs ?? DEFAULT_RETENTION_MS;
  const gone = pastRetention(request.window.readFrom, request.window.to, Date.now(), retentionMs);
  const warnings = gone ? [retentionMessage(gone.from, gone.readableFrom, retentionMs)] : [];
  return { ...scan.finish(), pages, resumedAtPage, query, warnings };
}

/**
 * First enable (catalog v3): the org has no baseline yet, so it is seeded from the Audit Trail's own past within its
 * retention, as Datadog's "instantaneous baseline" does: the learning set of [from, to) is read (the learning-set query
 * only) and taught to the baselines; nothing fires. Every person's warm-up then runs from their oldest event still in the
 * Audit Trail, so with the default 7-day retention it ends within hours instead of a week. Returns the pages read.
 */
export async function seedBaselines(
  dd: DatadogAuditClient, detector: Detector, request: Pick<WindowScanRequest, 'orgId' | 'datadog' | 'detection'>, baselines: Baselines,
  fromMs: number, toMs: number, hooks: Pick<PageLoopHooks, 'wait' | 'checkpoint'>,
): Promise<number> {
  const learning = learningSetQuery(request.detection.rules);
  if (learning === undefined || fromMs >= toMs) return 0;
  const query = request.datadog.query.trim() ? `${learning} (${request.datadog.query.trim()})` : learning;
  const loopHooks: PageLoopHooks = { checkpointEveryMs: 0, wait: hooks.wait, checkpoint: hooks.checkpoint };
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const body: v2.AuditLogsSearchEventsRequest = {
      filter: { query, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
      page: { limit: request.datadog.pageLimit, ...(cursor ? { cursor } : {}) },
      sort: 'timestamp',
    };
    const page = await searchPage(dd, body, request.datadog, request.orgId, loopHooks, undefined);
    pages++;
    for (const event of page.events()) {
      const inner = innerAttributes(event as AuditEventLike);
      const ts = eventTimestamp(event as AuditEventLike);
      if (inner === undefined || ts !== ts || ts < fromMs || ts >= toMs) continue;
      // Only teaches: a learning-set event is never sensitive here, and whatever a rule would say of the past is dropped.
      detector.methods.observe(inner, ts, false, baselines);
    }
    hooks.checkpoint({ pages: 0 });
    cursor = page.size ? page.meta?.page?.after : undefined;
    if (!cursor) return pages;
  }
}

/** What the scan activity returns: its state packed for Temporal (version 4). */
export interface PackedScanOutput extends Omit<ScanOutput, 'state' | 'query'> {
  state: PackedState;
}

export function createScanAuditEvents(deps: ScanDeps) {
  return async function scanAuditEvents(rawInput: ScanInput): Promise<PackedScanOutput> {
    const parsed = ScanInputSchema.safeParse(rawInput);
    if (!parsed.success) throw needsAttention('BadScanInput', `scanAuditEvents got invalid input:\n${describeIssues(parsed.error).join('\n')}`);
    const { input, warnings: configWarnings } = await withConfig(deps, parsed.data);
    const loaded = await startingState(deps, rawInput, input.window.from);
    const state = loaded.state;
    const ctx = Context.current();
    const detector = deps.detectorFor(input.detection, input.latenessMs);
    const dd = deps.datadogFor(input.orgId, input.datadog);
    // Catalog v3: the org's baselines, loaded from their workflows (a query: nothing in this run's history), read and
    // taught by the scan, and its changes handed back (one update per changed shard) once the window is folded.
    const taskQueue = ctx.info.taskQueue;
    let baselines: LoadedBaselines | undefined;
    if (detector.methods.learns) {
      if (deps.baselines) {
        baselines = await deps.baselines.load(input.orgId, taskQueue);
        // First enable: seeded from the Audit Trail's past within its retention (see seedBaselines).
        if (baselines.missingShards === BASELINE_SHARDS && input.detection.seedBaselines && !ctx.info.heartbeatDetails) {
          const retentionMs = input.datadog.retentionMs ?? DEFAULT_RETENTION_MS;
          const pages = await seedBaselines(deps.datadogFor(input.orgId, input.datadog), detector, input, baselines.baselines,
            Math.max(0, Date.now() - retentionMs + 60_000), input.window.readFrom, { wait: waitHeartbeating, checkpoint: () => ctx.heartbeat() });
          ctx.log.info('No baseline stored for this org yet: seeded from the Audit Trail within its retention', { orgId: input.orgId, pages, persons: baselines.baselines.size });
        }
      } else {
        ctx.log.warn('The baseline rules (new value, impossible travel) did not run: their baselines live in Temporal and this worker has no Temporal client', { orgId: input.orgId });
      }
    }
    const output = await scanWindowPages(dd, detector, { ...input, state, ...(baselines ? { baselines: baselines.baselines } : {}) }, {
      resumeFrom: ctx.info.heartbeatDetails,
      // A checkpoint at least a few times per heartbeat timeout, which is also how the scan tells Temporal it is alive.
      checkpointEveryMs: Math.min(CHECKPOINT_EVERY_MS, (ctx.info.heartbeatTimeoutMs ?? 60_000) / 4),
      wait: waitHeartbeating,
      checkpoint: (beat) => ctx.heartbeat(beat),
    });
    if (baselines && deps.baselines) await deps.baselines.save(input.orgId, taskQueue, baselines.baselines, input.window.to, detector.methods.forgetAfterMs);
    const said = [...configWarnings, ...(loaded.warning ? [loaded.warning] : [])];
    const { packed, ...kept } = keepWithinBudget(said.length ? { ...output, warnings: [...said, ...output.warnings] } : output, detector, input.latenessMs);
    // The Datadog query follows from the config (auditQueryFor): the run's history need not keep a copy of it each run.
    const { query: _query, ...returned } = kept;
    return { ...returned, state: packed };
  };
}

/** The input with its config: as sent, or read from the start input of the run it names (checked against its hash). */
async function withConfig(deps: ScanDeps, input: ScanInput): Promise<{ input: ResolvedScanInput; warnings: string[] }> {
  const { config, datadog, detection, ...rest } = input;
  if (!config) return { input: { ...rest, datadog: datadog!, detection: detection! }, warnings: [] };
  if (!deps.loadArgs) {
    throw needsAttention('NoTemporalClient', 'The config is kept in the run\'s start input, and this worker has no Temporal client to read it: start the worker with `audit-spike worker` (or pass temporalClient to createAuditSpikeWorker)');
  }
  const { args, warnings } = await deps.loadArgs(config);
  return { input: { ...rest, datadog: args.datadog, detection: args.detection }, warnings };
}

/**
 * The state to start from: inline (the input's own, taken as given: zod's parse would copy it), or fetched from the
 * history of the run that holds it. A history that is gone (long downtime past the namespace's retention) does not fail
 * the run: it starts from an empty state at the cursor, and says so.
 */
async function startingState(deps: ScanDeps, rawInput: ScanInput, from: number): Promise<{ state: StoredState; warning?: string }> {
  if (rawInput.stateFrom === undefined) {
    if (!isCarriedState(rawInput.state)) throw needsAttention('BadScanInput', 'state must be a carried state');
    return { state: rawInput.state };
  }
  if (!deps.loadState) {
    throw needsAttention('NoTemporalClient', 'The carried state is kept in the previous run\'s history, and this worker has no Temporal client to read it: start the worker with `audit-spike worker` (or pass temporalClient to createAuditSpikeWorker)');
  }
  const loaded = await deps.loadState(rawInput.stateFrom);
  if ('state' in loaded) return { state: loaded.state };
  return {
    state: emptyState(from),
    warning: `The carried state could not be read (${loaded.gone}): this run went on from the cursor with an empty state, so ` +
      'bursts in progress start counting again and an ongoing burst may be paged again as a new incident',
  };
}

/** What a run's result holds besides the state and what this scan returns (window, report, counts): a generous allowance. */
const RESULT_ENVELOPE_BYTES = 16 * 1024;

/**
 * Keeps the scan's result, and the run's result made from it, within `limits.maxResultBytes`: Temporal refuses a
 * payload over 2 MiB, which would fail the run and stop the pipeline. The state gets what the rest of the result
 * leaves (at least a quarter of the budget); past that the least useful carried state is shed, and the run says so.
 */
export function keepWithinBudget(output: ScanOutput, detector: Detector, latenessMs: number): ScanOutput & { packed: PackedState } {
  const maxBytes = detector.settings.limits.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const rest = utf8Bytes(JSON.stringify({ ...output, state: null }));
  const budgetBytes = Math.max(Math.floor(maxBytes / 4), maxBytes - rest - RESULT_ENVELOPE_BYTES);
  // The last measure is of the state as it ends up (each shedding step measures again): its packed form is the result.
  let packed: PackedState | undefined;
  const shed = fitStateToBudget(output.state, {
    budgetBytes,
    thresholds: lowestTiers(detector.rules.rules),
    // As it crosses Temporal: packed (its base64 and rule ids are ASCII; incidents may not be).
    measure: (state) => utf8Bytes(JSON.stringify((packed = packState(state, latenessMs)))),
  });
  packed ??= packState(output.state, latenessMs);
  return { ...output, ...(shed ? { warnings: [...output.warnings, describeShedding(shed)] } : {}), packed };
}
