import { loadFleet } from '../config/fleet';
import { formatRuleTestResults, runRuleTests, untestedRules } from '../replay/rules-test';
import { UsageError, configForOrg, parseFlags, type CliCommand } from './flags';

const RULES_USAGE = 'usage: audit-spike rules test [--config FILE] [--org NAME] [--rule ID] [--json]';

const HELP = `Usage: audit-spike rules test [--config FILE] [--org NAME] [--rule ID] [--json]

Runs the example events written beside the rules (tests: under a rule) through the real detection core and says,
for each, whether it paged as expected. Every org's catalog is tested unless --org picks one. A default rule whose
tiers or window the config overrides keeps its tests, their expectations re-derived for the new tiers; an enabled
rule that no test covers is listed as UNTESTED with the reason (it fails nothing).

Flags:
  --config FILE    YAML or JSON config (default: the built-in defaults and their tests)
  --org NAME       test only this org's catalog
  --rule ID        test only this rule
  --json           one JSON object on stdout: {passed, failed, results, untested} (default: off)

Exit status: 0 when every test passed, 1 when one failed or --rule names a rule that has no tests,
2 on bad arguments or configuration (--rule naming no rule of the catalog).

Example:
  audit-spike rules test --config audit-spike.yaml --rule role_grant`;

/** `audit-spike rules test`: every rule's example events, through the real detection core; exit 1 when one fails. */
async function runRulesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'test') throw new UsageError(sub === undefined ? RULES_USAGE : `unknown rules command "${sub}"; ${RULES_USAGE}`);
  const { values } = parseFlags(rest, { config: { type: 'string' }, org: { type: 'string' }, rule: { type: 'string' }, json: { type: 'boolean' } });
  if (values.config !== undefined && values.config.trim() === '') throw new UsageError('--config: must name a config file');
  // Every org's catalog is tested (orgs may override rules), unless --org picks one.
  const configs = values.org !== undefined ? [configForOrg(values.config, values.org)] : loadFleet(values.config);
  const source = values.config ?? 'the built-in defaults';
  const known = [...new Set(configs.flatMap((config) => config.args.detection.rules.map((rule) => rule.id)))];
  if (values.rule !== undefined && !known.includes(values.rule)) {
    throw new UsageError(`--rule: no rule "${values.rule}" in ${source}; its rules: ${known.join(', ')}`);
  }
  const results = configs.flatMap((config) => runRuleTests(config, values.rule));
  const untested = configs.flatMap(untestedRules).filter((entry) => values.rule === undefined || entry.ruleId === values.rule);
  const failed = results.some((result) => result.outcome === 'fail');
  // Asked for one rule and nothing tested it: say so (and why), never an empty success.
  const nothingForRule = values.rule !== undefined && results.length === 0;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ passed: results.filter((r) => r.outcome === 'pass').length, failed: results.filter((r) => r.outcome === 'fail').length, results, untested })}\n`);
  } else if (nothingForRule) {
    const why = untested.length ? untested.map((entry) => entry.reason).filter((reason, i, all) => all.indexOf(reason) === i).join('; ') : 'the rule is disabled';
    process.stdout.write(`Rule "${values.rule}" exists in ${source} but has no tests: ${why}.\n`);
  } else if (results.length === 0) {
    process.stdout.write(`No rule tests in ${source}: add a tests: list under a rule (see "Rule tests" in the README).\n`);
    if (untested.length) process.stdout.write(`${formatRuleTestResults([], untested).split('\n').slice(0, -1).join('\n')}\n`);
  } else {
    process.stdout.write(`${formatRuleTestResults(results, untested)}\n`);
  }
  return failed || nothingForRule ? 1 : 0;
}

export const rulesCommand: CliCommand = {
  name: 'rules',
  summary: 'run the example events written beside the rules: audit-spike rules test',
  help: HELP,
  run: runRulesCommand,
};
