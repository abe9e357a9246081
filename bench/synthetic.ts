import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ACTIONS, NOISE, auditEvent, type ActionSpec, type Actor, type AuditEventJson } from '../sim/audit-events';
import { prng } from '../sim/sample-day';

/**
 * Deterministic synthetic audit events for the benchmark, built with the simulator's builders so every event has the
 * exact shape of one element of `data[]` in the v2 audit events API.
 */

const FIRST = ['ana', 'ben', 'chen', 'dana', 'eli', 'fay', 'gus', 'hana', 'ivo', 'jun', 'kim', 'lea', 'max', 'noa', 'oli', 'pia'];

function user(i: number): Actor {
  const first = FIRST[i % FIRST.length];
  // Datadog keeps the email as typed: some are mixed case, which the actor resolver lower-cases.
  const email = i % 7 === 0 ? `${first[0].toUpperCase()}${first.slice(1)}.${i}@Example.com` : `${first}.${i}@example.com`;
  return { id: `u-${(0x10000 + i).toString(16)}`, email, name: `${first[0].toUpperCase()}${first.slice(1)} ${i}` };
}

/** Weighted choice table: [weight, action]. */
type Mix = Array<[number, ActionSpec]>;

/** Everyday traffic (~94%): reads dominate, then edits. None of it counts toward any rule. */
const NOISE_MIX: Mix = [
  [30, NOISE[0]], // dashboard accessed
  [6, NOISE[1]], // dashboard modified
  [2, NOISE[2]], // dashboard created
  [5, NOISE[3]], // monitor modified
  [2, NOISE[4]], // monitor created
  [8, NOISE[5]], // monitor accessed
  [4, NOISE[6]], // notebook modified
  [20, NOISE[7]], // logs query
  [8, NOISE[8]], // login
  [2, NOISE[9]], // api key accessed
  [2, NOISE[10]], // api keys listed
  [2, NOISE[11]], // role accessed
  [2, NOISE[12]], // users listed
  [1, NOISE[13]], // pipeline modified
];

/** Sensitive actions (~6% of events), as often as a large org might see them. */
const SENSITIVE_MIX: Mix = [
  [2.0, ACTIONS.roleGrant],
  [1.2, ACTIONS.apiKeyCreate],
  [0.6, ACTIONS.appKeyCreate],
  [0.6, ACTIONS.serviceAccountAppKeyCreate],
  [1.4, ACTIONS.userInvite],
  [0.1, ACTIONS.monitorDelete],
  [0.02, ACTIONS.samlChange],
  [0.03, ACTIONS.securityRuleDelete],
  [0.03, ACTIONS.pipelineDelete],
  [0.02, ACTIONS.auditSettingsDisable],
];

function chooser(mix: Mix): (r: number) => ActionSpec {
  const total = mix.reduce((sum, [w]) => sum + w, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const [w] of mix) cumulative.push((acc += w / total));
  return (r) => {
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]) return mix[i][1];
    return mix[mix.length - 1][1];
  };
}

export interface CoreDataset {
  events: number;
  actors: number;
  sensitive: number;
  bursts: number;
  fromMs: number;
  toMs: number;
}

/**
 * One busy day of a large org, `total` events in timestamp order (as the search API pages them with sort=timestamp):
 * 2,000 people with a skewed activity (a few very active admins), 150 API keys used by automation without a user
 * (~5% of events), ~0.1% events with no actor at all, ~6% sensitive actions, and 40 injected bursts (11 role grants
 * and 3 API keys in 7 minutes by one person). Written as JSONL, one `data[]` element per line.
 */
