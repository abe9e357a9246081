import { ACTIONS, NOISE, auditEvent, type ActionSpec, type Actor, type AuditEventJson } from '../../sim/audit-events';
import { prng } from '../../sim/sample-day';

/**
 * Seeded fault scenarios and their reference outcome. The reference is built from the bursts the generator plants, not
 * from the detection core: each burst is one actor doing `count` sensitive actions inside a span shorter than the rule
 * window, so exactly one incident per burst is expected, at the tier of its count. Everything else is noise that can
 * never cross a threshold (read-only actions, and at most 2 sensitive actions per near-miss actor).
 */

export const MINUTE = 60_000;
export const INTERVAL = 5 * MINUTE;
export const INGESTION_DELAY = MINUTE;
export const LATENESS = 5 * MINUTE;

export type FaultKind =
  | 'dd-429'
  | 'dd-5xx'
  | 'dd-timeout'
  | 'dd-duplicate-pages'
  | 'pd-429'
  | 'pd-5xx'
  | 'pd-outage'
  | 'worker-kill'
  | 'server-restart'
  | 'downtime-hour';

export interface Fault {
  kind: FaultKind;
  /** The run (1-based step index) during or before which it strikes. */
  step: number;
}

interface RuleShape {
  rule: string;
  action: ActionSpec;
  tiers: Array<[number, 'info' | 'warning' | 'error' | 'critical']>;
}

const BURSTABLE: RuleShape[] = [
  { rule: 'role_grant', action: ACTIONS.roleGrant, tiers: [[3, 'error'], [10, 'critical']] },
  { rule: 'api_key_create', action: ACTIONS.apiKeyCreate, tiers: [[3, 'error'], [10, 'critical']] },
  { rule: 'app_key_create', action: ACTIONS.appKeyCreate, tiers: [[3, 'error'], [10, 'critical']] },
  { rule: 'monitor_delete', action: ACTIONS.monitorDelete, tiers: [[1, 'warning'], [5, 'error'], [20, 'critical']] },
  { rule: 'user_invite', action: ACTIONS.userInvite, tiers: [[5, 'warning'], [20, 'error']] },
];

/** Actions a near-miss actor may do twice without crossing any default threshold. */
const NEAR_MISS: ActionSpec[] = [ACTIONS.roleGrant, ACTIONS.apiKeyCreate, ACTIONS.appKeyCreate, ACTIONS.userInvite];

const SEVERITY_RANK = { info: 0, warning: 1, error: 2, critical: 3 } as const;

export interface ExpectedIncident {
  actor: string;
  severity: keyof typeof SEVERITY_RANK;
  counts: Record<string, number>;
  firstSeen: number;
  lastSeen: number;
  /** Found only while catching up after downtime: the summary must say so. */
  late: boolean;
  /** Whether `late` is certain for this burst (a burst placed inside the downtime gap, or any burst of a scenario without one). */
  checkLate: boolean;
}

export interface SeededEvent {
  event: AuditEventJson;
  /** Added to the simulator only after this step's run has finished (an event Datadog indexed late). */
  arrivesAfterStep?: number;
}

export interface Scenario {
  index: number;
  seed: number;
  /** Scheduled time of step 1; step i runs at start + i * INTERVAL unless skipped by downtime. */
  start: number;
  steps: number;
  /** Steps that do not run (the worker or schedule was down). */
  skipped: Set<number>;
  events: SeededEvent[];
  expected: ExpectedIncident[];
  faults: Fault[];
  label: string;
}

export { prng };

function tierFor(tiers: RuleShape['tiers'], count: number): ExpectedIncident['severity'] | undefined {
  let found: ExpectedIncident['severity'] | undefined;
  for (const [at, severity] of tiers) if (count >= at) found = severity;
  return found;
}

export function scheduledAt(scenario: Scenario, step: number): number {
  return scenario.start + (step - 1) * INTERVAL;
}

/** What the run at `step` reads up to (its cursor). */
function readsUpTo(scenario: Scenario, step: number): number {
  return scheduledAt(scenario, step) - INGESTION_DELAY;
}

const ALL_FAULTS: FaultKind[] = ['dd-429', 'dd-5xx', 'dd-timeout', 'dd-duplicate-pages', 'pd-429', 'pd-5xx', 'pd-outage', 'worker-kill', 'server-restart'];

/**
 * Scenario `index` of the suite seeded by `suiteSeed`. `base` is a 5-minute boundary in the past; scenarios use
 * disjoint stretches of time after it so they never share events.
 */
