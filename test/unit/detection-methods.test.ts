import {
  BASELINE_LIMITS, BASELINE_MAX_PERSON_BYTES, Baselines, COUNTRY_FIELD, ImpossibleTravelMethod, MethodSet, MultiRuleMethod, NewValueMethod,
  ThresholdMethod, cutCity, packPersons, personKey, haversineKm, packBaselines, personOf, placeOf, unpackBaselines, type PersonBaseline,
} from '../../src/detection/methods';
import { defaultMethod } from '../../src/config/resolve-methods';
import { BASELINE_SHARDS } from '../../src/workflows/baseline-workflow';
import type { RuleSpec } from '../../src/detection/types';

const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.parse('2026-11-01T00:00:00.000Z');

function rule(id: string, method: RuleSpec['method'], extra: Partial<RuleSpec> = {}): RuleSpec {
  return { id, description: id, enabled: true, anyOf: [], windowMs: 10 * MIN, tiers: [{ count: 1, severity: 'warning' }], ...(method ? { method } : {}), ...extra };
}

const NEW_COUNTRY = rule('new_country_sensitive', defaultMethod('new_value'));
const TRAVEL = rule('impossible_travel', defaultMethod('impossible_travel'));

function baseline(first: number, countries: Array<[string, number]>, last?: PersonBaseline['last']): PersonBaseline {
  return { first, seen: Math.max(first, ...countries.map(([, t]) => t)), values: { [COUNTRY_FIELD]: countries }, ...(last ? { last } : {}) };
}

const NY = { country: 'US', city: 'New York', lat: 40.71427, lon: -74.00597 };
const SG = { country: 'SG', city: 'Singapore', lat: 1.28967, lon: 103.85007 };

describe('great-circle distance', () => {
  test('New York to Singapore is about 15,300 km; a point to itself is 0', () => {
    expect(haversineKm(NY.lat, NY.lon, SG.lat, SG.lon)).toBeGreaterThan(15_300);
    expect(haversineKm(NY.lat, NY.lon, SG.lat, SG.lon)).toBeLessThan(15_400);
    expect(haversineKm(NY.lat, NY.lon, NY.lat, NY.lon)).toBe(0);
    // Antipodes: half the circumference, without NaN from rounding.
    expect(haversineKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371.0088, 3);
  });
});

describe('who is a person, where an event is', () => {
  const inner = (usr: Record<string, unknown>, type?: string) => ({ usr, ...(type ? { evt: { actor: { type } } } : {}) });
  test('an email with actor type USER, or none, is a person; keys, service accounts, support and system are not', () => {
    expect(personOf(inner({ email: 'Alice@Example.com' }, 'USER'))).toBe('alice@example.com');
    expect(personOf(inner({ email: 'alice@example.com' }))).toBe('alice@example.com');
    expect(personOf(inner({ email: 'sa@service.example.com' }, 'SERVICE_ACCOUNT'))).toBeUndefined();
    expect(personOf(inner({ email: 'support@datadoghq.com' }, 'SUPPORT_USER'))).toBeUndefined();
    expect(personOf(inner({ email: 'alice@example.com' }, 'SYSTEM'))).toBeUndefined();
    // Key-authenticated: Datadog puts a UUID in usr.email.
    expect(personOf(inner({ email: '3f1e9c2a-0000-4000-a000-000000000000', id: 'alice@example.com' }))).toBeUndefined();
    expect(personOf({ metadata: { api_key: { id: 'k1' } } })).toBeUndefined();
  });
  test('a located event has a country code; coordinates only when both are usable', () => {
    expect(placeOf({ network: { client: { ip: '203.0.113.5' } } })).toBeUndefined();
    expect(placeOf({ network: { client: { geoip: { country: { iso_code: 'ro' } } } } })).toEqual({ country: 'RO' });
    expect(placeOf({ network: { client: { geoip: { country: { iso_code: 'US' }, city: { name: 'Council Bluffs' }, location: { latitude: 41.26194, longitude: -95.86083 } } } } }))
      .toEqual({ country: 'US', city: 'Council Bluffs', lat: 41.26194, lon: -95.86083 });
    expect(placeOf({ network: { client: { geoip: { country: { iso_code: 'US' }, location: { latitude: 91, longitude: 0 } } } } })).toEqual({ country: 'US' });
  });
});

