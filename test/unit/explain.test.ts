import { explainFor } from '../../src/cli/explain-flag';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dryRunEvents, dryRunFile } from '../../src/replay/dry-run';
import { busiestSpan, explainActor, formatExplanation, type Explanation } from '../../src/replay/explain';
import type { ActorFacts } from '../../src/replay/explain-collect';
import { ACTIONS, LOGIN, PLACES, burst, locatedEvent, type AuditEventJson } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

/** #26 `--explain ACTOR`: the explanation, built from what the dry run's own replay showed of the actor. */
const MIN = 60_000;
const DAY = 86_400_000;
const T = Date.parse('2026-11-24T12:01:00.000Z');

function explain(events: AuditEventJson[], actor: string, yaml = ''): Explanation {
  const args = argsFrom(yaml);
  const explaining = explainFor(args, actor);
  const output = dryRunEvents(events, 0, args, explaining.watch);
  return explaining.explain(output);
}

const mallory = { id: 'u-mallory', email: 'mallory@example.com', name: 'Mallory' };

describe('explainActor on a dry run', () => {
  test('a paged actor: each rule\'s busiest window against its tiers, the incident, and the runs that read its events', () => {
    const events = [...burst(mallory, ACTIONS.roleGrant, 11, T, 7 * MIN), ...burst(mallory, ACTIONS.apiKeyCreate, 3, T + MIN, 5 * MIN)];
    const e = explain(events, 'Mallory@Example.com');
    expect(e.actor).toBe('mallory@example.com');
    expect(e.verdict).toBe('paged');
    expect(e.incidents).toEqual([expect.objectContaining({ severity: 'critical', counts: expect.objectContaining({ role_grant: 11, api_key_create: 3 }) })]);
    const roleGrant = e.rules.find((r) => r.rule === 'role_grant')!;
    expect(roleGrant).toMatchObject({ method: 'threshold', events: 11, best: { count: 11 }, reached: 'critical' });
    expect(roleGrant.tiers).toEqual([{ count: 3, severity: 'error', reached: true }, { count: 10, severity: 'critical', reached: true }]);
    expect(e.rules.find((r) => r.rule === 'api_key_create')).toMatchObject({ best: { count: 3 }, reached: 'error' });
    expect(e.events).toMatchObject({ total: 14, sensitive: 14 });
    // The burst spans the 12:05 and 12:10 runs (1-minute ingestion delay): each new event is counted once, by the run that first read it.
    expect(e.runs.length).toBeGreaterThanOrEqual(2);
    expect(e.runs.reduce((n, run) => n + run.events, 0)).toBe(14);
    expect(e.runs.some((run) => run.reread > 0)).toBe(true);
    const text = formatExplanation(e).join('\n');
    expect(text).toContain('EXPLAIN mallory@example.com: paged: critical');
    expect(text).toContain('role_grant (threshold): 11 events; best 10m window 11');
    expect(text).toContain('10 → critical reached');
  });

  test('an actor under the threshold: how far each tier is, and the closest rule', () => {
    const e = explain(burst({ email: 'bob@example.com' }, ACTIONS.roleGrant, 2, T, 3 * MIN), 'bob@example.com');
    expect(e.verdict).toBe('not paged');
    expect(e.because).toBe('not paged: no rule reached its threshold; closest: role_grant with 2 of 3 in 10m');
    expect(e.rules[0].tiers).toEqual([{ count: 3, severity: 'error', reached: false }, { count: 10, severity: 'critical', reached: false }]);
    expect(formatExplanation(e).join('\n')).toContain('3 → error not reached (1 short), 10 → critical not reached (8 short)');
  });

  test('two events exactly one window apart are not within it (the window is half-open)', () => {
    const events = [...burst({ email: 'bob@example.com' }, ACTIONS.roleGrant, 2, T, 3 * MIN), ...burst({ email: 'bob@example.com' }, ACTIONS.roleGrant, 1, T + 13 * MIN, 0)];
    expect(explain(events, 'bob@example.com').rules[0].best).toMatchObject({ count: 2 });
    expect(busiestSpan([0, 10 * MIN], 10 * MIN)).toEqual({ count: 1, from: 0 });
    expect(busiestSpan([0, 10 * MIN - 1], 10 * MIN)).toEqual({ count: 2, from: 0 });
  });

  test('a suppressed actor: the burst would have paged, and the suppression that applied', () => {
    const events = burst({ email: 'terraform@ci.example.com' }, ACTIONS.monitorDelete, 6, T, 5 * MIN);
    const e = explain(events, 'terraform@ci.example.com', 'detection:\n  suppress:\n    actors: ["*@ci.example.com"]\n');
    expect(e.verdict).toBe('suppressed');
    expect(e.suppressions).toEqual([expect.objectContaining({ reason: 'actor allowlisted (*@ci.example.com)', severity: 'error', events: 6 })]);
    expect(e.rules[0]).toMatchObject({ rule: 'monitor_delete', best: { count: 6 }, reached: 'error' });
    expect(e.suppressedBy).toBe('actor allowlisted (*@ci.example.com)');
    expect(formatExplanation(e)[0]).toBe('EXPLAIN terraform@ci.example.com: not paged: 1 burst suppressed: actor allowlisted (*@ci.example.com).');
  });

  test('an actor never seen: says so, with actors of a similar id', () => {
    const e = explain(burst({ email: 'mallory.ops@example.com' }, ACTIONS.roleGrant, 1, T, 0), 'mallory@example.com');
    expect(e.verdict).toBe('not seen');
    expect(e.because).toBe('not paged: no event by mallory@example.com was read (actors seen with a similar id: mallory.ops@example.com)');
  });
});