export function makeScenario(suiteSeed: number, index: number, base: number): Scenario {
  const seed = (suiteSeed * 7919 + index * 104_729) >>> 0;
  const random = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

  const withDowntime = index % 10 === 7;
  const steps = withDowntime ? 18 : int(5, 8);
  const skipped = new Set<number>();
  if (withDowntime) for (let s = 3; s <= 14; s++) skipped.add(s); // twelve 5-minute ticks: an hour with nothing running
  const start = base + index * 3 * 60 * MINUTE;
  const scenario: Scenario = { index, seed, start, steps, skipped, events: [], expected: [], faults: [], label: '' };

  // The time the runs read in total: from the first run's look-back to the last run's cursor.
  const firstRead = scheduledAt(scenario, 1) - INGESTION_DELAY - 10 * MINUTE;
  const lastRead = readsUpTo(scenario, steps);
  const ranSteps = Array.from({ length: steps }, (_, i) => i + 1).filter((s) => !skipped.has(s));

  const bursts = int(1, 3) + (withDowntime ? 1 : 0);
  const tag = `s${index}`;
  for (let b = 0; b < bursts; b++) {
    const actor: Actor = { id: `${tag}-actor-${b}`, email: `${tag}.attacker${b}@Example.com`, name: `Attacker ${b}` };
    const kinds = random() < 0.25 ? [pick(BURSTABLE), pick(BURSTABLE)] : [pick(BURSTABLE)];
    const uniqueKinds = [...new Map(kinds.map((k) => [k.rule, k])).values()];
    const span = int(1, 8) * MINUTE;
    // Inside a downtime scenario the first burst lands in the gap; otherwise anywhere, often across a run boundary.
    const burstStart = withDowntime && b === 0
      ? scheduledAt(scenario, 5) + int(0, 20) * MINUTE
      : int(firstRead + MINUTE, lastRead - span - MINUTE);
    const counts: Record<string, number> = {};
    let severity: ExpectedIncident['severity'] = 'info';
    let lastSeen = burstStart;
    for (const kind of uniqueKinds) {
      const threshold = kind.tiers[0][0];
      const count = Math.min(threshold + int(0, 8), 14);
      counts[kind.rule] = count;
      const tier = tierFor(kind.tiers, count)!;
      if (SEVERITY_RANK[tier] > SEVERITY_RANK[severity]) severity = tier;
      for (let i = 0; i < count; i++) {
        const at = burstStart + (count === 1 ? 0 : Math.round((span * i) / (count - 1)));
        lastSeen = Math.max(lastSeen, at);
        scenario.events.push({ event: auditEvent(at, actor, kind.action, `${tag}-b${b}-${kind.rule}-${i}`) });
      }
    }
    const gapRunStep = ranSteps.find((s) => readsUpTo(scenario, s) > lastSeen)!;
    scenario.expected.push({
      actor: actor.email!.toLowerCase(),
      severity,
      counts,
      firstSeen: burstStart,
      lastSeen,
      late: scheduledAt(scenario, gapRunStep) - lastSeen > 2 * INTERVAL + INGESTION_DELAY + LATENESS,
      checkLate: !withDowntime || b === 0,
    });
  }

  // Late indexing: some burst events become searchable only after the run that covered their time has finished, but
  // within the lateness the next run re-reads.
  for (const seeded of scenario.events) {
    if (random() >= 0.2) continue;
    const ts = Date.parse(seeded.event.attributes.timestamp);
    const coveringStep = ranSteps.find((s) => readsUpTo(scenario, s) > ts);
    if (coveringStep === undefined) continue;
    const next = ranSteps[ranSteps.indexOf(coveringStep) + 1];
    if (next === undefined || ts < readsUpTo(scenario, coveringStep) - LATENESS + 10_000) continue;
    seeded.arrivesAfterStep = coveringStep;
  }

  // Near misses: many people doing one or two sensitive things, and everyday read-only noise.
  const nearMisses = int(15, 40);
  for (let n = 0; n < nearMisses; n++) {
    const person: Actor = { id: `${tag}-staff-${n}`, email: `${tag}.staff${n}@example.com` };
    const times = random() < 0.3 ? 2 : 1;
    const action = pick(NEAR_MISS);
    for (let t = 0; t < times; t++) scenario.events.push({ event: auditEvent(int(firstRead, lastRead - 1), person, action, `${tag}-nm${n}-${t}`) });
  }
  for (let n = 0; n < 60; n++) {
    scenario.events.push({ event: auditEvent(int(firstRead, lastRead - 1), { id: `${tag}-reader-${n % 7}`, email: `${tag}.reader${n % 7}@example.com` }, pick(NOISE), `${tag}-noise-${n}`) });
  }

  // Faults: every scenario gets one to three, spread so each kind appears often across the suite.
  const faultCount = int(1, 3);
  const kinds = new Set<FaultKind>([ALL_FAULTS[index % ALL_FAULTS.length]]);
  while (kinds.size < faultCount) kinds.add(pick(ALL_FAULTS));
  for (const kind of kinds) {
    // PagerDuty faults strike at a run that reads a burst's last event, so that run has something to page or update.
    const step = kind.startsWith('pd-') ? ranSteps.find((s) => readsUpTo(scenario, s) > pick(scenario.expected).lastSeen)! : pick(ranSteps);
    scenario.faults.push({ kind, step });
  }
  if (withDowntime) scenario.faults.push({ kind: 'downtime-hour', step: 15 });
  scenario.faults.sort((a, b) => a.step - b.step);
  scenario.label = `#${index} seed ${seed}: ${steps} runs, ${scenario.expected.length} bursts, faults ${scenario.faults.map((f) => `${f.kind}@${f.step}`).join(' ')}`;
  return scenario;
}
