import { ACTIONS, LOGIN, NOISE, PLACES, auditEvent, located as locatedClient, locatedEvent, type ActionSpec, type Actor, type AuditEventJson, type GeoPlace } from '../../sim/audit-events';
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
  | 'downtime-hour'
  /** A person resolves, in PagerDuty, the incident of an ongoing burst right after the run that paged it. */
  | 'pd-person-resolves'
  /** A person acknowledges it instead. */
  | 'pd-person-acks'
  /** 429s with PagerDuty's rate-limit headers (`ratelimit-reset`, REST) that ask for a wait of a few seconds. */
  | 'pd-429-reset'
  /** The next pages answer `meta.status: "timeout"` with warnings; three in a row fail the attempt (retryable). */
  | 'dd-partial'
  /** Every non-empty page carries a cursor, so a window ends on an empty page with a cursor. */
  | 'dd-cursor-last-page'
  /** The catch-up run after a gap longer than the org's retention (3d): the older part is gone, and said so. */
  | 'retention-catch-up';

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
  /** A careful attacker of a located scenario (catalog v3) rather than a burst: what was planted. */
  located?: 'new-country' | 'travel';
}

/** A burst Datadog no longer holds by the time the run that would read it runs (past the retention): never paged. */
export interface GoneBurst {
  actor: string;
  lastSeen: number;
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
  /** How audit-spike talks to PagerDuty in this scenario. */
  mode: 'events' | 'rest';
  /** The org's Audit Trail retention in this scenario (config `datadog.retention` and the simulator's horizon). */
  retentionMs: number;
  /** Bursts older than the retention horizon when the catch-up run reads: expected not paged. */
  gone: GoneBurst[];
  /** For person faults: the expected incident (index into `expected`) the person acts on. */
  personTarget?: number;
  /**
   * A located scenario (catalog v3): its persons' events carry geoip, its config shortens the warm-up to `LOCATED_WARM_UP`
   * (rules `new_country_sensitive` and `impossible_travel`), and careful attackers are planted beside the bursts.
   */
  located: boolean;
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

const ALL_FAULTS: FaultKind[] = [
  'dd-429', 'dd-5xx', 'dd-timeout', 'dd-duplicate-pages', 'pd-429', 'pd-5xx', 'pd-outage', 'worker-kill', 'server-restart',
  'pd-person-resolves', 'pd-person-acks', 'pd-429-reset', 'dd-partial', 'dd-cursor-last-page',
];
/** Faults any scenario may draw as its second or third (person faults are placed by the generator, once at most). */
const EXTRA_FAULTS = ALL_FAULTS.filter((kind) => kind !== 'pd-person-resolves' && kind !== 'pd-person-acks');

export const DAY = 24 * 60 * MINUTE;
/** The warm-up (`learning`) of a located scenario's new-country and travel rules: the default 7 days shortened. */
export const LOCATED_WARM_UP = 5 * MINUTE;
/** Which rule counts a careful attacker's one sensitive action (under every threshold: one event). */
const CAREFUL_ACTIONS: Array<{ rule: string; action: ActionSpec }> = [
  { rule: 'role_grant', action: ACTIONS.roleGrant },
  { rule: 'api_key_create', action: ACTIONS.apiKeyCreate },
  { rule: 'app_key_create', action: ACTIONS.appKeyCreate },
  { rule: 'user_invite', action: ACTIONS.userInvite },
];
const HOMES: GeoPlace[] = [PLACES.newYork, PLACES.chicago];
const ABROAD: GeoPlace[] = [PLACES.bucharest, PLACES.singapore];
export const DEFAULT_RETENTION = 7 * DAY;
/** The retention of a retention scenario's org: Datadog's shortest (3 days). */
export const SHORT_RETENTION = 3 * DAY;

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
  // A run, then a gap longer than the org's 3-day retention, then the catch-up run and one more.
  const withRetention = index % 10 === 3;
  const primary = ALL_FAULTS[index % ALL_FAULTS.length];
  const person = primary === 'pd-person-resolves' || primary === 'pd-person-acks';
  const gapTicks = withRetention ? (SHORT_RETENTION + int(2, 6) * 60 * MINUTE) / INTERVAL : 0;
  const steps = withDowntime ? 18 : withRetention ? gapTicks + 2 : person ? int(6, 8) : int(5, 8);
  const skipped = new Set<number>();
  if (withDowntime) for (let s = 3; s <= 14; s++) skipped.add(s); // twelve 5-minute ticks: an hour with nothing running
  if (withRetention) for (let s = 2; s <= gapTicks; s++) skipped.add(s);
  // Scenarios' last runs lie in disjoint 2-hour stretches of the past (a retention scenario reaches 3 days further back).
  const start = base + index * 2 * 60 * MINUTE - (withRetention ? gapTicks * INTERVAL : 0);
  // REST mode for a third of the scenarios; the person and rate-limit kinds alternate between the modes, each time round
  // the list of kinds.
  const mode: Scenario['mode'] = (person || primary === 'pd-429-reset' ? Math.floor(index / ALL_FAULTS.length) % 2 === 1 : index % 3 === 1) ? 'rest' : 'events';
  const scenario: Scenario = {
    index, seed, start, steps, skipped, events: [], expected: [], faults: [], label: '', mode,
    retentionMs: withRetention ? SHORT_RETENTION : DEFAULT_RETENTION, gone: [], located: false,
  };
  // Located scenarios are drawn from their own stream, so that the burst-only scenarios (and the bursts, noise and faults
  // of the located ones) stay exactly what they were: about a quarter of the scenarios, never a retention one (its
  // catch-up reads 3 days in one run; the warm-up's history would be gone).
  const geo = prng((seed ^ 0x9e3779b9) >>> 0);
  scenario.located = !withRetention && geo() < 0.25;

