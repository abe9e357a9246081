import { DEFAULT_RULES } from '../config/default-rules';
import { loadFleet } from '../config/fleet';
import type { ResolvedConfig } from '../config/resolve';
import { formatDuration } from '../detection/duration';
import { plural } from '../detection/grammar';
import { exemptionActive } from '../detection/suppression';
import type { ActorExemption, RuleSpec } from '../detection/types';
import { UsageError, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike config check [--config FILE | FILE] [--show]

Validates a config file (every org in it) without running anything, and prints what it would watch. Every problem
is listed at once, in the order of the file, with the field's path and line, what was wrong and what is allowed.

Flags:
  --config FILE   the YAML or JSON config to check (as every other command takes it; FILE alone works too)
  --show          also print the effective catalog: each rule's tiers and window after your overrides (marked
                  "overridden" or "custom"), disabled rules, and the suppressions with their expiry

Exit status: 0 when the file is valid, 2 when it is not (the problems on stderr).

Example:
  audit-spike config check --config examples/audit-spike.yaml --show`;

const DEFAULTS = new Map(DEFAULT_RULES.map((rule) => [rule.id, rule]));

function tiersText(rule: Pick<RuleSpec, 'tiers'>): string {
  return rule.tiers.map((tier) => `${tier.count} → ${tier.severity}`).join(', ');
}

/** Where a rule's settings come from: the default catalog as shipped, the default with your changes, or your own rule. */
function origin(rule: RuleSpec): string {
  const shipped = DEFAULTS.get(rule.id);
  if (!shipped) return 'custom';
  const changed: string[] = [];
  if (tiersText(shipped) !== tiersText(rule)) changed.push(`tiers, default ${tiersText(shipped)}`);
  if (shipped.windowMs !== rule.windowMs) changed.push(`window, default ${formatDuration(shipped.windowMs)}`);
  if (JSON.stringify(shipped.anyOf) !== JSON.stringify(rule.anyOf)) changed.push('match');
  return changed.length ? `overridden: ${changed.join('; ')}` : 'default';
}

/** The catalog and suppressions one org's runs use, as a person reads them. */
export function effectiveCatalog(config: ResolvedConfig, now: number): string[] {
  const { rules, suppress } = config.args.detection;
  const lines = [`Effective catalog of org "${config.args.orgId}" (${plural(rules.filter((rule) => rule.enabled).length, 'rule')} enabled):`];
  const width = Math.max(...rules.map((rule) => rule.id.length));
  for (const rule of rules.filter((r) => r.enabled)) {
    const method = rule.method && rule.method.kind !== 'threshold' ? ` [${rule.method.kind}]` : '';
    lines.push(`  ${rule.id.padEnd(width)}  ${tiersText(rule)} within ${formatDuration(rule.windowMs)}${method}  (${origin(rule)})`);
  }
  const disabled = rules.filter((rule) => !rule.enabled);
  if (disabled.length) lines.push(`  disabled: ${disabled.map((rule) => rule.id).join(', ')}`);
  lines.push('Suppressions:');
  if (!suppress.actors.length && !(suppress.exemptions ?? []).length && !suppress.maintenanceWindows.length) lines.push('  none');
  for (const actor of suppress.actors) lines.push(`  allowlisted: ${actor} (every rule, no expiry)`);
  for (const exemption of suppress.exemptions ?? []) {
    const until = exemption.expiresMs === undefined ? 'no expiry' : `${exemptionActive(exemption, now) ? 'until' : 'EXPIRED'} ${new Date(exemption.expiresMs).toISOString()}`;
    lines.push(`  exempted: ${exemption.actor} from ${exemption.rules.length ? exemption.rules.join(', ') : 'every rule'} (${until})${exemption.reason ? `: ${exemption.reason}` : ''}`);
  }
  for (const window of suppress.maintenanceWindows) {
    const state = window.toMs <= now ? ' (over)' : window.fromMs <= now ? ' (now)' : '';
    lines.push(`  maintenance window: ${new Date(window.fromMs).toISOString()}..${new Date(window.toMs).toISOString()}${state}, ${window.actors.length ? window.actors.join(', ') : 'every actor'}${window.reason ? `: ${window.reason}` : ''}`);
  }
  return lines;
}

async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const usage = 'usage: audit-spike config check --config FILE [--show]';
  if (sub !== 'check') throw new UsageError(sub === undefined ? usage : `unknown config command "${sub}"; ${usage}`);
  const { values, positionals } = parseFlags(rest, { config: { type: 'string' }, show: { type: 'boolean', default: false } }, 1);
  if (values.config !== undefined && positionals[0] !== undefined && values.config !== positionals[0]) {
    throw new UsageError(`give the file once: --config ${values.config} or ${positionals[0]}, not both`);
  }
  const file = values.config ?? positionals[0];
  if (!file) throw new UsageError(`name the file to check; ${usage}`);
  const now = Date.now();
  for (const config of loadFleet(file)) {
    const enabled = config.args.detection.rules.filter((rule) => rule.enabled);
    const tests = config.ruleTests.reduce((sum, entry) => sum + entry.tests.length, 0);
    const { suppress } = config.args.detection;
    process.stdout.write(
      `${file}: OK. org "${config.args.orgId}", schedule "${config.schedule.scheduleId}" every ${formatDuration(config.schedule.intervalMs)}, ` +
        `${plural(enabled.length, 'rule')} enabled (${enabled.map((rule) => rule.id).join(', ')}), ` +
        `${plural(suppress.actors.length, 'allowlisted actor pattern')}, ${plural(suppress.exemptions?.length ?? 0, 'exemption')}, ` +
        `${plural(suppress.maintenanceWindows.length, 'maintenance window')}, PagerDuty ${config.args.pagerduty.mode} mode` +
        `${tests ? `; ${plural(tests, 'rule test')}: run them with audit-spike rules test --config ${file}` : ''}.\n`,
    );
    for (const line of expiredExemptions(suppress.exemptions ?? [], now)) process.stdout.write(`${file}: ${line}\n`);
    if (values.show) process.stdout.write(`${effectiveCatalog(config, now).join('\n')}\n`);
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
  summary: 'validate a config file (every org in it): audit-spike config check --config FILE [--show]',
  help: HELP,
  run,
};
