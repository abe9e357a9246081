import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BacktestReport } from '../../src/replay/backtest';
import { ACTIONS, LOGIN, NOISE, PLACES, locatedEvent, type AuditEventJson } from '../../sim/audit-events';
import { backfilledScheduleYaml, backfillLiveRuns, lastHalfHourOfTicks } from '../support/backfill';
import { runBuiltCli } from '../support/cli';
import { withStackAndWorker, type Stack } from '../support/stack';

/**
 * Catalog v3, same code path everywhere (#23): for the same located events, the live Schedule (its baselines in the
 * baseline shard workflows, carried from run to run), `audit-spike backtest` (the same ticks, baselines in memory) and
 * `audit-spike dry-run` on the events as a file give the same incidents: rule ids, severities, counts and evidence
 * (countries, new values with what was seen before, travel). The persons' baselines and last locations are taught in
 * one run and used in a later one. Warm-up is shortened to 5 minutes (the config's `learning`), so it all fits in
 * half an hour of audit trail, as the burst-only backtest-equals-live test does.
 */
const MIN = 60_000;

const alice = { id: 'u-alice', email: 'alice@example.com', name: 'Alice' };
const bob = { id: 'u-bob', email: 'bob@example.com', name: 'Bob' };
const carol = { id: 'u-carol', email: 'carol@example.com', name: 'Carol' };
const dave = { id: 'u-dave', email: 'dave@example.com', name: 'Dave' };
const staff = Array.from({ length: 4 }, (_, i) => ({ id: `u${i}`, email: `user${i}@example.com` }));

function locatedEvents(t1: number): AuditEventJson[] {
  // Everyday edits from home, some in the learning set (created/modified/deleted), all located.
  const noise = Array.from({ length: 120 }, (_, i) => locatedEvent(t1 - 15 * MIN + Math.floor((39 * MIN * i) / 120), staff[i % staff.length], NOISE[i % NOISE.length], i % 2 ? PLACES.chicago : PLACES.newYork));
  return [
    ...noise,
    // Baselines taught in the first run (its lookback), used by later runs.
    locatedEvent(t1 - 14 * MIN, alice, LOGIN, PLACES.newYork),
    locatedEvent(t1 - 13 * MIN, bob, LOGIN, PLACES.newYork),
    locatedEvent(t1 - 12 * MIN, carol, LOGIN, PLACES.chicago),
    locatedEvent(t1 - 11 * MIN, dave, LOGIN, PLACES.newYork),
    // Alice: one role grant (under role_grant's threshold) from Bucharest: a new country, and New York → Bucharest in 21 min.
    locatedEvent(t1 + 7 * MIN, alice, ACTIONS.roleGrant, PLACES.bucharest),
    // Bob: a login from Singapore 25 minutes after New York (a login is not sensitive: travel only).
    locatedEvent(t1 + 12 * MIN, bob, LOGIN, PLACES.singapore),
    // Carol: three role grants from Bucharest across two runs: new country and travel on the first, the role_grant
    // burst on the third: three distinct rules within the hour, multi_rule (critical).
    locatedEvent(t1 + 14 * MIN, carol, ACTIONS.roleGrant, PLACES.bucharest),
    locatedEvent(t1 + 15.5 * MIN, carol, ACTIONS.roleGrant, PLACES.bucharest),
    locatedEvent(t1 + 16.5 * MIN, carol, ACTIONS.roleGrant, PLACES.bucharest),
    // Dave: Singapore 29 minutes after New York (travel), then New York again a minute later: Singapore and the
    // United States are both in his baseline by then, so the way back pages nothing more.
    locatedEvent(t1 + 18 * MIN, dave, LOGIN, PLACES.singapore),
    locatedEvent(t1 + 19 * MIN, dave, LOGIN, PLACES.newYork),
  ];
}

function configYaml(stack: Stack): string {
  return [
    ...backfilledScheduleYaml(stack),
    'detection:',
    '  rules:',
    '    - { id: new_country_sensitive, learning: 5m }',
    '    - { id: impossible_travel, learning: 5m }',
    '',
  ].join('\n');
}

interface Evidence {
  countries?: string[];
  newValues?: Array<{ rule: string; field: string; value: string; seenBefore: string[] }>;
  travel?: { from: { country: string; city?: string; timestamp: string }; to: { country: string; city?: string; timestamp: string }; km: number; kmh: number };
}
interface Comparable { actor: string; severity: string; rules: string[]; counts: Record<string, number>; countries?: string[]; newValues?: Evidence['newValues']; travel?: Evidence['travel'] }

