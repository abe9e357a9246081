import { formatDuration } from '../detection/duration';
import { plural } from '../detection/grammar';
import type { SuppressedBurst } from '../detection/scan';
import { suppressionReason } from '../detection/suppression';
import type { MethodKind, RuleSpec, Severity, SuppressionSettings } from '../detection/types';
import type { ActorFacts, DerivedCheck, DerivedOutcome } from './explain-collect';
import type { IncidentOutput } from './incidents';

/** What the replay gave, for one actor: the facts its scans showed, and what it paged or suppressed. */
export interface ExplainInput {
  facts: ActorFacts;
  /** The enabled rules (Detector.rules.rules). */
  rules: readonly RuleSpec[];
  incidents: readonly IncidentOutput[];
  suppressed: readonly SuppressedBurst[];
  suppress: SuppressionSettings;
}

export interface TierVerdict {
  count: number;
  severity: Severity;
  reached: boolean;
}

export interface RuleVerdict {
  rule: string;
  method: MethodKind;
  windowMs: number;
  /** The actor's events that counted toward the rule (a baseline rule: its firings). */
  events: number;
  /** The busiest span [from, to) of the rule's window: the count the tiers compare with. */
  best: { count: number; from: string; to: string } | null;
  tiers: TierVerdict[];
  /** The highest tier reached, if any. */
  reached?: Severity;
  /** Baseline rules (new value, impossible travel): what each check on the actor's events found, by outcome. */
  checks?: Array<{ outcome: DerivedOutcome; count: number; example: DerivedCheck }>;
  /** Correlation (multi_rule): the most distinct rules the actor crossed within the rule's span, and how many it needs. */
  correlation?: { most: number; needed: number; withinMs: number; rules: string[] };
}

