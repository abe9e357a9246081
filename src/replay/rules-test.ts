import type { AuditSpikeArgs } from '../config/args-schema';
import { DEFAULT_RULES, defaultRuleTests } from '../config/default-rules';
import type { ResolvedConfig } from '../config/resolve';
import type { RuleTest } from '../config/rule-tests-schema';
import { Detector } from '../detection/detector';
import { eventTimestamp, innerAttributes } from '../detection/event-fields';
import { severityRank, type RuleSpec, type Severity } from '../detection/types';
import { tierFor } from '../detection/windows';
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

/** A rule of the catalog that no test covers, and why (`rules test` lists it; it fails nothing). */
export interface UntestedRule {
  org: string;
  ruleId: string;
  reason: string;
}

/** Where the default's tests go when the config changes only the rule's tiers or window: re-derived for the new ones. */
export const DERIVED_WHERE = 'default rule, expectations re-derived for the tiers and window in the config';

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
  for (const { ruleId, where, tests } of [...config.ruleTests, ...derivedTests(config, detector)]) {
    if (onlyRule !== undefined && ruleId !== onlyRule) continue;
    const rule = args.detection.rules.find((candidate) => candidate.id === ruleId);
    for (const test of tests) {
      if (!rule?.enabled) {
        results.push({ org: args.orgId, ruleId, where, name: test.name, outcome: 'skip', detail: 'the rule is disabled' });
        continue;
      }
      if ('cannotDerive' in test) {
        results.push({ org: args.orgId, ruleId, where, name: test.name, outcome: 'skip', detail: test.cannotDerive });
        continue;
      }
      const { passed, detail } = runOne(ruleId, test, args, detector);
      results.push({ org: args.orgId, ruleId, where, name: test.name, outcome: passed ? 'pass' : 'fail', detail });
    }
  }
  return results;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The default rule this rule overrides with the same match (only tiers, window or wording changed), if any. */
function defaultWithSameMatch(rule: RuleSpec): RuleSpec | undefined {
  const original = DEFAULT_RULES.find((candidate) => candidate.id === rule.id);
  if (original === undefined || !sameJson(original.anyOf, rule.anyOf) || !sameJson(original.combines, rule.combines)) return undefined;
  return original;
}

/** The most events of the rule by one actor inside any span of `windowMs` (the count its tiers are judged on). */
function busiestWindow(events: RuleTest['events'], ruleIndex: number, windowMs: number, detector: Detector): number {
  const byActor = new Map<string, number[]>();
  for (const event of events) {
    const inner = innerAttributes(event);
    const ts = eventTimestamp(event);
    if (inner === undefined || ts !== ts || !(detector.rules.match(inner) ?? []).includes(ruleIndex)) continue;
    const actor = detector.actors.resolve(inner).id;
    let times = byActor.get(actor);
    if (times === undefined) byActor.set(actor, (times = []));
    times.push(ts);
  }
  let best = 0;
  for (const times of byActor.values()) {
    times.sort((a, b) => a - b);
    for (let end = 0, start = 0; end < times.length; end++) {
      while (times[end] - times[start] >= windowMs) start++;
      best = Math.max(best, end - start + 1);
    }
  }
  return best;
}

type DerivedTest = RuleTest | { name: string; cannotDerive: string };

/**
 * A default rule whose tiers or window the config overrides loses its own tests in the resolved config (they expect
 * the default tiers). Where the match is unchanged, each test is kept with its expectation re-derived: the test's
 * busiest window for the rule, judged on the new tiers. A test whose expectation is not what the default tiers give
 * for its busiest window (another rule decides its severity, say) cannot be re-derived and is skipped with that reason.
 */
function derivedTests(config: ResolvedConfig, detector: Detector): Array<{ ruleId: string; where: string; tests: DerivedTest[] }> {
  const covered = new Set(config.ruleTests.map((entry) => entry.ruleId));
  const derived: Array<{ ruleId: string; where: string; tests: DerivedTest[] }> = [];
  for (const rule of config.args.detection.rules) {
    if (covered.has(rule.id)) continue;
    const original = defaultWithSameMatch(rule);
    if (original === undefined) continue;
    const ruleIndex = detector.rules.rules.findIndex((candidate) => candidate.id === rule.id);
    const tests = defaultRuleTests(rule.id).map((test): DerivedTest => {
      const before = busiestWindow(test.events, ruleIndex, original.windowMs, detector);
      const reached = tierFor(original.tiers, before);
      const { expect } = test;
      const explained = expect.pages === (reached !== undefined) && (expect.severity === undefined || expect.severity === reached) &&
        (expect.count === undefined || expect.count === before);
      if (!explained) {
        return { name: test.name, cannotDerive: 'its expectation is not decided by this rule\'s tiers alone, so it cannot follow the new ones; write a test under the rule in the config' };
      }
      const after = busiestWindow(test.events, ruleIndex, rule.windowMs, detector);
      const severity = tierFor(rule.tiers, after);
      const keepCount = expect.count !== undefined && rule.windowMs === original.windowMs;
      const name = `${test.name} [re-derived: ${severity === undefined ? 'no page' : `${severity}${keepCount ? `, ${rule.id}=${expect.count}` : ''}`}]`;
      return { ...test, name, expect: severity === undefined ? { pages: false } : { pages: true, severity, ...(keepCount ? { count: expect.count } : {}) } };
    });
    if (tests.length) derived.push({ ruleId: rule.id, where: DERIVED_WHERE, tests });
  }
  return derived;
}

/** The enabled rules that no test covers (neither the config's, nor the default's, nor re-derived ones), with why. */
export function untestedRules(config: ResolvedConfig): UntestedRule[] {
  const covered = new Set(config.ruleTests.filter((entry) => entry.tests.length > 0).map((entry) => entry.ruleId));
  const untested: UntestedRule[] = [];
  for (const rule of config.args.detection.rules) {
    if (!rule.enabled || covered.has(rule.id)) continue;
    const isDefault = DEFAULT_RULES.some((candidate) => candidate.id === rule.id);
    if (isDefault && defaultWithSameMatch(rule) && defaultRuleTests(rule.id).length > 0) continue; // re-derived
    const reason = isDefault
      ? 'the config changes what this default rule matches, so the default\'s tests no longer apply; add a tests: list under it in the config'
      : 'nothing tests it; add a tests: list under the rule (see "Rule tests" in the README)';
    untested.push({ org: config.args.orgId, ruleId: rule.id, reason });
  }
  return untested;
}

export function formatRuleTestResults(results: RuleTestResult[], untested: UntestedRule[] = []): string {
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
  const severalUntested = new Set(untested.map((entry) => entry.org)).size > 1 || severalOrgs;
  for (const entry of untested) lines.push(`UNTESTED  ${entry.ruleId}${severalUntested ? ` [org ${entry.org}]` : ''}: ${entry.reason}`);
  const count = (outcome: RuleTestResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  lines.push(`${count('pass')} passed, ${count('fail')} failed${count('skip') ? `, ${count('skip')} skipped` : ''}` +
    `${untested.length ? `, ${untested.length} ${untested.length === 1 ? 'rule' : 'rules'} untested` : ''}`);
  return lines.join('\n');
}
