import { z } from 'zod';
import { DEFAULT_EARLIEST_MS, EventsFileError, LATEST_SLACK_MS } from '../replay/events-file';
import { INPUT_PROBLEM_EXIT, dryRunFile, formatDryRun } from '../replay/dry-run';
import { fileUnreadable } from '../config/file-error';
import { formatExplanation } from '../replay/explain';
import { ExplainFlagSchema, explainFor } from './explain-flag';
import { UsageError, configForOrg, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike dry-run --events FILE [--config FILE] [--org NAME] [--earliest TIME] [--latest TIME] [--explain ACTOR] [--json]

Replays a sample of Datadog audit events through the same code as the live schedule (one simulated run per
schedule interval, state carried between runs) and prints what it would have paged. Pages nothing.

Flags:
  --events FILE       Datadog audit events, as JSON Lines (one element of data[] per line), a saved API response
                      {"data": [...]} (one page or several, one line or pretty-printed), or a JSON array (required)
  --config FILE       YAML or JSON config (default: the built-in defaults)
  --org NAME          the org to replay, when the config watches several (orgs:)
  --earliest TIME     events before this ISO time are implausible: skipped and counted (default: 2000-01-01T00:00:00Z)
  --latest TIME       events after this ISO time are implausible: skipped and counted (default: now + 1 day)
  --json              one JSON object on stdout instead of the readable report (default: off); with --explain,
                      the explanation is its "explain" key
  --explain ACTOR     say why ACTOR (as the report prints it: an email, service_account:<id>, api_key:<id>,
                      unknown) was or was not paged: per rule the busiest window's count against each tier,
                      suppressions, warm-up and baseline of the catalog v3 rules, and the runs that read its events

Exit status: 0 when it ran (incidents or not), 2 on bad arguments or configuration, 3 when the file gives no
verdict: no event read, no usable timestamp, or more than half of the events skipped (never "Quiet" then).

Example:
  audit-spike dry-run --events .data/sample-day.jsonl --config audit-spike.yaml --json
  audit-spike dry-run --events .data/sample-day.jsonl --explain mallory@example.com`;

/** An ISO 8601 time (a date alone is midnight UTC), as epoch ms. */
const isoTime = (flag: string) => z.string().transform((value, ctx) => {
  const ms = /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(value) ? Date.parse(/T/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `${flag}: must be an ISO 8601 time such as 2026-11-24T10:00:00Z or a date such as 2026-11-24 (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
  return ms;
});

function parseTime(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = isoTime(flag).safeParse(value);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
  return parsed.data;
}

async function run(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    events: { type: 'string' }, config: { type: 'string' }, org: { type: 'string' }, json: { type: 'boolean', default: false },
    earliest: { type: 'string' }, latest: { type: 'string' }, explain: { type: 'string' },
  });
  if (!values.events) throw new UsageError('--events FILE is required');
  const earliestMs = parseTime('--earliest', values.earliest, DEFAULT_EARLIEST_MS);
  const latestMs = parseTime('--latest', values.latest, Date.now() + LATEST_SLACK_MS);
  if (earliestMs > latestMs) throw new UsageError(`--earliest (${new Date(earliestMs).toISOString()}) must not be after --latest (${new Date(latestMs).toISOString()})`);
  let actor: string | undefined;
  if (values.explain !== undefined) {
    const parsed = ExplainFlagSchema.safeParse(values.explain);
    if (!parsed.success) throw new UsageError(`--explain: ${parsed.error.issues[0].message}`);
    actor = parsed.data;
  }
  const config = configForOrg(values.config, values.org);
  const explaining = actor !== undefined ? explainFor(config.args, actor) : undefined;
  let output;
  try {
    output = dryRunFile(values.events, { earliestMs, latestMs }, config.args, explaining?.watch);
  } catch (error) {
    if (error instanceof EventsFileError) throw new UsageError(`--events ${error.message}`);
    if ((error as NodeJS.ErrnoException).code === undefined) throw error;
    throw fileUnreadable(error, values.events, '--events');
  }
  const explanation = explaining?.explain(output);
  process.stdout.write(values.json
    ? `${JSON.stringify(explanation ? { ...output, explain: explanation } : output)}\n`
    : `${formatDryRun(output)}\n${explanation ? `\n${formatExplanation(explanation).join('\n')}\n` : ''}`);
  if (output.inputProblem) {
    process.stderr.write(`audit-spike dry-run: no verdict: ${output.inputProblem}\n`);
    return INPUT_PROBLEM_EXIT;
  }
  return 0;
}

export const dryRunCommand: CliCommand = {
  name: 'dry-run',
  summary: 'replay a sample as the schedule would, page nothing',
  help: HELP,
  run,
};
