import { ACTIONS, LOGIN, NOISE, PLACES, auditEvent, burst, located, locatedEvent, type Actor, type AuditEventJson } from './audit-events';

/** A small deterministic PRNG (mulberry32), so the sample is the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STAFF: Actor[] = Array.from({ length: 24 }, (_, i) => ({
  id: `u-${(1000 + i).toString(16)}`,
  email: `${['ana', 'ben', 'chen', 'dana', 'eli', 'fay', 'gus', 'hana'][i % 8]}${i}@Example.com`,
  name: `${['Ana', 'Ben', 'Chen', 'Dana', 'Eli', 'Fay', 'Gus', 'Hana'][i % 8]} ${i}`,
}));

export const SAMPLE_ACTORS = {
  mallory: { id: 'u-bad', email: 'Mallory@Example.com', name: 'Mallory' },
  terraform: { id: 'sa-terraform', email: 'terraform@service.example.com', name: 'Terraform service account' },
  leakedKey: { apiKeyId: 'a1b2c3d4e5' },
  admin: { id: 'u-admin', email: 'it-admin@example.com', name: 'IT Admin' },
  cleaner: { id: 'u-ops', email: 'ops.oncall@example.com', name: 'Ops on-call' },
} satisfies Record<string, Actor>;

export interface SampleDayOptions {
  /** The day ends here (the newest event is a little before). */
  end: Date;
  seed?: number;
  noiseEvents?: number;
  /**
   * Catalog v3: add located events (Datadog's geoip on `network.client`): nine days of everyday logins by the staff
   * before the day (their baselines: the United States; the learning set the scan's query widens to), and two careful
   * attackers who stay under every threshold: one role grant from Romania (new_country_sensitive) and a login from
   * Singapore 40 minutes after one from New York (impossible_travel). The everyday events carry geoip (each person's
   * home), as real ones do; the bursts and isolated sensitive actions are unchanged (no geoip).
   */
  located?: boolean;
  /**
   * With `located`: when the two careful attackers act. `spread` (default): the role grant from Bucharest 12 hours into
   * the day, New York then Singapore 20 hours in. `end`: in the day's last minutes, so that a live first run (which reads
   * only the Schedule's lookback, 15 minutes by default) sees them, as `npm start` shows: the role grant 4 minutes
   * before `end`, the login from New York 47 minutes before and the one from Singapore 7 minutes before.
   */
  carefulAt?: 'spread' | 'end';
}

function homeOf(staffIndex: number) {
  return staffIndex % 3 === 0 ? PLACES.chicago : PLACES.newYork;
}

/** Days of located logins before the day, so that warm-up (7 days) is over for every person. */
export const LOCATED_DAYS = 9;

function locatedEvents(start: number, random: () => number, carefulAt: 'spread' | 'end'): AuditEventJson[] {
  const events: AuditEventJson[] = [];
  const HOUR = 3_600_000;
  for (const [i, person] of STAFF.entries()) {
    const home = homeOf(i);
    for (let day = -LOCATED_DAYS; day < 1; day++) {
      // One or two logins a working day, from home.
      const logins = 1 + Math.floor(random() * 2);
      for (let n = 0; n < logins; n++) events.push(locatedEvent(start + day * 24 * HOUR + (8 + Math.floor(random() * 10)) * HOUR + Math.floor(random() * HOUR), person, LOGIN, home));
    }
  }
  const end = start + 24 * HOUR;
  const grantAt = carefulAt === 'end' ? end - 4 * 60_000 : start + 12 * HOUR;
  const travelAt = carefulAt === 'end' ? end - 47 * 60_000 : start + 20 * HOUR;
  // A stolen session used once from abroad: one role grant (role_grant pages at 3) from Bucharest.
  events.push(locatedEvent(grantAt, STAFF[6], ACTIONS.roleGrant, PLACES.bucharest));
  // New York, then Singapore 40 minutes later.
  events.push(locatedEvent(travelAt, STAFF[7], LOGIN, PLACES.newYork));
  events.push(locatedEvent(travelAt + 40 * 60_000, STAFF[7], LOGIN, PLACES.singapore));
  return events;
}

/**
 * A realistic day of audit events for one org: thousands of everyday reads and edits by two dozen people, a few
 * isolated sensitive actions below threshold, and five incidents: a compromised admin granting roles and minting
 * keys (critical, ending 2 minutes before `end` so a live first run sees it), a Terraform service account deleting
 * monitors (error), a leaked API key minting application keys (error), a SAML change (warning) and a single
 * monitor deletion (warning).
 */
export function sampleDay(options: SampleDayOptions): AuditEventJson[] {
  const random = prng(options.seed ?? 20261124);
  const end = options.end.getTime();
  const start = end - 24 * 3_600_000;
  const events: AuditEventJson[] = [];
  const noise = options.noiseEvents ?? 6000;
  for (let i = 0; i < noise; i++) {
    // Busier in working hours of the day: bias times toward the middle of the span.
    const position = (random() + random() + random()) / 3;
    const actor = STAFF[Math.floor(random() * STAFF.length)];
    // One everyday action in five comes through API + application keys, as scripts and Terraform do.
    const viaKeys = i % 5 === 4;
    const event = auditEvent(start + Math.floor(position * (end - start - 60_000)), viaKeys ? { ...actor, viaKeys } : actor, NOISE[Math.floor(random() * NOISE.length)]);
    // Real Audit Trail events carry geoip: located, the everyday events come from each person's home.
    if (options.located) event.attributes.attributes.network = { client: located(homeOf(STAFF.indexOf(actor))) };
    events.push(event);
  }
  // Isolated sensitive actions that stay under every threshold.
  events.push(auditEvent(start + 3 * 3_600_000, STAFF[2], ACTIONS.roleGrant));
  events.push(auditEvent(start + 5 * 3_600_000, STAFF[3], ACTIONS.userInvite));
  events.push(auditEvent(start + 5 * 3_600_000 + 60_000, STAFF[3], ACTIONS.userInvite));
  events.push(auditEvent(start + 9 * 3_600_000, STAFF[5], ACTIONS.apiKeyCreate));
  events.push(auditEvent(start + 9 * 3_600_000 + 3_600_000, STAFF[5], ACTIONS.apiKeyCreate));

  const { mallory, terraform, leakedKey, admin, cleaner } = SAMPLE_ACTORS;
  events.push(...burst(terraform, ACTIONS.monitorDelete, 6, start + 7 * 3_600_000, 2 * 60_000));
  events.push(...burst(leakedKey, ACTIONS.appKeyCreate, 4, start + 13 * 3_600_000, 3 * 60_000));
  events.push(auditEvent(start + 15 * 3_600_000, admin, ACTIONS.samlChange));
  events.push(auditEvent(start + 18 * 3_600_000, cleaner, ACTIONS.monitorDelete));
  const attackStart = end - 9 * 60_000;
  events.push(...burst(mallory, ACTIONS.roleGrant, 11, attackStart, 6 * 60_000));
  // The keys are minted with a stolen application key: Datadog then records the email in usr.id and a UUID in usr.email.
  events.push(...burst({ ...mallory, viaKeys: true }, ACTIONS.apiKeyCreate, 3, attackStart + 4 * 60_000, 3 * 60_000));
  // Its own generator, after every other draw: the day's other events are the same with or without it.
  if (options.located) events.push(...locatedEvents(start, prng((options.seed ?? 20261124) + 1), options.carefulAt ?? 'spread'));
  events.sort((a, b) => a.attributes.timestamp.localeCompare(b.attributes.timestamp) || a.id.localeCompare(b.id));
  return events;
}
