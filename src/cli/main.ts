import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/errors';
import { isTemporalUnreachable, probeTemporal, temporalUnreachableMessage } from '../temporal-connection';
import { UsageError, missingFile, wantsHelp, type CliCommand } from './flags';

/**
 * Commands probed for Temporal before they run: the worker loads seconds of modules before it connects. The others
 * check their flags and config first, then connect with the client's short connect timeout.
 */
const NEEDS_TEMPORAL = new Set(['worker']);

/** Each subcommand's module, loaded only when it is used (the worker and the dev stack pull in a lot). */
const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  'dry-run': async () => (await import('./dry-run')).dryRunCommand,
  backtest: async () => (await import('./backtest')).backtestCommand,
  rules: async () => (await import('./rules')).rulesCommand,
  config: async () => (await import('./config')).configCommand,
  worker: async () => (await import('./worker')).workerCommand,
  schedule: async () => (await import('./schedule')).scheduleCommand,
  'codec-server': async () => (await import('./codec-server')).codecServerCommand,
  respond: async () => (await import('./respond')).respondCommand,
  incidents: async () => (await import('./incidents')).incidentsCommand,
  webhooks: async () => (await import('./webhooks')).webhooksCommand,
  dev: async () => (await import('./dev')).devCommand,
};

const USAGE = `audit-spike: page the security on-call when one Datadog actor bursts through sensitive admin actions.

Usage:
  audit-spike dry-run --events FILE.jsonl [--config FILE] [--json]   replay a sample as the schedule would, page nothing
  audit-spike backtest --from T1 [--to T2] [--config FILE] [--json]  read Datadog over a past range as the schedule would, page nothing
  audit-spike rules test [--config FILE] [--rule ID] [--json]         run the example events written beside the rules
  audit-spike config check --config FILE [--show]                    validate a config file (every org in it); --show the effective catalog
  audit-spike worker                                                  run a worker (Temporal settings from TEMPORAL_* / profiles)
  audit-spike schedule apply|describe|pause|unpause|trigger|backfill|delete [--config FILE] [options]
  audit-spike codec-server [--port 8888] [--origin URL]               decrypt payloads for the web UI (AUDIT_SPIKE_ENCRYPTION_KEY)
  audit-spike respond INCIDENT [--approve STEP ...|--all] [--undo]    show, approve or undo an incident's containment plan
  audit-spike incidents [--since 24h] [--org ORG] [--json|--csv]      list what was paged (severity, counts, outcome, run), from Temporal
  audit-spike webhooks [--port 8788] [--config FILE]                  approve containment plans from PagerDuty (signed webhooks)
  audit-spike dev                                                     the local stack (same as npm start)
  audit-spike help COMMAND                                            a command's flags, defaults and an example (or COMMAND --help)
  audit-spike --version                                               the version

Times (T1, T2): 2026-11-24T10:00:00Z, 2026-11-24, epoch milliseconds, now, now-24h.
A config watching several orgs (orgs:) needs --org NAME for dry-run and backtest; rules test runs every org's tests.
Exit status: 0 done, 1 failed while running (or a rule test failed), 2 bad arguments or configuration (reason on stderr).`;

/** The package's version, from the package.json above this file (src/cli or dist/src/cli). */
export function version(): string {
  for (let dir = __dirname, i = 0; i < 5; dir = dirname(dir), i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'audit-spike' && pkg.version) return pkg.version;
    } catch {
      // Not here: one level up.
    }
  }
  return 'unknown';
}

function unknownCommand(name: string): UsageError {
  return new UsageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
}

async function help(args: string[]): Promise<number> {
  const [name] = args;
  if (name === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) throw unknownCommand(name);
  process.stdout.write(`${(await load()).help}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  let command: CliCommand | undefined;
  try {
    if (name === undefined) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (name === 'help' || name === '--help' || name === '-h') return await help(rest);
    if (name === '--version' || name === '-V' || name === 'version') {
      process.stdout.write(`audit-spike ${version()}\n`);
      return 0;
    }
    const load = COMMANDS[name];
    if (!load) throw unknownCommand(name);
    command = await load();
    if (wantsHelp(rest)) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    // The worker finds out at once, in one line, when Temporal is not there (before loading its modules).
    // Only once the arguments are ones the command takes: a mistaken flag is still a usage error (exit 2) first.
    if (NEEDS_TEMPORAL.has(command.name) && rest.every((arg) => arg === '--versioning')) await probeTemporal(process.env);
    return await command.run(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`audit-spike: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      const pointer = command ? `audit-spike ${command.name} --help` : 'audit-spike --help';
      process.stderr.write(`audit-spike${command ? ` ${command.name}` : ''}: ${error.message}\nRun \`${pointer}\` for its flags and an example.\n`);
      return 2;
    }
    const where = command ? `audit-spike ${command.name}` : 'audit-spike';
    if (isTemporalUnreachable(error)) {
      process.stderr.write(`${where}: ${temporalUnreachableMessage(process.env)}\n`);
      return 1;
    }
    const missing = missingFile(error);
    if (missing) {
      process.stderr.write(`${where}: ${missing}\n`);
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
