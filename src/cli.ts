import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './config/errors';
import { loadFleet } from './config/fleet';
import type { ResolvedConfig } from './config/resolve';
import { formatDuration } from './detection/duration';
import { dryRunEvents, formatDryRun, readJsonl } from './dry-run';
import { runScheduleCommand, SCHEDULE_COMMANDS } from './schedule-cli';

const USAGE = `audit-spike: page the security on-call when one Datadog actor bursts through sensitive admin actions.

Usage:
  audit-spike dry-run --events FILE.jsonl [--config FILE] [--json]   replay a sample as the schedule would, page nothing
  audit-spike backtest --from T1 [--to T2] [--config FILE] [--json]  read Datadog over a past range as the schedule would, page nothing
  audit-spike rules test [--config FILE] [--rule ID] [--json]         run the example events written beside the rules
  audit-spike config check FILE                                       validate a config file (every org in it)
  audit-spike worker                                                  run a worker (Temporal settings from TEMPORAL_* / profiles)
  audit-spike schedule ${SCHEDULE_COMMANDS.join('|')} [--config FILE] [options]
  audit-spike codec-server [--port 8888] [--origin URL]               decrypt payloads for the web UI (AUDIT_SPIKE_ENCRYPTION_KEY)
  audit-spike dev                                                     the local stack (same as npm start)

Times (T1, T2): 2026-11-24T10:00:00Z, 2026-11-24, epoch milliseconds, now, now-24h.
A config watching several orgs (orgs:) needs --org NAME for dry-run and backtest; rules test runs every org's tests.
Exit status: 0 done, 1 failed while running (or a rule test failed), 2 bad arguments or configuration (reason on stderr).`;

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

/** The org to act on: the config's only one, or the one --org names (a config may watch several under `orgs:`). */
export function configForOrg(path: string | undefined, org: string | undefined): ResolvedConfig {
  const fleet = loadFleet(path);
  const names = fleet.map((config) => config.args.orgId);
  if (org !== undefined) {
    const found = fleet.find((config) => config.args.orgId === org);
    if (!found) throw new UsageError(`--org: no org "${org}" in ${path ?? 'the built-in defaults'}; it watches ${names.join(', ')}`);
    return found;
  }
  if (fleet.length > 1) throw new UsageError(`--org: the config watches ${fleet.length} orgs (${names.join(', ')}); choose one with --org NAME`);
  return fleet[0];
}

async function dryRunCommand(args: string[]): Promise<number> {
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

async function configCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'check') throw new UsageError('usage: audit-spike config check FILE');
  const { positionals } = parseFlags(rest, {}, 1);
  if (!positionals[0]) throw new UsageError('usage: audit-spike config check FILE');
  for (const config of loadFleet(positionals[0])) {
    const enabled = config.args.detection.rules.filter((rule) => rule.enabled);
    const tests = config.ruleTests.reduce((sum, entry) => sum + entry.tests.length, 0);
    const { suppress } = config.args.detection;
    process.stdout.write(
      `${positionals[0]}: OK. org "${config.args.orgId}", schedule "${config.schedule.scheduleId}" every ${formatDuration(config.schedule.intervalMs)}, ` +
        `${enabled.length} rules enabled (${enabled.map((rule) => rule.id).join(', ')}), ` +
        `${suppress.actors.length} allowlisted actor pattern(s), ${suppress.maintenanceWindows.length} maintenance window(s), PagerDuty ${config.args.pagerduty.mode} mode` +
        `${tests ? `; ${tests} rule test(s): run them with audit-spike rules test --config ${positionals[0]}` : ''}.\n`,
    );
  }
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
      case 'backtest': {
        const { runBacktestCommand } = await import('./backtest-cli');
        return await runBacktestCommand(rest);
      }
      case 'rules': {
        const { runRulesCommand } = await import('./rules-test-cli');
        return await runRulesCommand(rest);
      }
      case 'schedule':
        return await runScheduleCommand(rest);
      case 'worker': {
        parseFlags(rest, {});
        const { runWorker } = await import('./worker');
        await runWorker();
        return 0;
      }
      case 'codec-server': {
        const { runCodecServerCommand } = await import('./codec-cli');
        return await runCodecServerCommand(rest);
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