function comparable(incident: { actor: string; severity: string; rules: string[]; counts: Record<string, number>; evidence?: unknown }): Comparable {
  const evidence = (incident.evidence ?? {}) as Evidence;
  return {
    actor: incident.actor, severity: incident.severity, rules: [...incident.rules].sort(), counts: incident.counts,
    countries: evidence.countries, newValues: evidence.newValues, travel: evidence.travel,
  };
}
const byActor = (a: Comparable, b: Comparable) => a.actor.localeCompare(b.actor);

describe('catalog v3: dry-run, backtest and the live Schedule agree on located events', () => {
  let stack: Stack;

  withStackAndWorker((started) => (stack = started));

  test('the same new-country, impossible-travel and multi-rule incidents, with the same evidence', async () => {
    const { t1, t2 } = lastHalfHourOfTicks();
    const events = locatedEvents(t1);
    stack.datadog.addEvents(events);
    const { live, configFile } = await backfillLiveRuns(stack, configYaml(stack), { t1, t2 }, { file: 'replay-v3.yaml', timeoutMs: 60_000 });

    const keys = { DD_API_KEY: stack.workerEnv.DD_API_KEY, DD_APP_KEY: stack.workerEnv.DD_APP_KEY };
    const backtestCli = await runBuiltCli(['backtest', '--from', new Date(t1).toISOString(), '--to', new Date(t2).toISOString(), '--config', configFile, '--json'], keys);
    expect(backtestCli).toMatchObject({ code: 0, stderr: '' });
    const backtest = JSON.parse(backtestCli.stdout) as BacktestReport;

    // The dry-run reads the events as a file: exactly those the live runs and the backtest read from the simulator.
    const eventsFile = join(stack.dir, 'located.jsonl');
    writeFileSync(eventsFile, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const dryRunCli = await runBuiltCli(['dry-run', '--events', eventsFile, '--config', configFile, '--json'], {});
    expect(dryRunCli.code).toBe(0);
    const dryRun = JSON.parse(dryRunCli.stdout) as { incidents: Array<Parameters<typeof comparable>[0]> };

    // Live: each incident as the runs last reported it (its last trigger or update).
    const reported = new Map<string, Comparable>();
    for (const record of live.flatMap((run) => run.incidents)) {
      if (record.kind === 'trigger' || record.kind === 'update') reported.set(record.dedupKey, comparable(record));
    }
    const liveIncidents = [...reported.values()].sort(byActor);
    expect(backtest.incidents.map(comparable).sort(byActor)).toEqual(liveIncidents);
    expect(dryRun.incidents.map(comparable).sort(byActor)).toEqual(liveIncidents);

    // And what they are, so that agreeing on nothing cannot pass.
    expect(liveIncidents.map((i) => [i.actor, i.severity, i.rules])).toEqual([
      ['alice@example.com', 'warning', ['impossible_travel', 'new_country_sensitive']],
      ['bob@example.com', 'warning', ['impossible_travel']],
      ['carol@example.com', 'critical', ['impossible_travel', 'multi_rule', 'new_country_sensitive', 'role_grant']],
      ['dave@example.com', 'warning', ['impossible_travel']],
    ]);
    const [alicePage, bobPage, carolPage] = liveIncidents;
    expect(alicePage.countries).toEqual(['RO']);
    expect(alicePage.newValues).toEqual([{ rule: 'new_country_sensitive', field: 'network.client.geoip.country.iso_code', value: 'RO', seenBefore: ['US'] }]);
    expect(alicePage.travel).toMatchObject({ from: { country: 'US', city: 'New York' }, to: { country: 'RO', city: 'Bucharest' } });
    expect(bobPage.travel).toMatchObject({ from: { country: 'US', city: 'New York' }, to: { country: 'SG', city: 'Singapore' } });
    expect(bobPage.travel!.km).toBeGreaterThan(15_000);
    expect(carolPage.counts.role_grant).toBe(3);
    expect(carolPage.countries).toEqual(['RO']);
    // The live pipeline really carried baselines between runs: the travel's two ends were read by different runs.
    const runOf = (ts: string) => live.findIndex((run) => Date.parse(run.window.from) <= Date.parse(ts) && Date.parse(ts) < Date.parse(run.window.to));
    expect(runOf(bobPage.travel!.from.timestamp)).toBeLessThan(runOf(bobPage.travel!.to.timestamp));
  }, 150_000);
});
