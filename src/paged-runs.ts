import { ServiceError, type Client } from '@temporalio/client';
import { missingSearchAttributes, registrationCommands } from './activities/search-attributes';
import type { IncidentRecord, RunResult } from './workflows/run-result';

/** The namespace cannot be searched by the AuditSpike* attributes: the message says which and how to register them. */
export class MissingSearchAttributesError extends Error {
  constructor(readonly namespace: string, readonly missing: string[]) {
    super(
      `namespace "${namespace}" lacks the search attributes ${missing.join(', ')}, so paged runs cannot be found in it ` +
        `(runs still page; they are just not searchable). Register them, then runs from then on are listed:\n${registrationCommands(namespace, missing)}`,
    );
    this.name = 'MissingSearchAttributesError';
  }
}

/** One run that paged, as read from Temporal: where it is, and the incident records its result carries. */
export interface PagedRun {
  workflowId: string;
  runId: string;
  /** The org the run watched (its result's orgId, which the run also upserted as AuditSpikeOrg). */
  org: string;
  startTime: Date;
  /** The Schedule's nominal time of the run (its result's scheduledAt), else its start. */
  scheduledAt: string;
  incidents: IncidentRecord[];
}

/** The visibility query for the runs that paged since `since` (in one org): the attributes each run upserts at its end. */
export function pagedRunsQuery(since: Date, org?: string): string {
  return [`AuditSpikePaged = true`, `StartTime >= "${since.toISOString()}"`, ...(org ? [`AuditSpikeOrg = "${org}"`] : [])].join(' AND ');
}

export interface PagedRunsRead {
  runs: PagedRun[];
  /** Runs found whose result could not be read or decoded, and why (one sentence each). */
  unreadable: Array<{ workflowId: string; runId: string; reason: string }>;
  /** More runs matched than `maxRuns`: the newest `maxRuns` were read. */
  truncated: boolean;
}

/** The gRPC code and the server's own message, from the error or its causes. */
function grpcError(error: unknown): { code?: number; messages: string } {
  let code: number | undefined;
  const messages: string[] = [];
  for (let cause = error as { code?: unknown; cause?: unknown; message?: unknown; details?: unknown } | undefined, depth = 0; cause && depth < 5; cause = cause.cause as typeof cause, depth++) {
    if (code === undefined && typeof cause.code === 'number') code = cause.code;
    messages.push(String(cause.message ?? ''), String(cause.details ?? ''));
  }
  return { code, messages: messages.join(' ') };
}

/** Why a result could not be read, said so a person knows what to set. */
function unreadableReason(error: unknown): string {
  const message = String((error as Error)?.message ?? error).split('\n')[0];
  if (/binary\/encrypted|encrypted with key|decrypt|auth(entication)? tag/i.test(message)) {
    return `its result is encrypted and this process cannot decrypt it (${message}): set AUDIT_SPIKE_ENCRYPTION_KEY ` +
      '(and AUDIT_SPIKE_ENCRYPTION_OLD_KEYS) as the worker has them';
  }
  return message;
}

export interface ListedRun {
  workflowId: string;
  runId: string;
  startTime: Date;
}

/**
 * The runs the query finds, from the visibility API itself: the SDK's list would decode every run's memo, which fails
 * for an encrypted memo without the key before a single run is named; the results are read (and decoded) one by one.
 */
export async function listRuns(client: Client, namespace: string, query: string, maxRuns: number): Promise<{ found: ListedRun[]; truncated: boolean }> {
  const found: ListedRun[] = [];
  let nextPageToken: Uint8Array | undefined;
  try {
    do {
      const page = await client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: Math.min(maxRuns + 1, 1000), ...(nextPageToken ? { nextPageToken } : {}) });
      for (const execution of page.executions ?? []) {
        const { workflowId, runId } = execution.execution ?? {};
        if (!workflowId || !runId) continue;
        if (found.length === maxRuns) return { found, truncated: true };
        const seconds = Number(execution.startTime?.seconds ?? 0);
        found.push({ workflowId, runId, startTime: new Date(seconds * 1000 + Math.floor((execution.startTime?.nanos ?? 0) / 1e6)) });
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  } catch (error) {
    // INVALID_ARGUMENT naming a search attribute: the query names one the namespace does not know.
    const { code, messages } = grpcError(error);
    if (code === 3 && /AuditSpike|search attribute/i.test(messages)) {
      const all = ['AuditSpikeOrg', 'AuditSpikePaged', 'AuditSpikeSeverity', 'AuditSpikeEventsRead'];
      const missing = await missingSearchAttributes(client, namespace).catch(() => all);
      throw new MissingSearchAttributesError(namespace, missing.length ? missing : all);
    }
    // As the SDK's own list would: a ServiceError whose cause carries the gRPC code (14: Temporal went away).
    throw new ServiceError('Failed to list workflows', { cause: error as Error });
  }
  return { found, truncated: false };
}

/**
 * The runs that paged since `since` (in one org), found with the visibility query on the AuditSpike* search
 * attributes, each with the incident records of its result (decoded with the client's data converter).
 */
export async function readPagedRuns(
  client: Client,
  namespace: string,
  options: { since: Date; org?: string; maxRuns?: number; concurrency?: number },
): Promise<PagedRunsRead & { query: string }> {
  const query = pagedRunsQuery(options.since, options.org);
  const { found, truncated } = await listRuns(client, namespace, query, options.maxRuns ?? 500);
  const runs: PagedRun[] = [];
  const unreadable: PagedRunsRead['unreadable'] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, found.length)) }, async () => {
    while (next < found.length) {
      const info = found[next++];
      try {
        const result = (await client.workflow.getHandle(info.workflowId, info.runId, { followRuns: false }).result()) as RunResult | undefined;
        if (!result || !Array.isArray(result.incidents)) throw new Error('its result is not an audit-spike run result');
        runs.push({
          workflowId: info.workflowId, runId: info.runId, org: result.orgId, startTime: info.startTime,
          scheduledAt: typeof result.scheduledAt === 'string' ? result.scheduledAt : info.startTime.toISOString(),
          incidents: result.incidents,
        });
      } catch (error) {
        unreadable.push({ workflowId: info.workflowId, runId: info.runId, reason: unreadableReason(error) });
      }
    }
  });
  await Promise.all(lanes);
  return { query, runs, unreadable, truncated };
}
