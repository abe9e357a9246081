import { ConfigError } from '../../src/config/errors';
import { parseConfigText } from '../../src/config/load';
import { keepWithinBudget, type ScanOutput } from '../../src/activities/scan-audit-events';
import { Detector } from '../../src/detection/detector';
import { packState } from '../../src/detection/packed-state';
import { emptyEvidence } from '../../src/detection/evidence';
import { zeroCounters } from '../../src/detection/scan';
import type { ActorState, CarriedState, IncidentState } from '../../src/detection/state';
import { DEFAULT_MAX_RESULT_BYTES, describeShedding, fitStateToBudget, lowestTiers, utf8Bytes } from '../../src/detection/state-budget';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const thresholds = { role_grant: 10, api_key_create: 4 };
const measure = (state: CarriedState) => utf8Bytes(JSON.stringify(state));

function hitsOf(count: number, newest: number): number[] {
  const hits: number[] = [];
  for (let i = count - 1; i >= 0; i--) hits.push(newest - i * 1000, 1_000_000 + newest + i);
  return hits;
}

function incident(lastSeen: number, extra: Partial<IncidentState> = {}): IncidentState {
  return {
    dedupKey: `audit-spike-${lastSeen}`, firstSeen: lastSeen - 60_000, lastSeen, severity: 'error', rules: ['role_grant'], counts: { role_grant: 12 },
    events: 12, late: false, evidence: { ...emptyEvidence(), ips: [['192.0.2.1', 12]] }, notified: { severity: 'error', events: 12 }, ...extra,
  };
}

/** 200 idle actors, half one hit of role_grant (1/10 of its threshold) and half three API keys (3/4 of its threshold), and two open incidents. */
function crowdedState(): CarriedState {
  const actors: Record<string, ActorState> = Object.create(null);
  for (let i = 0; i < 100; i++) actors[`far.${i}@example.com`] = { name: `Far ${i}`, hits: { role_grant: hitsOf(1, T0 - i * 10_000) } };
  for (let i = 0; i < 100; i++) actors[`near.${i}@example.com`] = { name: `Near ${i}`, hits: { api_key_create: hitsOf(3, T0 - i * 10_000) } };
  actors['burst.old@example.com'] = { hits: { role_grant: hitsOf(12, T0 - 600_000) }, incident: incident(T0 - 600_000) };
  actors['burst.new@example.com'] = { hits: { role_grant: hitsOf(12, T0) }, incident: incident(T0, { suppressed: 'allowlisted' }) };
  return { v: 3, watermark: T0 + 1, actors };
}

describe('fitStateToBudget: the carried state within a byte budget, least useful first', () => {
  test('a state within its budget is left as it is', () => {
    const state = crowdedState();
    const before = JSON.stringify(state);
    expect(fitStateToBudget(state, { budgetBytes: before.length, thresholds, measure })).toBeUndefined();
    expect(JSON.stringify(state)).toBe(before);
  });

  test('actors furthest from any threshold go first, the oldest of them first; open incidents stay whole', () => {
    const state = crowdedState();
    const full = measure(state);
    const budgetBytes = Math.floor(full * 0.8);
    const report = fitStateToBudget(state, { budgetBytes, thresholds, measure })!;
    expect(report).toBeDefined();
    expect(measure(state)).toBeLessThanOrEqual(budgetBytes);
    expect(report.afterBytes).toBe(measure(state));
    expect(report.beforeBytes).toBe(full);
    expect(report.actors).toBeGreaterThan(0);
    expect(report.actors).toBeLessThan(100);
    expect(report.hits).toBe(report.actors);
    expect(report.incidentHits + report.evidence + report.incidents).toBe(0);
    // Only far actors (1/10 of a threshold) went, and the oldest of them (the highest numbers) first.
    const ids = Object.keys(state.actors);
    expect(ids.filter((id) => id.startsWith('near.'))).toHaveLength(100);
    const far = ids.filter((id) => id.startsWith('far.')).map((id) => Number(id.slice(4, -12)));
    expect(far).toEqual(Array.from({ length: 100 - report.actors }, (_, i) => i));
    expect(state.actors['burst.old@example.com'].incident).toEqual(incident(T0 - 600_000));
    expect(state.actors['burst.old@example.com'].hits.role_grant).toHaveLength(24);
  });

  test('with no idle actor left, the hits of open incidents go, then their evidence, and their incidents only as a last resort', () => {
    const hitsOnly = crowdedState();
    const idle = 200;
    const withoutIdle = (() => {
      const s = crowdedState();
      for (const id of Object.keys(s.actors)) if (!s.actors[id].incident) delete s.actors[id];
      return measure(s);
    })();
    const report = fitStateToBudget(hitsOnly, { budgetBytes: withoutIdle - 200, thresholds, measure })!;
    expect(report.actors).toBe(idle);
    expect(report.incidentHits).toBeGreaterThan(0);
    expect(report.evidence + report.incidents).toBe(0);
    // The oldest burst's hits went first; every incident kept its dedup key and what PagerDuty was told.
    expect(hitsOnly.actors['burst.old@example.com'].hits).toEqual({});
    expect(hitsOnly.actors['burst.old@example.com'].incident!.notified).toEqual({ severity: 'error', events: 12 });

    const tight = crowdedState();
    const last = fitStateToBudget(tight, { budgetBytes: 200, thresholds, measure })!;
    expect(last.incidentHits).toBe(2);
    expect(last.evidence).toBe(2);
    // The suppressed burst goes before the one that paged.
    expect(last.incidents).toBeGreaterThanOrEqual(1);
    expect(tight.actors['burst.new@example.com']).toBeUndefined();
    const sentence = describeShedding(last);
    expect(sentence).toContain('the hits of 200 actors with no open incident');
    expect(sentence).toContain('the evidence of 2 open incidents');
    expect(sentence).toContain('Raise detection.limits.maxResultBytes');
  });

  test('lowestTiers reads each rule\'s first tier', () => {
    expect(lowestTiers([{ id: 'a', tiers: [{ count: 3 }, { count: 9 }] }, { id: 'b', tiers: [] }])).toEqual({ a: 3 });
  });

  test('utf8Bytes counts as UTF-8 does', () => {
    for (const text of ['plain', 'Zoë', '日本', '😀 x', '']) expect(utf8Bytes(text)).toBe(Buffer.byteLength(text));
  });
});

