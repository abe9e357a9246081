import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ConfigError } from '../config/errors';
import { loadFleet } from '../config/fleet';
import { FLEET_APPLY_DEFAULTS } from '../config/fleet';
import { connectClient, describeSchedule, formatRunOutcome, phaseOffsetMs, recentRunOutcomes, reconcileSchedules } from '../schedule';
import { UsageError, parseFlags, type CliCommand } from './flags';

const SCHEDULE_COMMANDS = ['apply', 'describe', 'pause', 'unpause', 'trigger', 'backfill', 'delete'] as const;

function parseTime(flag: string, value: string | undefined): Date {
  const date = value === undefined ? new Date(Number.NaN) : new Date(/^\d+$/.test(value) ? Number(value) : value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${flag} must be an ISO 8601 time such as 2026-11-24T10:00:00Z (got ${value ?? 'nothing'})`);
  return date;
}

const HELP = `Usage: audit-spike schedule ${SCHEDULE_COMMANDS.join('|')} [--config FILE] [--org NAME] [options]

The same operations as \`temporal schedule …\`, on the Schedule the config names (schedule.id; one per org).
Temporal settings come from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables or a profile.

Subcommands:
  apply       create or update every org's Schedule in place; delete Schedules of orgs no longer in the config
              (each org starts at its own offset in the interval, derived from its name; resumable: run it again)
  describe    state, next runs, and how each recent run ended (paged and at which severity, quiet, or failed)
  pause       pause (--note TEXT)
  unpause     unpause (--note TEXT)
  trigger     start one run now (overlap: skip)
  backfill    run the schedule over a past range (--from T1 --to T2, ISO 8601)
  delete      delete the Schedule

Flags:
  --config FILE        YAML or JSON config (default: the built-in defaults)
  --org NAME           act on this org's Schedule only (apply: nothing is deleted)
  --schedule-id ID     act on this Schedule id instead of the config's
  --note TEXT          pause/unpause note (default: "paused with audit-spike schedule pause")
  --from T1, --to T2   backfill range
  --no-prune           apply: keep Schedules of orgs no longer in the config (default: off)
  --rate N             apply: requests per second to Temporal (default ${FLEET_APPLY_DEFAULTS.ratePerSecond}, as Temporal Cloud allows)
  --concurrency N      apply: Schedules worked on at once (default ${FLEET_APPLY_DEFAULTS.concurrency})
  --runs N             describe: how many recent runs to show (default 5)

Example:
  audit-spike schedule apply --config audit-spike.yaml
  audit-spike schedule backfill --from 2026-11-24T10:00:00Z --to 2026-11-24T12:00:00Z`;

/** `audit-spike schedule …`: the same operations as `temporal schedule …`, named by the config's schedule id. */
async function runScheduleCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!SCHEDULE_COMMANDS.includes(sub as (typeof SCHEDULE_COMMANDS)[number])) {
    throw new UsageError(`usage: audit-spike schedule ${SCHEDULE_COMMANDS.join('|')} [--config FILE]`);
  }
  const { values } = parseFlags(rest, {
    config: { type: 'string' },
    'schedule-id': { type: 'string' },
    note: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    org: { type: 'string' },
    'no-prune': { type: 'boolean', default: false },
    rate: { type: 'string' },
    concurrency: { type: 'string' },
    runs: { type: 'string' },
  });
  const positive = (flag: string, value: string | undefined, fallback: number, integer: boolean): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag} must be a positive ${integer ? 'whole ' : ''}number (got ${value})`);
    return n;
  };
  const rate = positive('rate', values.rate, FLEET_APPLY_DEFAULTS.ratePerSecond, false);
  const concurrency = positive('concurrency', values.concurrency, FLEET_APPLY_DEFAULTS.concurrency, true);
  const runs = positive('runs', values.runs, 5, true);
  const fleet = loadFleet(values.config);
  const orgs = fleet.map((config) => config.args.orgId);
  const chosen = values.org ? fleet.filter((config) => config.args.orgId === values.org) : fleet;
  if (values.org && chosen.length === 0) throw new ConfigError(values.config ?? 'built-in defaults', [`--org ${values.org}: no such org; the config watches ${orgs.join(', ')}`]);
  if (sub !== 'apply' && !values['schedule-id'] && chosen.length > 1) {
    throw new UsageError(`the config watches ${chosen.length} orgs (${orgs.join(', ')}); choose one with --org NAME`);
  }
  const config = chosen[0];
  const scheduleId = values['schedule-id'] ?? config.schedule.scheduleId;
  const client = await connectClient();
  try {
    const handle = client.schedule.getHandle(scheduleId);
    switch (sub) {
      case 'apply': {
        // With --org only that org's Schedule is applied and nothing is deleted; without, the namespace is reconciled.
        const started = Date.now();
        const tally: Record<string, number> = {};
        await reconcileSchedules(client, chosen, {
          prune: !values.org && !values['no-prune'],
          ratePerSecond: rate,
          concurrency,
          onChange(change) {
            tally[change.outcome] = (tally[change.outcome] ?? 0) + 1;
            const config = chosen.find((c) => c.schedule.scheduleId === change.scheduleId);
            const every = config
              ? ` (every ${config.schedule.intervalMs / 1000}s at +${phaseOffsetMs(config.args.orgId, config.schedule.intervalMs) / 1000}s on task queue ${config.schedule.taskQueue})`
              : '';
            process.stdout.write(`schedule ${change.scheduleId} [org ${change.orgId}]: ${change.outcome}${change.outcome === 'deleted' ? ' (no longer in the config)' : every}\n`);
          },
        });
        const summary = Object.entries(tally).map(([outcome, n]) => `${n} ${outcome}`).join(', ') || 'nothing to do';
        process.stdout.write(`applied ${chosen.length} org(s) in ${((Date.now() - started) / 1000).toFixed(1)}s: ${summary}\n`);
        break;
      }
      case 'describe': {
        const description = await describeSchedule(client, scheduleId);
        if (!description) {
          process.stderr.write(`schedule ${scheduleId} does not exist; create it with: audit-spike schedule apply\n`);
          return 1;
        }
        const outcomes = await recentRunOutcomes(client, description, runs);
        const interval = description.spec.intervals?.[0];
        const timing = interval && typeof interval.every === 'number'
          ? `every ${interval.every / 1000}s at +${(typeof interval.offset === 'number' ? interval.offset : 0) / 1000}s`
          : 'not an interval schedule';
        process.stdout.write([
          `schedule ${scheduleId}: ${description.state.paused ? 'PAUSED' : 'running'}${description.state.note ? ` (${description.state.note})` : ''}, ${timing}`,
          `next runs: ${description.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()).join(', ')}`,
          outcomes.length ? 'recent runs (scheduled time, outcome, run):' : 'recent runs: none yet',
          ...outcomes.map(formatRunOutcome), '',
        ].join('\n'));
        break;
      }
      case 'pause':
        await handle.pause(values.note ?? 'paused with audit-spike schedule pause');
        process.stdout.write(`schedule ${scheduleId}: paused\n`);
        break;
      case 'unpause':
        await handle.unpause(values.note ?? 'unpaused with audit-spike schedule unpause');
        process.stdout.write(`schedule ${scheduleId}: unpaused\n`);
        break;
      case 'trigger':
        await handle.trigger(ScheduleOverlapPolicy.SKIP);
        process.stdout.write(`schedule ${scheduleId}: triggered one run now\n`);
        break;
      case 'backfill': {
        const start = parseTime('--from', values.from);
        const end = parseTime('--to', values.to);
        await handle.backfill({ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
        process.stdout.write(`schedule ${scheduleId}: backfilling ${start.toISOString()} .. ${end.toISOString()}\n`);
        break;
      }
      case 'delete':
        await handle.delete();
        process.stdout.write(`schedule ${scheduleId}: deleted\n`);
        break;
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}

export const scheduleCommand: CliCommand = {
  name: 'schedule',
  summary: `${SCHEDULE_COMMANDS.join('|')} the Schedule(s) the config names`,
  help: HELP,
  run: runScheduleCommand,
};
