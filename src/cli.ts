import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './config/errors';
import { loadConfig } from './config/load';
import { dryRunEvents, formatDryRun, readJsonl } from './dry-run';
import { runScheduleCommand, SCHEDULE_COMMANDS } from './schedule-cli';

const USAGE = `audit-spike: page the security on-call when one Datadog actor bursts through sensitive admin actions.

Usage:
  audit-spike dry-run --events FILE.jsonl [--config FILE] [--json]   replay a sample as the schedule would, page nothing
  audit-spike config check FILE                                       validate a config file
  audit-spike worker                                                  run a worker (Temporal settings from TEMPORAL_* / profiles)
  audit-spike schedule ${SCHEDULE_COMMANDS.join('|')} [--config FILE] [options]
  audit-spike dev                                                     the local stack (same as npm start)

Exit status: 0 done, 1 failed while running, 2 bad arguments or configuration (reason on stderr).`;

export class UsageError extends Error {}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = 0) {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: allowPositionals > 0 });
    if (parsed.positionals.length > allowPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[allowPositionals]}"`);
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

async function dryRunCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { events: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (!values.events) throw new UsageError('--events FILE.jsonl is required');
  const config = loadConfig(values.config);
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

async function configCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'check') throw new UsageError('usage: audit-spike config check FILE');
  const { positionals } = parseFlags(rest, {}, 1);
  if (!positionals[0]) throw new UsageError('usage: audit-spike config check FILE');
  const config = loadConfig(positionals[0]);
  const enabled = config.args.detection.rules.filter((rule) => rule.enabled);
  process.stdout.write(
    `${positionals[0]}: OK. org "${config.args.orgId}", schedule "${config.schedule.scheduleId}" every ${config.schedule.intervalMs / 1000}s, ` +
      `${enabled.length} rules enabled (${enabled.map((rule) => rule.id).join(', ')}), PagerDuty ${config.args.pagerduty.mode} mode.\n`,
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dry-run':
        return await dryRunCommand(rest);
      case 'config':
        return await configCommand(rest);
      case 'schedule':
        return await runScheduleCommand(rest);
      case 'worker': {
        parseFlags(rest, {});
        const { runWorker } = await import('./worker');
        await runWorker();
        return 0;
      }
      case 'dev': {
        const { runDevStack } = await import('../sim/dev-stack');
        await runDevStack(rest);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`audit-spike: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`audit-spike: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`audit-spike: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