  // The time the runs read in total: from the first run's look-back to the last run's cursor.
  const firstRead = scheduledAt(scenario, 1) - INGESTION_DELAY - 10 * MINUTE;
  const lastRead = readsUpTo(scenario, steps);
  const ranSteps = Array.from({ length: steps }, (_, i) => i + 1).filter((s) => !skipped.has(s));

  const bursts = int(1, 3) + (withDowntime ? 1 : 0) + (withRetention ? 1 : 0);
  const tag = `s${index}`;
  const catchUp = gapTicks + 1;
  // What the catch-up run can still read: the retention before its scheduled time.
  const horizon = withRetention ? scheduledAt(scenario, catchUp) - SHORT_RETENTION : -Infinity;
  for (let b = 0; b < bursts; b++) {
    const actor: Actor = { id: `${tag}-actor-${b}`, email: `${tag}.attacker${b}@Example.com`, name: `Attacker ${b}` };
    const kinds = random() < 0.25 ? [pick(BURSTABLE), pick(BURSTABLE)] : [pick(BURSTABLE)];
    const uniqueKinds = [...new Map(kinds.map((k) => [k.rule, k])).values()];
    let span = int(1, 8) * MINUTE;
    // A person acts on burst 0 mid-burst: it straddles a run boundary, so the next run sees it go on.
    const straddle = person && b === 0 ? ranSteps[int(0, ranSteps.length - 3)] : undefined;
    if (straddle !== undefined) span = 9 * MINUTE;
    // Inside a downtime scenario the first burst lands in the gap; in a retention scenario the first lands in the part of
    // the gap that is gone by the catch-up run, and the second in the part it still reads; otherwise anywhere, often
    // across a run boundary.
    const burstStart = withDowntime && b === 0
      ? scheduledAt(scenario, 5) + int(0, 20) * MINUTE
      : withRetention && b === 0
        ? int(readsUpTo(scenario, 1) + 10 * MINUTE, horizon - span - 30 * MINUTE)
        : withRetention
          ? int(horizon + 30 * MINUTE, readsUpTo(scenario, catchUp) - span - MINUTE)
          : straddle !== undefined
            ? readsUpTo(scenario, straddle) - int(4, 6) * MINUTE
            : int(firstRead + MINUTE, lastRead - span - MINUTE);
    const counts: Record<string, number> = {};
    let severity: ExpectedIncident['severity'] = 'info';
    let lastSeen = burstStart;
    for (const kind of uniqueKinds) {
      const threshold = kind.tiers[0][0];
      // A straddling burst is long enough to be paged before the boundary and to go on (often rising) after it.
      const count = straddle !== undefined ? Math.min(threshold + int(4, 10), 14) : Math.min(threshold + int(0, 8), 14);
      counts[kind.rule] = count;
      const tier = tierFor(kind.tiers, count)!;
      if (SEVERITY_RANK[tier] > SEVERITY_RANK[severity]) severity = tier;
      for (let i = 0; i < count; i++) {
        const at = burstStart + (count === 1 ? 0 : Math.round((span * i) / (count - 1)));
        lastSeen = Math.max(lastSeen, at);
        scenario.events.push({ event: auditEvent(at, actor, kind.action, `${tag}-b${b}-${kind.rule}-${i}`) });
      }
    }
    if (withRetention && b === 0) {
      scenario.gone.push({ actor: actor.email!.toLowerCase(), lastSeen });
      continue;
    }
    const gapRunStep = ranSteps.find((s) => readsUpTo(scenario, s) > lastSeen)!;
    if (straddle !== undefined) scenario.personTarget = scenario.expected.length;
    scenario.expected.push({
      actor: actor.email!.toLowerCase(),
      severity,
      counts,
      firstSeen: burstStart,
      lastSeen,
      late: scheduledAt(scenario, gapRunStep) - lastSeen > 2 * INTERVAL + INGESTION_DELAY + LATENESS,
      checkLate: (!withDowntime || b === 0) && !withRetention,
    });
  }