describe('new value', () => {
  const method = new NewValueMethod(NEW_COUNTRY);
  const check = (ts: number, value: string | undefined, b: PersonBaseline | undefined, sensitive = true) => method.check({ person: 'alice@example.com', ts, value, sensitive, baseline: b });

  test('a sensitive event from a new country fires once warm-up is over, saying what was seen before', () => {
    const b = baseline(T0, [['US', T0 + DAY], ['GB', T0 + 2 * DAY]]);
    expect(check(T0 + 8 * DAY, 'RO', b)).toEqual({ rule: 'new_country_sensitive', newValue: { rule: 'new_country_sensitive', field: COUNTRY_FIELD, value: 'RO', seenBefore: ['GB', 'US'] } });
    expect(check(T0 + 8 * DAY, 'US', b)).toBeUndefined();
  });
  test('warm-up: fires at exactly 7 days after the first learning-set event, not a millisecond before', () => {
    const b = baseline(T0, [['US', T0]]);
    expect(check(T0 + 7 * DAY, 'RO', b)).toBeDefined();
    expect(check(T0 + 7 * DAY - 1, 'RO', b)).toBeUndefined();
    expect(check(T0 + 8 * DAY, 'RO', undefined)).toBeUndefined();
  });
  test('forget-after: a country last seen exactly 28 days ago has left the baseline; a millisecond less, it is known', () => {
    const b = baseline(T0, [['US', T0 + 20 * DAY], ['RO', T0 + DAY]]);
    expect(check(T0 + 29 * DAY, 'RO', b)?.newValue?.seenBefore).toEqual(['US']);
    expect(check(T0 + 29 * DAY - 1, 'RO', b)).toBeUndefined();
  });
  test('no geoip, or not a sensitive event: nothing', () => {
    const b = baseline(T0, [['US', T0]]);
    expect(check(T0 + 8 * DAY, undefined, b)).toBeUndefined();
    expect(check(T0 + 8 * DAY, 'RO', b, false)).toBeUndefined();
  });
});

describe('impossible travel', () => {
  const method = new ImpossibleTravelMethod(TRAVEL);
  const from = { ts: T0 + 8 * DAY, ...NY };
  const check = (ts: number, place: typeof SG | { country: string }, b: PersonBaseline | undefined) => method.check({ person: 'alice@example.com', ts, place, baseline: b });

  test('New York then Singapore 40 minutes later: km and km/h, from and to', () => {
    const b = baseline(T0, [['US', T0 + 8 * DAY]], from);
    const firing = check(from.ts + 40 * MIN, SG, b);
    expect(firing?.travel).toMatchObject({
      from: { country: 'US', city: 'New York', timestamp: new Date(from.ts).toISOString() },
      to: { country: 'SG', city: 'Singapore', timestamp: new Date(from.ts + 40 * MIN).toISOString() },
    });
    expect(firing!.travel!.km).toBeGreaterThan(15_300);
    expect(firing!.travel!.kmh).toBeGreaterThan(22_900);
  });
  test('both ends in the baseline: quiet; only one end: fires', () => {
    expect(check(from.ts + 40 * MIN, SG, baseline(T0, [['US', T0 + 8 * DAY], ['SG', T0 + DAY]], from))).toBeUndefined();
    expect(check(from.ts + 40 * MIN, SG, baseline(T0, [['SG', T0 + DAY]], from))).toBeDefined();
    // SG left the baseline 28 days after it was last seen.
    expect(check(T0 + 29 * DAY, SG, baseline(T0, [['US', T0 + 29 * DAY - MIN], ['SG', T0 + DAY]], { ...from, ts: T0 + 29 * DAY - MIN }))).toBeDefined();
  });
  test('thresholds are strict: slow enough, or near enough, is possible', () => {
    const b = baseline(T0, [['US', T0]], from);
    const km = haversineKm(NY.lat, NY.lon, SG.lat, SG.lon);
    const atExactly1000 = (km / 1000) * 3_600_000;
    expect(check(from.ts + Math.ceil(atExactly1000), SG, b)).toBeUndefined();
    expect(check(from.ts + Math.floor(atExactly1000) - 1000, SG, b)).toBeDefined();
    expect(check(from.ts + MIN, { country: 'US', city: 'Boston', lat: 42.35843, lon: -71.05977 } as typeof SG, b)).toBeUndefined();
  });
  test('warm-up, no location on either end, an earlier event read late: quiet', () => {
    expect(check(T0 + 3 * DAY, SG, baseline(T0, [['US', T0]], { ...from, ts: T0 + 3 * DAY - MIN }))).toBeUndefined();
    expect(check(from.ts + 40 * MIN, { country: 'SG' }, baseline(T0, [['US', T0]], from))).toBeUndefined();
    expect(check(from.ts + 40 * MIN, SG, baseline(T0, [['US', T0]], { ts: from.ts, country: 'US' }))).toBeUndefined();
    expect(check(from.ts - MIN, SG, baseline(T0, [['US', T0]], from))).toBeUndefined();
  });
});