export interface Explanation {
  actor: string;
  verdict: 'paged' | 'suppressed' | 'not paged' | 'not seen';
  /** One sentence: the reason. */
  because: string;
  events: { total: number; sensitive: number; firstSeen?: string; lastSeen?: string; leftOut: number };
  /** The rules the actor's events counted toward or were checked by, most paging first. */
  rules: RuleVerdict[];
  /** Enabled rules none of the actor's events counted toward (not listed). */
  otherRules: number;
  incidents: Array<Pick<IncidentOutput, 'severity' | 'rules' | 'counts' | 'firstSeen' | 'lastSeen' | 'dedupKey'>>;
  suppressions: Array<Pick<SuppressedBurst, 'reason' | 'severity' | 'events' | 'firstSeen' | 'lastSeen'>>;
  /** The configured suppression the actor falls under at their first event, even without a burst. */
  suppressedBy?: string;
  /** Catalog v3: whether the actor is a person, and their baseline as it stood at their last event. */
  person?: boolean;
  baseline?: { since: string; countries: string[] };
  baselineRules: boolean;
  runs: Array<{ scheduledAt: string; window: { from: string; to: string }; events: number; reread: number; sensitive: number }>;
  /** Actors seen whose id contains the one asked for, when it was not seen itself. */
  similar: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The largest number of `times` (sorted) in any half-open span [t, t + windowMs), and where it starts. */
export function busiestSpan(times: readonly number[], windowMs: number): { count: number; from: number } | null {
  if (times.length === 0) return null;
  let best = { count: 0, from: times[0] };
  let end = 0;
  for (let i = 0; i < times.length; i++) {
    if (end < i) end = i;
    while (end < times.length && times[end] < times[i] + windowMs) end++;
    if (end - i > best.count) best = { count: end - i, from: times[i] };
  }
  return best;
}

function tierVerdicts(rule: RuleSpec, count: number): { tiers: TierVerdict[]; reached?: Severity } {
  let reached: Severity | undefined;
  const tiers = rule.tiers.map((tier) => {
    const ok = count >= tier.count;
    if (ok) reached = tier.severity;
    return { count: tier.count, severity: tier.severity, reached: ok };
  });
  return { tiers, ...(reached ? { reached } : {}) };
}

/** When each rule was crossed by the actor: the times of events at which the rule's window held its threshold. */
function crossings(byRule: Map<string, number[]>, rules: readonly RuleSpec[]): Array<{ rule: string; ts: number }> {
  const out: Array<{ rule: string; ts: number }> = [];
  for (const rule of rules) {
    if (rule.method?.kind === 'multi_rule') continue;
    const times = byRule.get(rule.id);
    const threshold = rule.tiers[0]?.count;
    if (!times || threshold === undefined) continue;
    let start = 0;
    for (let i = 0; i < times.length; i++) {
      while (times[start] <= times[i] - rule.windowMs) start++;
      if (i - start + 1 >= threshold) out.push({ rule: rule.id, ts: times[i] });
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

function correlate(rule: RuleSpec, crossed: Array<{ rule: string; ts: number }>): RuleVerdict {
  const spec = rule.method as Extract<RuleSpec['method'], { kind: 'multi_rule' }>;
  let most: string[] = [];
  let firings = 0;
  let firstFiring: number | undefined;
  for (const { ts } of crossed) {
    const within = [...new Set(crossed.filter((c) => c.ts > ts - spec.withinMs && c.ts <= ts).map((c) => c.rule))];
    if (within.length > most.length) most = within;
    if (within.length >= spec.minRules) {
      firings++;
      firstFiring ??= ts;
    }
  }
  const { tiers, reached } = tierVerdicts(rule, firings);
  return {
    rule: rule.id, method: 'multi_rule', windowMs: rule.windowMs, events: firings,
    best: firstFiring !== undefined ? { count: firings, from: iso(firstFiring), to: iso(firstFiring + rule.windowMs) } : null,
    tiers, ...(reached ? { reached } : {}),
    correlation: { most: most.length, needed: spec.minRules, withinMs: spec.withinMs, rules: most.sort() },
  };
}

function closeness(verdict: RuleVerdict): number {
  const threshold = verdict.tiers[0]?.count ?? 1;
  return (verdict.reached ? 10 : 0) + (verdict.best?.count ?? 0) / threshold;
}

/**
 * Why an actor was or was not paged, from what a replay (dry run or backtest) showed: per rule, the busiest window's
 * count against each tier; the baseline rules' checks (warm-up, values seen before); correlation; the suppressions that
 * applied; and the runs that read the actor's events. Pure.
 */
export function explainActor({ facts, rules, incidents, suppressed, suppress }: ExplainInput): Explanation {
  const actor = facts.actor;
  const same = (id: string) => id.toLowerCase() === actor.toLowerCase();
  const mine = incidents.filter((incident) => same(incident.actor));
  const suppressions = suppressed.filter((burst) => same(burst.actor))
    .map(({ reason, severity, events, firstSeen, lastSeen }) => ({ reason, severity, events, firstSeen, lastSeen }));

  const byRule = new Map<string, number[]>();
  const checks = new Map<string, DerivedCheck[]>();
  let sensitive = 0;
  for (const event of facts.events) {
    if (event.rules.length > 0) sensitive++;
    for (const rule of event.rules) {
      const times = byRule.get(rule);
      if (times) times.push(event.ts);
      else byRule.set(rule, [event.ts]);
    }
    for (const check of event.derived) {
      const list = checks.get(check.rule);
      if (list) list.push(check);
      else checks.set(check.rule, [check]);
    }
  }
  for (const times of byRule.values()) times.sort((a, b) => a - b);

  const verdicts: RuleVerdict[] = [];
  const crossed = crossings(byRule, rules);
  for (const rule of rules) {
    const kind = rule.method?.kind ?? 'threshold';
    if (kind === 'multi_rule') {
      if (crossed.length > 0) verdicts.push(correlate(rule, crossed));
      continue;
    }
    const times = byRule.get(rule.id) ?? [];
    const ruleChecks = checks.get(rule.id);
    if (times.length === 0 && !ruleChecks) continue;
    const span = busiestSpan(times, rule.windowMs);
    const { tiers, reached } = tierVerdicts(rule, span?.count ?? 0);
    const verdict: RuleVerdict = {
      rule: rule.id, method: kind, windowMs: rule.windowMs, events: times.length,
      best: span ? { count: span.count, from: iso(span.from), to: iso(span.from + rule.windowMs) } : null,
      tiers, ...(reached ? { reached } : {}),
    };
    if (ruleChecks) {
      const byOutcome = new Map<DerivedOutcome, { outcome: DerivedOutcome; count: number; example: DerivedCheck }>();
      for (const check of ruleChecks) {
        const seen = byOutcome.get(check.outcome);
        if (seen) seen.count++;
        else byOutcome.set(check.outcome, { outcome: check.outcome, count: 1, example: check });
      }
      verdict.checks = [...byOutcome.values()];
    }
    verdicts.push(verdict);
  }
  verdicts.sort((a, b) => closeness(b) - closeness(a) || a.rule.localeCompare(b.rule));

  const first = facts.events[0]?.ts;
  const last = facts.events.reduce((max, event) => Math.max(max, event.ts), -Infinity);
  const suppressedBy = first !== undefined ? suppressionReason(suppress, actor, first) : suppressionReason(suppress, actor, 0);
  let verdict: Explanation['verdict'];
  let because: string;
  if (mine.length > 0) {
    verdict = 'paged';
    because = `paged: ${mine.map((i) => `${i.severity} (${i.rules.join(', ')})`).join('; ')}`;
  } else if (suppressions.length > 0) {
    verdict = 'suppressed';
    because = `not paged: ${plural(suppressions.length, 'burst')} suppressed: ${[...new Set(suppressions.map((s) => s.reason))].join('; ')}`;
  } else if (facts.events.length === 0 && facts.runs.length === 0) {
    verdict = 'not seen';
    because = `not paged: no event by ${actor} was read${facts.similar.length ? ` (actors seen with a similar id: ${facts.similar.join(', ')})` : ''}`;
  } else {
    verdict = 'not paged';
    const closest = verdicts.find((v) => v.method !== 'multi_rule');
    because = sensitive === 0
      ? `not paged: none of the actor's ${plural(facts.events.length, 'event')} counted toward a rule (reads and everyday actions never count)`
      : closest
        ? `not paged: no rule reached its threshold; closest: ${closest.rule} with ${closest.best?.count ?? 0} of ${closest.tiers[0]?.count} in ${formatDuration(closest.windowMs)}`
        : 'not paged: no rule reached its threshold';
  }

  return {
    actor,
    verdict,
    because,
    events: {
      total: facts.events.length + facts.eventsLeftOut, sensitive, leftOut: facts.eventsLeftOut,
      ...(first !== undefined ? { firstSeen: iso(Math.min(...facts.events.map((e) => e.ts))), lastSeen: iso(last) } : {}),
    },
    rules: verdicts,
    otherRules: rules.length - verdicts.length,
    incidents: mine.map(({ severity, rules: crossedRules, counts, firstSeen, lastSeen, dedupKey }) => ({ severity, rules: crossedRules, counts, firstSeen, lastSeen, dedupKey })),
    suppressions,
    ...(suppressedBy ? { suppressedBy } : {}),
    ...(facts.person !== undefined ? { person: facts.person } : {}),
    ...(facts.baseline ? { baseline: { since: iso(facts.baseline.since), countries: facts.baseline.countries } } : {}),
    baselineRules: facts.baselineRules,
    runs: facts.runs.map((run) => ({
      scheduledAt: iso(run.scheduledAt), window: { from: iso(run.window.from), to: iso(run.window.to) }, events: run.events, reread: run.reread, sensitive: run.sensitive,
    })),
    similar: facts.similar,
  };
}

const OUTCOME_WORDS: Record<DerivedOutcome, string> = {
  fired: 'fired',
  'warm-up': 'in warm-up',
  known: 'value seen before',
  'no-value': 'no value of the rule\'s field (for countries: no geoip on the event)',
  'no-previous-location': 'no earlier location',
  'no-coordinates': 'no coordinates',
  near: 'too near',
  slow: 'too slow',
  'both-countries-known': 'both countries seen before',
};

function checkDetail(check: DerivedCheck): string {
  const parts: string[] = [];
  if (check.value !== undefined) parts.push(check.kind === 'impossible_travel' ? `to ${check.value}` : check.value);
  if (check.from !== undefined) parts.push(`from ${check.from}, ${check.km} km at ${check.kmh} km/h`);
  if (check.seenBefore) parts.push(`seen before: ${check.seenBefore.join(', ') || 'nothing'}`);
  if (check.outcome === 'warm-up') parts.push(check.warmUpEndsAt !== undefined ? `warm-up over at ${iso(check.warmUpEndsAt)}` : 'no baseline yet: no earlier located login, created, modified or deleted');
  return parts.join('; ');
}

const shortIso = (text: string) => text.replace('.000Z', 'Z');

/** The explanation as lines of the readable report. */
export function formatExplanation(explanation: Explanation): string[] {
  const e = explanation;
  const lines = [`EXPLAIN ${e.actor}: ${e.because}.`];
  for (const incident of e.incidents) {
    lines.push(`  paged ${incident.severity} ${shortIso(incident.firstSeen)} .. ${shortIso(incident.lastSeen)}: ` +
      `${Object.entries(incident.counts).map(([rule, count]) => `${rule}=${count}`).join(', ')} (crossed: ${incident.rules.join(', ')}; dedup key ${incident.dedupKey})`);
  }
  for (const s of e.suppressions) lines.push(`  suppressed ${s.severity}, ${plural(s.events, 'event')}, ${shortIso(s.firstSeen)} .. ${shortIso(s.lastSeen)}: ${s.reason}`);
  if (e.suppressedBy && e.suppressions.length === 0) lines.push(`  suppression that applies to this actor: ${e.suppressedBy} (a burst would be counted, not paged)`);
  if (e.events.total > 0) {
    lines.push(`  ${plural(e.events.total, 'event')} by this actor, ${e.events.sensitive} counted toward a rule, ${shortIso(e.events.firstSeen!)} .. ${shortIso(e.events.lastSeen!)}` +
      `${e.events.leftOut ? ` (the last ${e.events.leftOut} not analysed)` : ''}`);
  }
  if (e.rules.length) lines.push('  rules (the busiest window\'s count against each tier):');
  for (const rule of e.rules) {
    const tiers = rule.tiers.map((tier) => `${tier.count} → ${tier.severity} ${tier.reached ? 'reached' : `not reached (${tier.count - (rule.best?.count ?? 0)} short)`}`).join(', ');
    const best = rule.best ? `best ${formatDuration(rule.windowMs)} window ${rule.best.count} (${shortIso(rule.best.from)} .. ${shortIso(rule.best.to)})` : 'no firing';
    const counted = rule.method === 'threshold' ? plural(rule.events, 'event') : plural(rule.events, 'firing');
    lines.push(`    ${rule.rule} (${rule.method}): ${counted}; ${best}: ${tiers}`);
    for (const check of rule.checks ?? []) {
      const detail = checkDetail(check.example);
      lines.push(`      ${plural(check.count, 'event')} checked: ${OUTCOME_WORDS[check.outcome]}${detail ? ` (${check.count > 1 ? 'e.g. ' : ''}${detail})` : ''}`);
    }
    if (rule.correlation) {
      const c = rule.correlation;
      lines.push(`      at most ${plural(c.most, 'distinct rule')} crossed within ${formatDuration(c.withinMs)} (${c.rules.join(', ') || 'none'}); needs ${c.needed}`);
    }
  }
  if (e.otherRules > 0 && e.events.total > 0) lines.push(`  ${plural(e.otherRules, 'other rule')}: none of the actor's events counted toward ${e.otherRules === 1 ? 'it' : 'them'}`);
  if (e.person === false) lines.push('  not a person (an API key, service account, support or system actor, or a key-authenticated action): the baseline rules do not apply');
  if (e.baseline) lines.push(`  baseline: learning since ${shortIso(e.baseline.since)}; countries seen: ${e.baseline.countries.join(', ') || 'none'}`);
  else if (e.person && e.baselineRules) lines.push('  baseline: none before this actor\'s last event (no located login, created, modified or deleted earlier)');
  const reading = e.runs.filter((run) => run.events > 0);
  if (e.runs.length) {
    const onlyAgain = e.runs.length - reading.length;
    // The runs that matter are those that read events counting toward a rule; the actor's everyday events are only counted.
    const counting = reading.filter((run) => run.sensitive > 0);
    const listed = counting.length > 0 ? counting : reading;
    lines.push(`  ${plural(reading.length, 'run')} read this actor's events${onlyAgain ? ` (${onlyAgain} more only read them again, in the lateness overlap)` : ''}` +
      `${counting.length > 0 && counting.length < reading.length ? `; the ${plural(counting.length, 'run')} that read events counting toward a rule` : ''}:`);
    const shown = listed.slice(0, 20);
    for (const run of shown) {
      const counted = run.sensitive > 0 && run.sensitive < run.events ? ` (${run.sensitive} counting toward a rule)` : '';
      lines.push(`    run at ${shortIso(run.scheduledAt)} read ${shortIso(run.window.from)} .. ${shortIso(run.window.to)}: ${plural(run.events, 'new event')}${counted}` +
        `${run.reread ? `, ${run.reread} read again` : ''}`);
    }
    if (listed.length > shown.length) lines.push(`    … and ${listed.length - shown.length} more (--json lists them all)`);
  }
  return lines;
}