describe('catalog v3: warm-up and baseline facts', () => {
  const T0 = Date.parse('2026-11-10T09:00:00.000Z');
  const alice = { id: 'u-alice', email: 'alice@example.com', name: 'Alice' };
  const week = Array.from({ length: 8 }, (_, day) => locatedEvent(T0 + day * DAY, alice, LOGIN, PLACES.newYork));

  test('during warm-up: the new country is not checked against the baseline yet, and says when warm-up ends', () => {
    const e = explain([week[0], locatedEvent(T0 + 6 * DAY, alice, ACTIONS.roleGrant, PLACES.bucharest)], 'alice@example.com');
    expect(e.verdict).toBe('not paged');
    const rule = e.rules.find((r) => r.rule === 'new_country_sensitive')!;
    expect(rule.checks).toEqual([{ outcome: 'warm-up', count: 1, example: expect.objectContaining({ value: 'RO', warmUpEndsAt: T0 + 7 * DAY }) }]);
    expect(e.person).toBe(true);
    expect(e.baseline).toEqual({ since: new Date(T0).toISOString(), countries: ['US'] });
    expect(formatExplanation(e).join('\n')).toContain(`in warm-up (RO; warm-up over at ${new Date(T0 + 7 * DAY).toISOString()})`);
  });

  test('after warm-up: a new country fires (seen before: US); a known one does not', () => {
    const e = explain([...week, locatedEvent(T0 + 8 * DAY + 30 * MIN, alice, ACTIONS.roleGrant, PLACES.bucharest)], 'alice@example.com');
    expect(e.verdict).toBe('paged');
    const rule = e.rules.find((r) => r.rule === 'new_country_sensitive')!;
    expect(rule).toMatchObject({ events: 1, reached: 'warning', checks: [{ outcome: 'fired', count: 1, example: expect.objectContaining({ value: 'RO', seenBefore: ['US'] }) }] });

    const known = explain([...week, locatedEvent(T0 + 8 * DAY + 30 * MIN, alice, ACTIONS.roleGrant, PLACES.newYork)], 'alice@example.com');
    expect(known.rules.find((r) => r.rule === 'new_country_sensitive')!.checks).toEqual([
      { outcome: 'known', count: 1, example: expect.objectContaining({ value: 'US', seenBefore: ['US'] }) },
    ]);
  });

  test('impossible travel: New York then Singapore 40 minutes later fires, with the distance and speed', () => {
    const e = explain([...week, locatedEvent(T0 + 8 * DAY, alice, LOGIN, PLACES.newYork), locatedEvent(T0 + 8 * DAY + 40 * MIN, alice, LOGIN, PLACES.singapore)], 'alice@example.com');
    const rule = e.rules.find((r) => r.rule === 'impossible_travel')!;
    const fired = rule.checks!.find((c) => c.outcome === 'fired')!;
    expect(fired.example).toMatchObject({ value: 'SG', from: 'New York, US' });
    expect(fired.example.km).toBeGreaterThan(15_000);
    expect(rule.checks!.find((c) => c.outcome === 'near')).toBeDefined();
  });
});

test('explainActor on facts alone: correlation counts the distinct rules crossed within its span', () => {
  const at = (m: number) => T + m * MIN;
  const facts: ActorFacts = {
    actor: 'eve@example.com', eventsLeftOut: 0, similar: [], baselineRules: false,
    runs: [{ scheduledAt: at(10), window: { readFrom: at(-5), from: at(0), to: at(9) }, events: 7, reread: 0, sensitive: 7 }],
    events: [
      ...[0, 1, 2].map((m) => ({ ts: at(m), run: 0, rules: ['role_grant', 'any_sensitive'], derived: [] })),
      ...[3, 4, 5].map((m) => ({ ts: at(m), run: 0, rules: ['api_key_create'], derived: [] })),
      { ts: at(6), run: 0, rules: ['monitor_delete'], derived: [] },
    ],
  };
  const args = argsFrom('');
  const e = explainActor({ facts, rules: args.detection.rules.filter((r) => r.enabled), incidents: [], suppressed: [], suppress: args.detection.suppress });
  const multi = e.rules.find((r) => r.rule === 'multi_rule')!;
  expect(multi.correlation).toEqual({ most: 3, needed: 3, withinMs: 60 * MIN, rules: ['api_key_create', 'monitor_delete', 'role_grant'] });
  expect(multi.reached).toBe('critical');
  expect(e.runs).toEqual([{ scheduledAt: new Date(at(10)).toISOString(), window: { from: new Date(at(0)).toISOString(), to: new Date(at(9)).toISOString() }, events: 7, reread: 0, sensitive: 7 }]);
});

test('a file out of time order is replayed again from its index: the explanation is the in-order one, not doubled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-spike-explain-order-'));
  try {
    // Bob's events an hour before Mallory's; out of order, they come last, after Mallory's runs were already replayed while reading.
    const bob = burst({ email: 'bob@example.com' }, ACTIONS.roleGrant, 2, T - 60 * MIN, 3 * MIN);
    const malloryBurst = burst(mallory, ACTIONS.roleGrant, 11, T, 7 * MIN);
    const events = [...bob, ...malloryBurst];
    const explainFile = (ordered: AuditEventJson[]) => {
      const file = join(dir, `events-${ordered === events ? 'ordered' : 'out-of-order'}.jsonl`);
      writeFileSync(file, ordered.map((e) => JSON.stringify(e)).join('\n'));
      const args = argsFrom('');
      const explaining = explainFor(args, 'mallory@example.com');
      return explaining.explain(dryRunFile(file, { earliestMs: 0, latestMs: Date.parse('2030-01-01T00:00:00Z') }, args, explaining.watch));
    };
    const inOrder = explainFile(events);
    expect(inOrder.events.total).toBe(11);
    expect(explainFile([...malloryBurst, ...bob])).toEqual(inOrder);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