describe('threshold and multi-rule', () => {
  const threshold = rule('role_grant', undefined, { tiers: [{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }] });
  test('threshold wraps the sliding window: 3 in 10 minutes', () => {
    const method = new ThresholdMethod(threshold);
    const hits = [T0, 1, T0 + MIN, 2, T0 + 9 * MIN, 3];
    expect(method.check({ hits, ts: T0 + 9 * MIN })).toMatchObject({ severity: 'error', count: 3, start: T0 });
    expect(method.check({ hits: [T0, 1, T0 + 10 * MIN, 2, T0 + 11 * MIN, 3], ts: T0 + 11 * MIN })).toBeUndefined();
  });
  test('three distinct rules within 60 minutes fire; the one crossed 60 minutes ago no longer counts', () => {
    const monitor = rule('monitor_delete', undefined);
    const saml = rule('org_auth_change', undefined);
    const admin = rule('admin_role_grant', undefined, { tiers: [{ count: 1, severity: 'critical' }] });
    const multi = rule('multi_rule', defaultMethod('multi_rule'), { tiers: [{ count: 1, severity: 'critical' }] });
    const method = new MultiRuleMethod(multi, [monitor, saml, admin, multi]);
    const crossed = { monitor_delete: T0, org_auth_change: T0 + 20 * MIN, multi_rule: T0 + 30 * MIN };
    expect(method.check({ crossed, ts: T0 + 40 * MIN, crossing: ['admin_role_grant'] })).toEqual({ rule: 'multi_rule', count: 3 });
    expect(method.check({ crossed, ts: T0 + 60 * MIN, crossing: ['admin_role_grant'] })).toBeUndefined();
    expect(method.check({ crossed, ts: T0 + 60 * MIN - 1, crossing: ['admin_role_grant'] })).toBeDefined();
    // Correlation rules never count themselves; no crossing, no firing.
    expect(method.check({ crossed: { org_auth_change: T0, multi_rule: T0 }, ts: T0 + MIN, crossing: ['admin_role_grant'] })).toBeUndefined();
    expect(method.check({ crossed, ts: T0 + 40 * MIN, crossing: [] })).toBeUndefined();
  });
});

describe('the method set: look, then learn', () => {
  const set = new MethodSet([rule('role_grant', undefined), NEW_COUNTRY, TRAVEL]);
  const event = (action: string, country: string | undefined, extra: Record<string, unknown> = {}) => ({
    action, usr: { email: 'alice@example.com' }, evt: { actor: { type: 'USER' } },
    network: { client: { ip: '198.51.100.31', ...(country ? { geoip: { country: { iso_code: country } } } : {}) } }, ...extra,
  });

  test('the learning set teaches; a new country on a sensitive event fires once, then joins the baseline', () => {
    const baselines = new Baselines();
    expect(set.observe(event('login', 'US'), T0, false, baselines)).toBeUndefined();
    expect(baselines.get('alice@example.com')).toMatchObject({ first: T0, values: { [COUNTRY_FIELD]: [['US', T0]] } });
    const fired = set.observe(event('modified', 'RO'), T0 + 8 * DAY, true, baselines);
    expect(fired).toEqual([{ index: 1, firing: expect.objectContaining({ newValue: expect.objectContaining({ value: 'RO', seenBefore: ['US'] }) }) }]);
    expect(set.observe(event('modified', 'RO'), T0 + 8 * DAY + MIN, true, baselines)).toBeUndefined();
  });
  test('reads (accessed) and events without geoip teach nothing; persons only', () => {
    const baselines = new Baselines();
    set.observe(event('accessed', 'US'), T0, false, baselines);
    set.observe(event('login', undefined), T0, false, baselines);
    set.observe(event('login', 'US', { evt: { actor: { type: 'SERVICE_ACCOUNT' } } }), T0, false, baselines);
    expect(baselines.size).toBe(0);
  });
  test('the learned fields, the longest forget-after, and no baseline without baseline rules', () => {
    expect(set.learnedFields).toEqual([COUNTRY_FIELD]);
    expect(set.forgetAfterMs).toBe(28 * DAY);
    expect(new MethodSet([rule('role_grant', undefined)]).learns).toBe(false);
  });
});

