import { z } from 'zod';
import { parseDuration } from '../detection/duration';
import { failedRunsText, formatIncidentCsv, formatIncidentJson, formatIncidentTable, incidentRows, searchedText } from './incidents-format';
import { UsageError, parseFlags, type CliCommand } from './flags';

const MAX_SINCE_DAYS = 400;
const MAX_RUNS = 500;
const MAX_FAILED_RUNS = 100;

const HELP = `Usage: audit-spike incidents [--since 24h] [--org ORG] [--json|--csv]

Lists what was paged: every run that opened a PagerDuty incident in the window, found in Temporal by the search
attributes each run upserts (AuditSpikePaged = true, AuditSpikeOrg), and for each of those runs the incidents its
result reports: actor, severity, events per rule, what PagerDuty made of it (opened, updated, resolved, skipped, failed,
with the REST incident id), the dedup key and the run (workflow id and run id). Then the runs that failed or timed out
in the window (a page PagerDuty refused for an hour fails its run). Read from Temporal only; a namespace without the
AuditSpike* search attributes is told how to register them. Encrypted results are decoded with
AUDIT_SPIKE_ENCRYPTION_KEY, as for the worker.

Flags:
  --since DURATION   how far back runs started: a whole number of minutes, hours or days (30m, 24h, 7d; default 24h)
  --org ORG          only this org's runs (the AuditSpikeOrg of the run: the config's org name)
  --json             one JSON object: what was searched, the incidents and the failed runs
  --csv              CSV with a header, one incident record per line (failed runs are said on stderr)
Temporal from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables or a profile. At most ${MAX_RUNS}
runs are read, newest first (a note says so when more matched: narrow --since or name --org).
Exit status: 0 listed (none found included), 1 a run's result could not be read, Temporal unreachable or the namespace
lacks the search attributes, 2 bad arguments.

Example:
  audit-spike incidents
  audit-spike incidents --since 7d --org acme-eu --csv > paged.csv`;

const SinceSchema = z
  .string()
  .regex(/^\d+(m|h|d)$/, 'must be a whole number of minutes, hours or days, such as 30m, 24h or 7d')
  .transform((text) => parseDuration(text)!)
  .refine((ms) => ms > 0, 'must be longer than 0 (e.g. 30m)')
  .refine((ms) => ms <= MAX_SINCE_DAYS * 86_400_000, `must be at most ${MAX_SINCE_DAYS}d (Temporal keeps closed runs only for the namespace's retention anyway)`);

const OrgSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be an org name as the config writes it: letters, digits, _ . or -');

function parse<T>(flag: string, schema: z.ZodType<T>, value: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${flag} ${parsed.error.issues[0].message} (got "${value}")`);
  return parsed.data;
}

async function runIncidentsCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { values } = parseFlags(args, {
    since: { type: 'string', default: '24h' },
    org: { type: 'string' },
    json: { type: 'boolean', default: false },
    csv: { type: 'boolean', default: false },
  });
  if (values.json && values.csv) throw new UsageError('choose one of --json and --csv');
  const sinceMs = parse('--since', SinceSchema, values.since);
  const org = values.org === undefined ? undefined : parse('--org', OrgSchema, values.org);

  const { connectClient } = await import('../schedule');
  const { temporalSettings } = await import('../temporal-connection');
  const { MissingSearchAttributesError, readPagedRuns } = await import('../paged-runs');
  const { readFailedRuns } = await import('../failed-runs');
  const namespace = temporalSettings(env).namespace;
  const until = new Date();
  const since = new Date(until.getTime() - sinceMs);
  const client = await connectClient(env);
  try {
    let read: Awaited<ReturnType<typeof readPagedRuns>>;
    try {
      read = await readPagedRuns(client, namespace, { since, ...(org ? { org } : {}), maxRuns: MAX_RUNS });
    } catch (error) {
      if (!(error instanceof MissingSearchAttributesError)) throw error;
      process.stderr.write(`audit-spike incidents: ${error.message}\n`);
      return 1;
    }
    const failed = await readFailedRuns(client, namespace, { since, ...(org ? { org } : {}), maxRuns: MAX_FAILED_RUNS });
    const rows = incidentRows(read.runs);
    const context = { since: since.toISOString(), until: until.toISOString(), ...(org ? { org } : {}), namespace, query: read.query, runs: read.runs.length };
    process.stdout.write(values.json ? formatIncidentJson(rows, context, failed.runs) : values.csv ? formatIncidentCsv(rows) : formatIncidentTable(rows, context, failed.runs));
    if (values.csv && rows.length === 0) process.stderr.write(`audit-spike incidents: no paged runs ${searchedText(context)}\n`);
    if (values.csv && failed.runs.length) process.stderr.write(`audit-spike incidents: ${failedRunsText(failed.runs)}`);
    if (failed.truncated) process.stderr.write(`audit-spike incidents: more than ${MAX_FAILED_RUNS} runs failed; the newest ${MAX_FAILED_RUNS} are listed\n`);
    if (read.truncated) process.stderr.write(`audit-spike incidents: more than ${MAX_RUNS} runs paged; the newest ${MAX_RUNS} are listed (narrow --since or name --org)\n`);
    for (const run of read.unreadable) process.stderr.write(`audit-spike incidents: run ${run.workflowId} ${run.runId}: cannot read its result: ${run.reason}\n`);
    return read.unreadable.length ? 1 : 0;
  } finally {
    await client.connection.close();
  }
}

export const incidentsCommand: CliCommand = {
  name: 'incidents',
  summary: 'list what was paged (severity, counts, outcome, run), read from Temporal',
  help: HELP,
  run: (args) => runIncidentsCommand(args),
};