  // Late indexing: some burst events become searchable only after the run that covered their time has finished, but
  // within the lateness the next run re-reads.
  for (const seeded of scenario.events) {
    if (random() >= 0.2 || withRetention) continue;
    const ts = Date.parse(seeded.event.attributes.timestamp);
    const coveringStep = ranSteps.find((s) => readsUpTo(scenario, s) > ts);
    if (coveringStep === undefined) continue;
    const next = ranSteps[ranSteps.indexOf(coveringStep) + 1];
    if (next === undefined || ts < readsUpTo(scenario, coveringStep) - LATENESS + 10_000) continue;
    seeded.arrivesAfterStep = coveringStep;
  }

  // Careful attackers (located scenarios), planted after the late-indexing draw so their events are always on time (the
  // order a person's learning and sensitive events are judged in is what a late event would change). Each stays under
  // every threshold: one learning-set event from home, then, at least the warm-up later, either one sensitive action from
  // abroad (new country, and the jump from home is impossible travel too) or a login from abroad (impossible travel only).
  if (scenario.located) {
    const gint = (lo: number, hi: number) => lo + Math.floor(geo() * (hi - lo + 1));
    const gpick = <T>(items: readonly T[]): T => items[Math.floor(geo() * items.length)];
    const plans: Array<'new-country' | 'travel'> = geo() < 0.5 ? ['new-country', 'travel'] : [gpick(['new-country', 'travel'] as const)];
    plans.forEach((plan, a) => {
      const actor: Actor = { id: `${tag}-careful-${a}`, email: `${tag}.careful${a}@Example.com`, name: `Careful ${a}` };
      const home = gpick(HOMES);
      const abroad = gpick(ABROAD);
      // From home first (a login), the move at least the warm-up and a minute later, at most 40 minutes later: far faster
      // than 1000 km/h from either home to either place abroad (Chicago-Bucharest is the shortest, about 8,000 km).
      const gap = LOCATED_WARM_UP + gint(1, 35) * MINUTE;
      const homeAt = gint(firstRead + MINUTE, Math.max(firstRead + MINUTE, lastRead - gap - MINUTE));
      const moveAt = Math.min(homeAt + gap, lastRead - MINUTE);
      if (moveAt - homeAt <= LOCATED_WARM_UP) throw new Error(`${tag}: no room for a careful attacker`);
      scenario.events.push({ event: locatedEvent(homeAt, actor, LOGIN, home) });
      const counts: Record<string, number> = { impossible_travel: 1 };
      if (plan === 'new-country') {
        const { rule, action } = gpick(CAREFUL_ACTIONS);
        scenario.events.push({ event: locatedEvent(moveAt, actor, action, abroad) });
        counts[rule] = 1;
        counts.new_country_sensitive = 1;
      } else {
        scenario.events.push({ event: locatedEvent(moveAt, actor, LOGIN, abroad) });
      }
      const pagedBy = ranSteps.find((s) => readsUpTo(scenario, s) > moveAt)!;
      scenario.expected.push({
        actor: actor.email!.toLowerCase(), severity: 'warning', counts, firstSeen: moveAt, lastSeen: moveAt,
        late: scheduledAt(scenario, pagedBy) - moveAt > 2 * INTERVAL + INGESTION_DELAY + LATENESS,
        checkLate: !withDowntime, located: plan,
      });
    });
  }