describe('baselines: bounded, packed, merged', () => {
  test('at most 8 countries per person, the least recently seen evicted', () => {
    const baselines = new Baselines();
    for (let i = 0; i < 12; i++) baselines.learn('alice@example.com', T0 + i * MIN, COUNTRY_FIELD, `C${String.fromCharCode(65 + i)}`);
    const values = baselines.get('alice@example.com')!.values[COUNTRY_FIELD];
    expect(values).toHaveLength(BASELINE_LIMITS.valuesPerField);
    expect(values[0][0]).toBe('CE');
  });
  test('at most maxPersons persons, the least recently seen evicted', () => {
    const baselines = new Baselines(3);
    for (const [i, person] of ['a@x.com', 'b@x.com', 'c@x.com'].entries()) baselines.learn(person, T0 + i, COUNTRY_FIELD, 'US');
    baselines.learn('a@x.com', T0 + 10, COUNTRY_FIELD, 'US');
    baselines.learn('d@x.com', T0 + 11, COUNTRY_FIELD, 'US');
    expect(baselines.get('b@x.com')).toBeUndefined();
    expect(baselines.get('a@x.com')).toBeDefined();
    expect(baselines.size).toBe(3);
  });
  test('merge is idempotent and order-free (a retried scan, a late delta)', () => {
    const a = new Baselines();
    a.learn('alice@example.com', T0 + DAY, COUNTRY_FIELD, 'US');
    a.locate('alice@example.com', T0 + DAY, NY);
    const b = new Baselines();
    b.learn('alice@example.com', T0, COUNTRY_FIELD, 'RO');
    const delta = a.takeDelta();
    b.merge(delta);
    b.merge(delta);
    expect(b.get('alice@example.com')).toEqual({ first: T0, seen: T0 + DAY, values: { [COUNTRY_FIELD]: [['RO', T0], ['US', T0 + DAY]] }, last: { ts: T0 + DAY, ...NY } });
  });
  test('an event taught again (the next run\'s lateness overlap) hands nothing back; anything new does', () => {
    const taught = new Baselines();
    taught.learn('alice@example.com', T0, COUNTRY_FIELD, 'US');
    taught.locate('alice@example.com', T0, NY);
    // As the next scan loads it from the store: packed (coordinates to 1e-5 degree), unpacked.
    const loaded = unpackBaselines(packBaselines(taught));
    expect(loaded.takeDelta()).toEqual([]);
    loaded.learn('alice@example.com', T0, COUNTRY_FIELD, 'US');
    loaded.locate('alice@example.com', T0, { ...NY, lat: NY.lat + 1e-9 });
    loaded.learn('alice@example.com', T0 - MIN, COUNTRY_FIELD, 'US');
    expect(loaded.takeDelta().map(([key]) => key)).toEqual([personKey('alice@example.com')]);
    loaded.learn('alice@example.com', T0, COUNTRY_FIELD, 'US');
    expect(loaded.takeDelta()).toEqual([]);
    for (const change of [
      (b: Baselines) => b.learn('alice@example.com', T0 + 1, COUNTRY_FIELD, 'US'),
      (b: Baselines) => b.learn('alice@example.com', T0, COUNTRY_FIELD, 'RO'),
      (b: Baselines) => b.locate('alice@example.com', T0, SG),
      (b: Baselines) => b.learn('bob@example.com', T0, COUNTRY_FIELD, 'US'),
    ]) {
      const copy = unpackBaselines(packBaselines(taught));
      change(copy);
      expect(copy.takeDelta()).toHaveLength(1);
    }
  });
  test('pruning drops countries and persons unseen for 28 days', () => {
    const baselines = new Baselines();
    baselines.learn('old@x.com', T0, COUNTRY_FIELD, 'US');
    baselines.learn('alice@x.com', T0, COUNTRY_FIELD, 'RO');
    baselines.learn('alice@x.com', T0 + 20 * DAY, COUNTRY_FIELD, 'US');
    baselines.prune(T0 + 28 * DAY, 28 * DAY);
    expect(baselines.get('old@x.com')).toBeUndefined();
    expect(baselines.get('alice@x.com')!.values[COUNTRY_FIELD]).toEqual([['US', T0 + 20 * DAY]]);
  });
  test('20,000 persons: round trip exact, within the stated bound per person and in all', () => {
    const baselines = new Baselines(20_000);
    const countries = ['US', 'GB', 'FR', 'DE', 'RO', 'SG', 'JP', 'BR', 'IN', 'CA'];
    const started = Date.now();
    // Built as a store would receive them (whole persons); learn() reaches the same caps, one event at a time.
    const city = cutCity('Târgu Mureș — Mureș County, Transylvania, România ÂÎȘȚ ăâîșț');
    const persons: Array<[number, PersonBaseline]> = [];
    for (let p = 0; p < 20_000; p++) {
      const at = T0 + p * 1000;
      const values: Array<[string, number]> = countries.slice(0, BASELINE_LIMITS.valuesPerField).map((c, i) => [c, at + 60 * DAY + i * DAY]);
      persons.push([personKey(`person.number${p}@example-corp.com`), { first: at, seen: at + 90 * DAY, values: { [COUNTRY_FIELD]: values }, last: { ts: at, country: 'RO', city, lat: -46.54245, lon: -124.55747 } }]);
    }
    baselines.merge(persons);
    const packed = packBaselines(baselines);
    const bytes = Buffer.from(packed.persons, 'base64').length;
    // Every person at the caps (8 countries, a long non-ASCII city): the worst case of the default catalog.
    expect(bytes / 20_000).toBeLessThanOrEqual(BASELINE_MAX_PERSON_BYTES);
    const back = unpackBaselines(packed, 20_000);
    expect(back.size).toBe(20_000);
    expect(back.get('person.number19999@example-corp.com')).toEqual(baselines.get('person.number19999@example-corp.com'));
    expect(back.get('person.number0@example-corp.com')).toEqual(baselines.get('person.number0@example-corp.com'));
    expect(Date.now() - started).toBeLessThan(30_000);
    // As the store keeps them: one shard per baseline workflow, each far below Temporal's 2 MiB payload limit (its
    // continue-as-new input) even with every person at the caps.
    const shards = Array.from({ length: BASELINE_SHARDS }, () => [] as Array<[number, PersonBaseline]>);
    for (const entry of back.entries()) shards[entry[0] % BASELINE_SHARDS].push(entry);
    const shardChars = shards.map((list) => JSON.stringify(packPersons(list)).length);
    expect(Math.max(...shardChars)).toBeLessThan(1024 * 1024);
    // eslint-disable-next-line no-console
    console.log(`per shard (${BASELINE_SHARDS}): largest ${Math.max(...shardChars)} characters as JSON`);
    // eslint-disable-next-line no-console
    console.log(`20,000 persons at the caps: ${bytes} bytes packed (${(bytes / 20_000).toFixed(1)} per person), ${packed.persons.length} as base64`);
  });
  test('a typical person (two countries, an ASCII city) costs about 55 bytes', () => {
    const baselines = new Baselines();
    for (let p = 0; p < 1000; p++) {
      const person = `user${p}@example.com`;
      baselines.learn(person, T0 + p * 1000, COUNTRY_FIELD, 'US');
      baselines.learn(person, T0 + p * 1000 + 3 * DAY, COUNTRY_FIELD, 'GB');
      baselines.locate(person, T0 + p * 1000 + 3 * DAY, { country: 'GB', city: 'London', lat: 51.50853, lon: -0.12574 });
    }
    const bytes = Buffer.from(packBaselines(baselines).persons, 'base64').length;
    expect(bytes / 1000).toBeLessThan(60);
  });
});