export async function writeCoreDataset(path: string, total: number, seed = 20261124): Promise<CoreDataset> {
  const random = prng(seed);
  const users = Array.from({ length: 2000 }, (_, i) => user(i));
  const keys: Actor[] = Array.from({ length: 150 }, (_, i) => ({ apiKeyId: `k${(0x5eed0000 + i * 7919).toString(16)}` }));
  const noiseOf = chooser(NOISE_MIX);
  const sensitiveOf = chooser(SENSITIVE_MIX);
  const fromMs = Date.UTC(2026, 10, 24, 0, 0, 0);
  const span = 24 * 3_600_000;
  const burstCount = 40;
  const burstEvents = 14;
  const plain = total - burstCount * burstEvents;

  // Bursts first, as (time, actor, action) so they merge into the sorted stream.
  const bursts: Array<{ ts: number; actor: Actor; action: ActionSpec }> = [];
  for (let b = 0; b < burstCount; b++) {
    const actor = users[Math.floor(random() * users.length)];
    const start = fromMs + Math.floor(((b + 0.5) * span) / burstCount);
    for (let i = 0; i < 11; i++) bursts.push({ ts: start + Math.round((6 * 60_000 * i) / 10), actor, action: ACTIONS.roleGrant });
    for (let i = 0; i < 3; i++) bursts.push({ ts: start + 4 * 60_000 + i * 90_000, actor, action: ACTIONS.apiKeyCreate });
  }
  bursts.sort((a, b) => a.ts - b.ts);

  const out = createWriteStream(path);
  let buffer = '';
  let sensitive = 0;
  let nextBurst = 0;
  const slot = span / plain;
  const flush = async (force = false) => {
    if (buffer.length < 1 << 20 && !force) return;
    if (!out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  const emit = async (event: AuditEventJson) => {
    buffer += `${JSON.stringify(event)}\n`;
    await flush();
  };
  for (let i = 0; i < plain; i++) {
    const ts = fromMs + Math.floor(i * slot + random() * slot);
    while (nextBurst < bursts.length && bursts[nextBurst].ts <= ts) {
      const { ts: bts, actor, action } = bursts[nextBurst++];
      sensitive++;
      await emit(auditEvent(bts, actor, action));
    }
    const who = random();
    // Skewed activity: squaring a uniform draw favours the first users (the busy admins).
    const actor: Actor = who < 0.05 ? keys[Math.floor(random() * keys.length)] : who < 0.051 ? {} : users[Math.floor(random() ** 2 * users.length)];
    const isSensitive = random() < 0.06;
    if (isSensitive) sensitive++;
    await emit(auditEvent(ts, actor, isSensitive ? sensitiveOf(random()) : noiseOf(random())));
  }
  while (nextBurst < bursts.length) {
    const { ts, actor, action } = bursts[nextBurst++];
    sensitive++;
    await emit(auditEvent(ts, actor, action));
  }
  await flush(true);
  out.end();
  await once(out, 'finish');
  return { events: total, actors: users.length + keys.length + 1, sensitive, bursts: burstCount, fromMs, toMs: fromMs + span };
}

/**
 * The busy run's events: `total` sensitive actions (all match the run's Datadog query, so all are served) spread over
 * [fromMs, toMs), by total/10 actors who each do 2 role grants, 2 API keys, 2 application keys and 4 user invites:
 * every actor stays under every threshold, so the run is busy but pages no one (its history can be compared with a
 * quiet run's). Plus `noise` everyday events that the query filters out server-side.
 */
export function busyRunEvents(total: number, noise: number, fromMs: number, toMs: number, seed = 7): AuditEventJson[] {
  const random = prng(seed);
  const span = toMs - fromMs;
  const plan: ActionSpec[] = [
    ACTIONS.roleGrant, ACTIONS.roleGrant, ACTIONS.apiKeyCreate, ACTIONS.apiKeyCreate, ACTIONS.appKeyCreate,
    ACTIONS.serviceAccountAppKeyCreate, ACTIONS.userInvite, ACTIONS.userInvite, ACTIONS.userInvite, ACTIONS.userInvite,
  ];
  const events: AuditEventJson[] = [];
  const actors = Math.ceil(total / plan.length);
  for (let a = 0; a < actors && events.length < total; a++) {
    const actor = user(100_000 + a);
    for (const action of plan) {
      if (events.length >= total) break;
      events.push(auditEvent(fromMs + Math.floor(random() * span), actor, action));
    }
  }
  const noiseOf = chooser(NOISE_MIX);
  for (let i = 0; i < noise; i++) events.push(auditEvent(fromMs + Math.floor(random() * span), user(i % 500), noiseOf(random())));
  return events;
}

/**
 * Each person's sensitive actions over a long window, every rule kept under its lowest tier in any 10-minute span:
 * per rule `count` events at even spacing (`spacingMs` > 10 min / (tier − 1)). 48 events a person over 29 minutes.
 */
const UNDER_EVERY_TIER: Array<{ action: ActionSpec; count: number; spacingMs: number }> = [
  { action: ACTIONS.roleGrant, count: 6, spacingMs: 301_000 },
  { action: ACTIONS.apiKeyCreate, count: 6, spacingMs: 301_000 },
  { action: ACTIONS.appKeyCreate, count: 6, spacingMs: 301_000 },
  { action: { evt: 'Access Management', assetType: 'restriction_policy', action: 'modified', assetName: 'dashboard policy', method: 'POST' }, count: 6, spacingMs: 301_000 },
  { action: ACTIONS.userInvite, count: 12, spacingMs: 151_000 },
  { action: { evt: 'Authentication', assetType: 'api_key', action: 'deleted', assetName: 'old-key', method: 'DELETE' }, count: 12, spacingMs: 151_000 },
];
export const WIDE_EVENTS_PER_PERSON = UNDER_EVERY_TIER.reduce((sum, rule) => sum + rule.count, 0);

/**
 * A wide window (at least 29 minutes): `total` sensitive events by total / 48 people, each acting all along the window
 * but under every threshold. Its people are as many as the busy run's at 1,000,000 events (20,834 against 20,000), so
 * a run over it holds as many actors under watch as the busy run while reading five times the events. In time order.
 */
export function wideWindowEvents(total: number, fromMs: number, toMs: number, seed = 13): AuditEventJson[] {
  const random = prng(seed);
  const longest = Math.max(...UNDER_EVERY_TIER.map((rule) => (rule.count - 1) * rule.spacingMs));
  const slack = toMs - fromMs - longest;
  if (slack < 0) throw new Error(`wideWindowEvents needs a window of at least ${Math.ceil(longest / 60_000)} minutes`);
  const events: AuditEventJson[] = [];
  for (let person = 0; events.length < total; person++) {
    const actor = user(200_000 + person);
    const start = fromMs + Math.floor(random() * slack);
    for (const rule of UNDER_EVERY_TIER) {
      for (let i = 0; i < rule.count && events.length < total; i++) events.push(auditEvent(start + i * rule.spacingMs + (person % 1000), actor, rule.action));
    }
  }
  return events.sort((a, b) => (a.attributes.timestamp < b.attributes.timestamp ? -1 : 1));
}

/** Everyday noise plus near misses (2 role grants, 1 API key each by two people): a quiet run reads a handful. */
export function quietRunEvents(noise: number, fromMs: number, toMs: number, seed = 11): AuditEventJson[] {
  const random = prng(seed);
  const span = toMs - fromMs;
  const noiseOf = chooser(NOISE_MIX);
  const events = Array.from({ length: noise }, (_, i) => auditEvent(fromMs + Math.floor(random() * span), user(i % 200), noiseOf(random())));
  events.push(auditEvent(fromMs + span / 3, user(1), ACTIONS.roleGrant), auditEvent(fromMs + span / 2, user(1), ACTIONS.roleGrant));
  events.push(auditEvent(fromMs + span / 4, user(2), ACTIONS.apiKeyCreate), auditEvent(fromMs + span / 5, user(3), ACTIONS.apiKeyCreate));
  return events;
}

export { auditEvent, ACTIONS };
