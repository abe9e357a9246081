import { ApplicationFailure } from '@temporalio/common';
import { phaseOffsetMs } from '../config/phase-offset';
import { createDatadogAuditClient } from '../activities/datadog-client';
import type { Environment } from '../activities/secrets';
import type { DatadogTarget } from '../config/args-schema';
import { ConfigError } from '../config/errors';
import { formatDuration } from '../detection/duration';
import { runBacktest, scheduleTicks } from '../replay/backtest';
import { ProgressBar } from '../replay/backtest-progress';
import { formatBacktest } from '../replay/backtest-report';
import { formatExplanation } from '../replay/explain';
import { parseBacktestFlags } from './backtest-flags';
import { explainFor } from './explain-flag';
import { UsageError, configForOrg, parseFlags, type CliCommand } from './flags';

/** At 5-minute runs this is about half a year, past the longest Audit Trail retention Datadog offers (90 days; 7 by default). */
const MAX_RUNS = 50_000;

/** The keys are read from the environment by the same names the worker uses; they are checked, never printed. */
function checkDatadogKeys(target: DatadogTarget, env: Environment): void {
  const missing = [target.apiKeyEnv, target.appKeyEnv].filter((name) => !env[name]?.trim());
  if (missing.length === 0) return;
  throw new ConfigError('the environment', missing.map((name) =>
    `${name} is not set: the backtest reads the Datadog Audit Trail with the ${name === target.apiKeyEnv ? 'API key (datadog.apiKeyEnv)' : 'application key (datadog.appKeyEnv, whose user needs the audit_logs_read permission)'} ` +
    `from this variable. Set it in this shell; its value is never printed.`));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const HELP = `Usage: audit-spike backtest --from T1 [--to T2] [--config FILE] [--org NAME] [--explain ACTOR] [--json]

Reads your Datadog Audit Trail over a past range, run by run as the Schedule would (same windows, same carried
state), and prints what it would have paged. Pages nothing. The Datadog keys come from the variables the config
names (datadog.apiKeyEnv, datadog.appKeyEnv; default DD_API_KEY, DD_APP_KEY); they are never printed.

Flags:
  --from T1        start of the range (required)
  --to T2          end of the range (default: now)
  --config FILE    YAML or JSON config (default: the built-in defaults)
  --org NAME       the org to read, when the config watches several (orgs:)
  --json           one JSON object on stdout instead of the readable report (default: off); with --explain,
                   the explanation is its "explain" key
  --explain ACTOR  say why ACTOR (as the report prints it: an email, service_account:<id>, api_key:<id>, unknown)
                   was or was not paged: per rule the busiest window's count against each tier, suppressions,
                   warm-up and baseline of the catalog v3 rules, and the runs that read its events

Times: 2026-11-24T10:00:00Z, 2026-11-24 (UTC midnight), epoch milliseconds, now, now-24h.
Datadog keeps audit events for datadog.retention (default 7d): a range reaching further back is said so, with
the date Datadog can be read from.
Exit status: 0 when it ran, 1 when Datadog failed it, 2 on bad arguments or configuration.

Example:
  audit-spike backtest --from now-24h --config audit-spike.yaml
  audit-spike backtest --from now-24h --explain mallory@example.com`;

/** `audit-spike backtest`: what the Schedule would have paged over a past range, run by run. */
async function runBacktestCommand(argv: string[], env: Environment = process.env): Promise<number> {
  const { values } = parseFlags(argv, { from: { type: 'string' }, to: { type: 'string' }, config: { type: 'string' }, org: { type: 'string' }, json: { type: 'boolean' }, explain: { type: 'string' } });
  const { org, ...timing } = values;
  const flags = parseBacktestFlags(timing, Date.now());
  if ('problems' in flags) throw new UsageError(flags.problems.join('\n'));
  const config = configForOrg(flags.config, org);
  const { args } = config;
  // The org's Schedule runs at its phase in the interval: the backtest plays the same runs.
  const phase = phaseOffsetMs(args.orgId, args.cadence.intervalMs);
  const ticks = scheduleTicks(flags.from, flags.to, args.cadence.intervalMs, phase).length;
  if (ticks === 0) {
    throw new UsageError(`--from/--to: no scheduled run falls between ${new Date(flags.from).toISOString()} and ${new Date(flags.to).toISOString()} ` +
      `(runs are every ${formatDuration(args.cadence.intervalMs)}, at multiples of schedule.interval plus this org's phase of ${formatDuration(phase)}); widen the range`);
  }
  if (ticks > MAX_RUNS) throw new UsageError(`--from/--to: ${ticks} runs is more than ${MAX_RUNS}; backtest a shorter range`);
  checkDatadogKeys(args.datadog, env);
  const explaining = flags.explain !== undefined ? explainFor(args, flags.explain) : undefined;

  const progress = process.stderr.isTTY ? new ProgressBar(process.stderr, ticks) : undefined;
  const note = (line: string) => (progress ? progress.log(line) : process.stderr.write(`${line}\n`));
  let paged = 0;
  let events = 0;
  try {
    const report = await runBacktest({
      args,
      fromMs: flags.from,
      toMs: flags.to,
      datadog: createDatadogAuditClient(args.datadog, env),
      skipPastRetention: true,
      phaseOffsetMs: phase,
      ...(explaining ? { watch: explaining.watch } : {}),
      hooks: {
        sleep,
        retrying: (reason, delayMs, attempt) => note(`audit-spike backtest: ${reason}; retrying in ${formatDuration(delayMs)} (attempt ${attempt + 1})`),
        runDone: (run, index, total) => {
          paged += run.actions.filter((action) => action.kind === 'trigger').length;
          events += run.eventsRead;
          progress?.update(index + 1, `${run.scheduledAt.slice(0, 16)}Z · ${events} events · ${paged} incidents`);
          if (index + 1 === total) progress?.clear();
        },
      },
    });
    const warnings = report.warnings ?? [];
    // Warnings come before the verdict: in the report's text, or on stderr before the JSON.
    if (flags.json) for (const warning of warnings) note(`audit-spike backtest: warning: ${warning}`);
    const explanation = explaining?.explain(report);
    process.stdout.write(flags.json
      ? `${JSON.stringify(explanation ? { ...report, explain: explanation } : report)}\n`
      : `${formatBacktest(report)}\n${explanation ? `\n${formatExplanation(explanation).join('\n')}\n` : ''}`);
    return 0;
  } catch (error) {
    progress?.clear();
    if (error instanceof ApplicationFailure) {
      const keys = `(The backtest reads the keys from ${args.datadog.apiKeyEnv} and ${args.datadog.appKeyEnv} in this shell's environment.)`;
      // The scan's own advice is for the worker ("the next scheduled run will retry"); a backtest is run again by hand.
      const message = error.type === 'DatadogAuthRejected'
        ? `${error.message.replace(/\s*Fix the worker's environment; the next scheduled run will retry\.\s*$/, '')} Set the right keys in this shell and run the backtest again.`
        : error.message.replace(/the next scheduled run will retry/g, 'run the backtest again');
      process.stderr.write(`audit-spike backtest: ${message}\n${error.type === 'DatadogAuthRejected' ? `${keys}\n` : ''}`);
      return 1;
    }
    throw error;
  }
}

export const backtestCommand: CliCommand = {
  name: 'backtest',
  summary: 'read Datadog over a past range as the schedule would, page nothing',
  help: HELP,
  run: (args) => runBacktestCommand(args),
};
