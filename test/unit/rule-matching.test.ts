import { DEFAULT_RULES } from '../../src/config/default-rules';
import { CompiledRules } from '../../src/detection/rules';
import type { MatchClause, RuleSpec } from '../../src/detection/types';
import { prng } from '../../sim/sample-day';

/**
 * The indexed matcher against the rules' matching semantics written out plainly: a rule matches when any clause holds;
 * a clause when all its conditions hold; a condition when the value at its path (or one element of an array there),
 * lower-cased, equals a value or fits a `*` pattern; read-only actions never match; combined rules follow their sources.
 */
function plainMatch(rules: RuleSpec[], readOnly: string[], inner: Record<string, unknown>): number[] | undefined {
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v).toLowerCase() : undefined);
  const at = (path: string) => path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), inner);
  const fits = (value: string, candidate: string) => {
    const v = value.toLowerCase();
    if (!v.includes('*')) return v === candidate;
    return new RegExp(`^${v.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(candidate);
  };
  const holds = (clause: MatchClause) =>
    clause.all.every((condition) => {
      const raw = at(condition.path);
      const texts = (Array.isArray(raw) ? raw : [raw]).map(text).filter((t): t is string => t !== undefined);
      return texts.some((t) => condition.values.some((value) => fits(value, t)));
    });
  const action = text(inner.action);
  if (action !== undefined && readOnly.map((a) => a.toLowerCase()).includes(action)) return undefined;
  const enabled = rules.filter((r) => r.enabled);
  const ordered = [...enabled.filter((r) => !r.combines), ...enabled.filter((r) => r.combines)];
  const baseHits = ordered.filter((r) => !r.combines && r.anyOf.some(holds)).map((r) => r.id);
  const matched = ordered
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => (r.combines ? baseHits.length > 0 && (r.combines.includes('*') || r.combines.some((id) => baseHits.includes(id))) : baseHits.includes(r.id)))
    .map(({ i }) => i);
  return matched.length ? matched : undefined;
}

const PATHS = ['action', 'asset.type', 'evt.name', 'asset.name', 'metadata.role.name', 'usr.email'];
const WORDS = ['created', 'deleted', 'modified', 'accessed', 'role', 'api_key', 'monitor', 'Admin', 'admin-ro', 'x', 'user'];

function pick<T>(random: () => number, items: T[]): T {
  return items[Math.floor(random() * items.length)];
}

function randomValue(random: () => number): string {
  const word = pick(random, WORDS);
  const r = random();
  if (r < 0.1) return `${word.slice(0, 2)}*`;
  if (r < 0.15) return `*${word.slice(-2)}`;
  if (r < 0.25) return word.toUpperCase();
  return word;
}

function randomRules(random: () => number): RuleSpec[] {
  const rules: RuleSpec[] = [];
  const count = 1 + Math.floor(random() * 7);
  for (let i = 0; i < count; i++) {
    const anyOf: MatchClause[] = [];
    for (let c = 0, clauses = 1 + Math.floor(random() * 3); c < clauses; c++) {
      const all = [];
      for (let k = 0, conditions = 1 + Math.floor(random() * 3); k < conditions; k++) {
        all.push({ path: pick(random, PATHS), values: Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomValue(random)) });
      }
      anyOf.push({ all });
    }
    rules.push({ id: `r${i}`, description: '', enabled: random() > 0.15, anyOf, windowMs: 60_000, tiers: [{ count: 1, severity: 'error' }] });
  }
  if (random() < 0.5) {
    const sources = random() < 0.3 ? ['*'] : rules.filter(() => random() < 0.5).map((r) => r.id);
    rules.push({ id: 'combined', description: '', enabled: true, anyOf: [], combines: sources.length ? sources : ['r0'], windowMs: 60_000, tiers: [{ count: 1, severity: 'error' }] });
  }
  return rules;
}

function randomEvent(random: () => number): Record<string, unknown> {
  const inner: Record<string, unknown> = {};
  for (const path of PATHS) {
    if (random() < 0.2) continue;
    const r = random();
    const value = r < 0.1 ? [pick(random, WORDS), pick(random, WORDS).toUpperCase()] : r < 0.15 ? 42 : r < 0.18 ? { nested: true } : r < 0.2 ? null : random() < 0.3 ? pick(random, WORDS).toUpperCase() : pick(random, WORDS);
    const [head, tail] = path.split('.');
    if (tail === undefined) inner[head] = value;
    else if (random() < 0.05) inner[head] = 'not an object';
    else inner[head] = { ...((inner[head] as object) ?? {}), [tail]: value };
  }
  return inner;
}

describe('rule matching', () => {
  test('the indexed matcher agrees with the plain semantics on 300 random catalogs × 300 random events', () => {
    const random = prng(6);
    let matches = 0;
    for (let c = 0; c < 300; c++) {
      const rules = randomRules(random);
      const readOnly = random() < 0.5 ? ['accessed'] : [];
      const compiled = new CompiledRules(rules, readOnly);
      for (let e = 0; e < 300; e++) {
        const inner = randomEvent(random);
        const expected = plainMatch(rules, readOnly, inner);
        if (expected) matches++;
        const got = compiled.match(inner);
        if (JSON.stringify(got) !== JSON.stringify(expected)) expect({ rules, readOnly, inner, got }).toEqual({ rules, readOnly, inner, got: expected });
      }
    }
    // The generator must exercise both outcomes, or the comparison proves little.
    expect(matches).toBeGreaterThan(5_000);
    expect(matches).toBeLessThan(80_000);
  });

  test('paths with many distinct values agree too: past its caps, the memo of decisions leaves events to the full match', () => {
    // Two paths of 300 distinct values each: a step holds at most 256 values, and the steps in all pass 4,096, so the
    // memo both declines values and starts over; every outcome must still be the plain one.
    const rules: RuleSpec[] = [
      { id: 'by-email', description: '', enabled: true, windowMs: 60_000, tiers: [{ count: 1, severity: 'error' }],
        anyOf: [{ all: [{ path: 'action', values: ['created'] }, { path: 'usr.email', values: ['u7@x', 'u2*'] }, { path: 'asset.name', values: ['n1*'] }] }] },
      { id: 'by-name', description: '', enabled: true, windowMs: 60_000, tiers: [{ count: 1, severity: 'error' }],
        anyOf: [{ all: [{ path: 'asset.name', values: ['n42', 'N299'] }] }] },
    ];
    const compiled = new CompiledRules(rules, ['accessed']);
    const random = prng(11);
    let matches = 0;
    for (let e = 0; e < 60_000; e++) {
      const inner = {
        action: pick(random, ['created', 'Created', 'accessed', 'deleted']),
        usr: { email: `u${Math.floor(random() * 300)}@x` },
        asset: { name: random() < 0.5 ? `n${Math.floor(random() * 300)}` : `N${Math.floor(random() * 300)}` },
      };
      const expected = plainMatch(rules, ['accessed'], inner);
      if (expected) matches++;
      const got = compiled.match(inner);
      if (JSON.stringify(got) !== JSON.stringify(expected)) expect({ inner, got }).toEqual({ inner, got: expected });
    }
    expect(matches).toBeGreaterThan(1_000);
  });

  test('long values are matched without being kept by the memo, with the same outcome', () => {
    const rules: RuleSpec[] = [{ id: 'long-name', description: '', enabled: true, windowMs: 60_000, tiers: [{ count: 1, severity: 'error' }],
      anyOf: [{ all: [{ path: 'action', values: ['modified'] }, { path: 'asset.name', values: ['prod-*'] }] }] }];
    const compiled = new CompiledRules(rules, []);
    for (const name of [`PROD-${'a'.repeat(300)}`, `dev-${'a'.repeat(300)}`, `prod-${'b'.repeat(255)}`, 'prod-x']) {
      const inner = { action: 'modified', asset: { name: name } };
      expect(compiled.match(inner)).toEqual(plainMatch(rules, [], inner));
      expect(compiled.match(inner)).toEqual(plainMatch(rules, [], inner));
    }
  });

  test('a caller may change the returned list: the next event with the same values gets the outcome unchanged', () => {
    const compiled = new CompiledRules(DEFAULT_RULES, ['accessed']);
    const inner = { action: 'created', asset: { type: 'api_key' } };
    const first = compiled.match(inner)!;
    const expected = [...first];
    first.push(999);
    expect(compiled.match({ action: 'created', asset: { type: 'api_key' } })).toEqual(expected);
  });

  test('the default catalog agrees with the plain semantics, including array values and read-only actions', () => {
    const compiled = new CompiledRules(DEFAULT_RULES, ['accessed', 'listed']);
    const events = [
      { action: 'modified', evt: { name: 'Access Management' }, asset: { type: 'role' } },
      { action: 'Modified', evt: { name: 'ACCESS MANAGEMENT' }, asset: { type: ['dashboard', 'role'] } },
      { action: 'accessed', evt: { name: 'Access Management' }, asset: { type: 'role' } },
      { action: 'deleted', asset: { type: 'archive' } },
      { action: 'created', asset: { type: 'api_key' } },
      { action: 'modified', asset: { type: 'identity_provider' } },
      { action: 'modified', asset: 'role' },
      {},
    ];
    for (const inner of events) expect(compiled.match(inner)).toEqual(plainMatch(DEFAULT_RULES, ['accessed', 'listed'], inner));
    expect(compiled.match(events[1])).toBeDefined();
  });
});