  // Near misses: many people doing one or two sensitive things, and everyday read-only noise. In a located scenario they
  // act from home (each person always from the same city), as real events carry geoip: they teach, never page.
  const fromHome = (event: AuditEventJson, who: number): AuditEventJson => {
    if (scenario.located) event.attributes.attributes.network = { client: locatedClient(HOMES[who % HOMES.length]) };
    return event;
  };
  const nearMisses = withRetention ? int(5, 10) : int(15, 40);
  for (let n = 0; n < nearMisses; n++) {
    const person: Actor = { id: `${tag}-staff-${n}`, email: `${tag}.staff${n}@example.com` };
    const times = random() < 0.3 ? 2 : 1;
    const action = pick(NEAR_MISS);
    for (let t = 0; t < times; t++) scenario.events.push({ event: fromHome(auditEvent(int(firstRead, lastRead - 1), person, action, `${tag}-nm${n}-${t}`), n) });
  }
  for (let n = 0; n < (withRetention ? 20 : 60); n++) {
    scenario.events.push({ event: fromHome(auditEvent(int(firstRead, lastRead - 1), { id: `${tag}-reader-${n % 7}`, email: `${tag}.reader${n % 7}@example.com` }, pick(NOISE), `${tag}-noise-${n}`), n % 7) });
  }

  // Faults: every scenario gets one to three, spread so each kind appears often across the suite.
  const faultCount = int(1, 3);
  const kinds = new Set<FaultKind>([person && scenario.personTarget === undefined ? 'pd-429-reset' : primary]);
  while (kinds.size < faultCount) kinds.add(pick(EXTRA_FAULTS));
  // Before a retention scenario's catch-up, only the Datadog faults of one run (the gap is what is tested).
  for (const kind of kinds) {
    let step: number;
    if (kind === 'pd-person-resolves' || kind === 'pd-person-acks') {
      // The driver acts right after the run that paged the target burst; the step is when it starts watching.
      step = ranSteps[0];
    } else if (kind.startsWith('pd-')) {
      // PagerDuty faults strike at a run that reads a burst's last event, so that run has something to page or update.
      step = ranSteps.find((s) => readsUpTo(scenario, s) > pick(scenario.expected).lastSeen)!;
    } else {
      step = withRetention ? catchUp : pick(ranSteps);
    }
    scenario.faults.push({ kind, step });
  }
  if (withDowntime) scenario.faults.push({ kind: 'downtime-hour', step: 15 });
  if (withRetention) scenario.faults.push({ kind: 'retention-catch-up', step: catchUp });
  scenario.faults.sort((a, b) => a.step - b.step);
  const ran = steps - skipped.size;
  const careful = scenario.expected.filter((e) => e.located).map((e) => e.located);
  scenario.label = `#${index} seed ${seed} ${mode}: ${ran} runs, ${scenario.expected.length - careful.length} bursts${scenario.gone.length ? ` (+${scenario.gone.length} gone)` : ''}${careful.length ? `, located: ${careful.join(' ')}` : ''}, faults ${scenario.faults.map((f) => `${f.kind}@${f.step}`).join(' ')}`;
  return scenario;
}