describe('keepWithinBudget: the scan activity\'s result within detection.limits.maxResultBytes', () => {
  function outputWith(state: CarriedState): ScanOutput {
    return { state, counters: zeroCounters(), actions: [], suppressed: [], evidenceEvicted: 0, pages: 1, resumedAtPage: 0, query: 'q', warnings: [] };
  }

  function bigState(actors: number): CarriedState {
    const state: CarriedState = { v: 3, watermark: T0, actors: Object.create(null) };
    for (let i = 0; i < actors; i++) state.actors[`someone.${i}@example.com`] = { name: `Someone ${i}`, hits: { role_grant: hitsOf(2, T0 - i) } };
    return state;
  }

  test('over the budget: the result fits, and the run is told what was shed', () => {
    const detector = new Detector(argsFrom('detection:\n  limits:\n    maxResultBytes: 65536\n').detection, 300_000);
    const output = keepWithinBudget(outputWith(bigState(5000)), detector, 300_000);
    // As the activity returns it: the state packed.
    const { packed, ...rest } = output;
    const crossing = () => utf8Bytes(JSON.stringify({ ...rest, state: packed }));
    expect(crossing()).toBeLessThanOrEqual(65_536);
    expect(output.warnings).toHaveLength(1);
    expect(output.warnings[0]).toMatch(/^The carried state \(\d+ KiB\) was over its share of detection\.limits\.maxResultBytes/);
    // Shed in batches sized from the bytes still over: what fits is kept (about a tenth of 530 KB fits in 48 KB).
    expect(Object.keys(output.state.actors).length).toBeGreaterThan(300);
    expect(crossing()).toBeGreaterThan(40_000);
    // What the activity returns is the packed form of the state as it ended up (packed once, while measuring).
    expect(output.packed).toEqual(packState(output.state, 300_000));
  });

  test('within the budget (the default): nothing shed, nothing said', () => {
    const args = argsFrom();
    expect(args.detection.limits.maxResultBytes).toBe(DEFAULT_MAX_RESULT_BYTES);
    const output = keepWithinBudget(outputWith(bigState(100)), new Detector(args.detection, 300_000), 300_000);
    expect(output.warnings).toEqual([]);
    expect(Object.keys(output.state.actors)).toHaveLength(100);
    expect(output.packed).toEqual(packState(output.state, 300_000));
  });

  test('a budget Temporal would refuse, or too small to carry anything, is a config error that says why', () => {
    expect(() => parseConfigText('detection:\n  limits:\n    maxResultBytes: 3000000\n', 'x')).toThrow(ConfigError);
    expect(() => parseConfigText('detection:\n  limits:\n    maxResultBytes: 3000000\n', 'x')).toThrow(/2 MiB/);
    expect(() => parseConfigText('detection:\n  limits:\n    maxResultBytes: 1000\n', 'x')).toThrow(/at least 65536/);
  });
});
