import type { AuditSpikeArgs } from '../config/args-schema';
import type { ResolvedConfig } from '../config/resolve';
import type { RuleTest } from '../config/rule-tests-schema';
import { Detector } from '../detection/detector';
import { innerAttributes } from '../detection/event-fields';
import { severityRank, type Severity } from '../detection/types';
import { replay, timeOrder } from './engine';
import type { ReplayIncident } from './incidents';

export interface RuleTestResult {
  org: string;
  ruleId: string;
  where: string;
  name: string;
  outcome: 'pass' | 'fail' | 'skip';
  /** Why it failed or was skipped; for a pass, what happened. */
  detail: string;
}

/** The rule's tests run with the whole catalog but without allowlists or maintenance windows: they test the rule, not the suppression. */
function withoutSuppression(args: AuditSpikeArgs): AuditSpikeArgs {
  return { ...args, detection: { ...args.detection, suppress: { actors: [], maintenanceWindows: [], exemptions: [] } } };
}

function describePage(incident: ReplayIncident): string {
  const counts = Object.entries(incident.counts).map(([rule, count]) => `${rule}=${count}`).join(', ');
  return `a page at ${incident.severity} for ${incident.actor} (${counts})`;
}

/** What happened to one rule in a replay: the incidents in which the actor crossed it. */
function observe(incidents: ReplayIncident[], ruleId: string): { pages: boolean; severity?: Severity; count?: number; crossing: ReplayIncident[] } {
  const crossing = incidents.filter((incident) => incident.rules.includes(ruleId));
  if (crossing.length === 0) return { pages: false, crossing };
  const severity = crossing.map((i) => i.severity as Severity).reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a));
  const count = Math.max(...crossing.map((i) => i.counts[ruleId] ?? 0));
  return { pages: true, severity, count, crossing };
}

function runOne(ruleId: string, test: RuleTest, args: AuditSpikeArgs, detector: Detector): { passed: boolean; detail: string } {
  const { ordered, unusable } = timeOrder(test.events);
  const report = replay(ordered, args);
  const seen = observe(report.incidents, ruleId);
  const expect = test.expect;
  const index = detector.rules.rules.findIndex((rule) => rule.id === ruleId);
  const matching = ordered.filter(({ event }) => {
    const inner = innerAttributes(event);
    return inner !== undefined && (detector.rules.match(inner) ?? []).includes(index);
  }).length;
  const context = `${matching} of ${ordered.length} events match the rule${unusable ? `, ${unusable} unusable (no timestamp or attributes)` : ''}`;
  const got = seen.pages ? seen.crossing.map(describePage).join('; ') : 'no page';

  const problems: string[] = [];
  if (expect.pages !== seen.pages) problems.push(expect.pages ? 'expected a page' : 'expected no page');
  if (expect.pages && seen.pages) {
    if (expect.severity !== undefined && expect.severity !== seen.severity) problems.push(`expected severity ${expect.severity}`);
    if (expect.count !== undefined && expect.count !== seen.count) problems.push(`expected ${ruleId}=${expect.count}`);
  }
  if (problems.length) return { passed: false, detail: `${problems.join(', ')}; got ${got} (${context})` };
  return { passed: true, detail: got };
}

/** Runs every rule's tests (or one rule's) through the real detection core, as the live schedule would see the events. */
export function runRuleTests(config: ResolvedConfig, onlyRule?: string): RuleTestResult[] {
  const args = withoutSuppression(config.args);
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const results: RuleTestResult[] = [];
  for (const { ruleId, where, tests } of config.ruleTests) {
    if (onlyRule !== undefined && ruleId !== onlyRule) continue;
    const rule = args.detection.rules.find((candidate) => candidate.id === ruleId);
    for (const test of tests) {
      if (!rule?.enabled) {
        results.push({ org: args.orgId, ruleId, where, name: test.name, outcome: 'skip', detail: 'the rule is disabled' });
        continue;
      }
      const { passed, detail } = runOne(ruleId, test, args, detector);
      results.push({ org: args.orgId, ruleId, where, name: test.name, outcome: passed ? 'pass' : 'fail', detail });
    }
  }
  return results;
}

export function formatRuleTestResults(results: RuleTestResult[]): string {
  const lines: string[] = [];
  const severalOrgs = new Set(results.map((result) => result.org)).size > 1;
  let current = '';
  for (const result of results) {
    const heading = `${result.ruleId} (${result.where})${severalOrgs ? ` [org ${result.org}]` : ''}`;
    if (heading !== current) {
      current = heading;
      lines.push(heading);
    }
    const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.outcome];
    lines.push(`  ${label}  ${result.name}${result.outcome === 'pass' ? '' : `: ${result.detail}`}`);
  }
  const count = (outcome: RuleTestResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  lines.push(`${count('pass')} passed, ${count('fail')} failed${count('skip') ? `, ${count('skip')} skipped` : ''}`);
  return lines.join('\n');
}
