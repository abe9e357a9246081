import { loadFleet } from '../config/fleet';
import { formatRuleTestResults, runRuleTests } from '../replay/rules-test';
import { UsageError, configForOrg, parseFlags, type CliCommand } from './flags';

const RULES_USAGE = 'usage: audit-spike rules test [--config FILE] [--org NAME] [--rule ID] [--json]';

const HELP = `Usage: audit-spike rules test [--config FILE] [--org NAME] [--rule ID] [--json]

Runs the example events written beside the rules (tests: under a rule) through the real detection core and says,
for each, whether it paged as expected. Every org's catalog is tested unless --org picks one.

Flags:
  --config FILE    YAML or JSON config (default: the built-in defaults and their tests)
  --org NAME       test only this org's catalog
  --rule ID        test only this rule
  --json           one JSON object on stdout: {passed, failed, results} (default: off)

Exit status: 0 when every test passed, 1 when one failed, 2 on bad arguments or configuration.

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
  const withTests = [...new Set(configs.flatMap((config) => config.ruleTests.map((entry) => entry.ruleId)))];
  if (values.rule !== undefined && !withTests.includes(values.rule)) {
    throw new UsageError(`--rule: no tests for a rule "${values.rule}" in ${source}; rules with tests: ${withTests.length ? withTests.join(', ') : 'none'}`);
  }
  const results = configs.flatMap((config) => runRuleTests(config, values.rule));
  const failed = results.some((result) => result.outcome === 'fail');
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ passed: results.filter((r) => r.outcome === 'pass').length, failed: results.filter((r) => r.outcome === 'fail').length, results })}\n`);
  } else if (results.length === 0) {
    process.stdout.write(`No rule tests in ${source}: add a tests: list under a rule (see "Rule tests" in the README).\n`);
  } else {
    process.stdout.write(`${formatRuleTestResults(results)}\n`);
  }
  return failed ? 1 : 0;
}

export const rulesCommand: CliCommand = {
  name: 'rules',
  summary: 'run the example events written beside the rules: audit-spike rules test',
  help: HELP,
  run: runRulesCommand,
};
