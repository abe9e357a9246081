import { dryRunEvents, formatDryRun, readJsonl } from '../replay/dry-run';
import { UsageError, configForOrg, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike dry-run --events FILE.jsonl [--config FILE] [--org NAME] [--json]

Replays a sample of Datadog audit events through the same code as the live schedule (one simulated run per
schedule interval, state carried between runs) and prints what it would have paged. Pages nothing.

Flags:
  --events FILE.jsonl   one audit event per line, as an element of data[] in the v2 audit events API (required)
  --config FILE         YAML or JSON config (default: the built-in defaults)
  --org NAME            the org to replay, when the config watches several (orgs:)
  --json                one JSON object on stdout instead of the readable report (default: off)

Exit status: 0 when it ran (incidents or not), 2 on bad arguments or configuration.

Example:
  audit-spike dry-run --events .data/sample-day.jsonl --config audit-spike.yaml --json`;

async function run(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { events: { type: 'string' }, config: { type: 'string' }, org: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (!values.events) throw new UsageError('--events FILE.jsonl is required');
  const config = configForOrg(values.config, values.org);
  let read;
  try {
    read = await readJsonl(values.events);
  } catch (error) {
    throw new UsageError(`cannot read --events ${values.events}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const output = dryRunEvents(read.events, read.badLines, config.args);
  process.stdout.write(values.json ? `${JSON.stringify(output)}\n` : `${formatDryRun(output)}\n`);
  return 0;
}

export const dryRunCommand: CliCommand = {
  name: 'dry-run',
  summary: 'replay a sample as the schedule would, page nothing',
  help: HELP,
  run,
};
