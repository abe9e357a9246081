import { loadFleet } from '../config/fleet';
import { formatDuration } from '../detection/duration';
import { exemptionActive } from '../detection/suppression';
import type { ActorExemption } from '../detection/types';
import { UsageError, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike config check FILE

Validates a config file (every org in it) without running anything, and prints what it would watch. Every problem
is listed at once, with the field's path and line, what was wrong and what is allowed.

Arguments:
  FILE   the YAML or JSON config to check (required)

Exit status: 0 when the file is valid, 2 when it is not (the problems on stderr).

Example:
  audit-spike config check examples/audit-spike.yaml`;

async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'check') throw new UsageError(sub === undefined ? 'usage: audit-spike config check FILE' : `unknown config command "${sub}"; usage: audit-spike config check FILE`);
  const { positionals } = parseFlags(rest, {}, 1);
  if (!positionals[0]) throw new UsageError('usage: audit-spike config check FILE');
  for (const config of loadFleet(positionals[0])) {
    const enabled = config.args.detection.rules.filter((rule) => rule.enabled);
    const tests = config.ruleTests.reduce((sum, entry) => sum + entry.tests.length, 0);
    const { suppress } = config.args.detection;
    process.stdout.write(
      `${positionals[0]}: OK. org "${config.args.orgId}", schedule "${config.schedule.scheduleId}" every ${formatDuration(config.schedule.intervalMs)}, ` +
        `${enabled.length} rules enabled (${enabled.map((rule) => rule.id).join(', ')}), ` +
        `${suppress.actors.length} allowlisted actor pattern(s), ${suppress.exemptions?.length ?? 0} exemption(s), ${suppress.maintenanceWindows.length} maintenance window(s), PagerDuty ${config.args.pagerduty.mode} mode` +
        `${tests ? `; ${tests} rule test(s): run them with audit-spike rules test --config ${positionals[0]}` : ''}.\n`,
    );
    for (const line of expiredExemptions(config.args.detection.suppress.exemptions ?? [], Date.now())) process.stdout.write(`${positionals[0]}: ${line}\n`);
  }
  return 0;
}

/** Exemptions past their expiry: ignored by every run scheduled from then on, and worth removing or extending. */
export function expiredExemptions(exemptions: ActorExemption[], now: number): string[] {
  return exemptions
    .filter((exemption) => !exemptionActive(exemption, now))
    .map((exemption) => `expired: the exemption of ${exemption.actor}${exemption.rules.length ? ` from ${exemption.rules.join(', ')}` : ''} ended ` +
      `${new Date(exemption.expiresMs!).toISOString()} and is ignored; remove it from detection.suppress.actors or move its expires later`);
}

export const configCommand: CliCommand = {
  name: 'config',
  summary: 'validate a config file (every org in it): audit-spike config check FILE',
  help: HELP,
  run,
};
