import { auditQueryFor, quoteQueryValue } from '../../src/detection/query';
import { matches, parseQuery, unescapedTerms } from '../../sim/datadog-query';
import type { RuleSpec } from '../../src/detection/types';
import { argsFrom } from '../support/settings';

/** The server-side query: values in the case Datadog stores them, special characters escaped (search syntax docs). */

const rule = (all: Record<string, string[]>): RuleSpec => ({
  id: 'r', description: '', enabled: true, windowMs: 600_000, tiers: [{ count: 1, severity: 'info' }],
  anyOf: [{ all: Object.entries(all).map(([path, values]) => ({ path, values })) }],
});

test.each([
  ['role', 'role'],
  ['api_key', 'api_key'],
  ['Access Management', '"Access Management"'],
  ['ns:prod', '"ns:prod"'],
  ['say "hi"', '"say \\"hi\\""'],
  ['back\\slash', '"back\\\\slash"'],
  ['-leading', '"-leading"'],
  ['web-app', 'web-app'],
  ['*@ci.example.com', '*@ci.example.com'],
  ['team:sec *', 'team\\:sec\\ *'],
  ['a(b)*#', 'a\\(b\\)*\\#'],
])('%s → %s', (value, expected) => {
  expect(quoteQueryValue(value)).toBe(expected);
});

test('every quoted or escaped value reads back literally in the strict search, wildcards kept', () => {
  for (const value of ['Access Management', 'ns:prod (x) #1', 'say "hi"', 'a\\b', '-x', 'a&&b||c', '{x}[y]!<z>']) {
    const node = parseQuery(`@f:${quoteQueryValue(value)}`);
    expect(unescapedTerms(node)).toEqual([]);
    expect(matches(node, { attributes: { f: value } })).toBe(true);
    expect(matches(node, { attributes: { f: `${value}x` } })).toBe(false);
  }
  const wild = parseQuery(`@f:${quoteQueryValue('team:sec*')}`);
  expect(matches(wild, { attributes: { f: 'team:security' } })).toBe(true);
});

test('known-case fields are sent in the stored case, and as written when that differs', () => {
  expect(auditQueryFor([rule({ action: ['Created'], 'asset.type': ['API_Key'] })], [], '')).toBe('(@action:(created OR Created) AND @asset.type:(api_key OR API_Key))');
  expect(auditQueryFor([rule({ 'evt.name': ['access management'] })], [], '')).toBe('@evt.name:("Access Management" OR "access management")');
  expect(auditQueryFor([rule({ 'evt.actor.type': ['support_user'], action: ['deleted'] })], [], '')).toBe('(@evt.actor.type:(SUPPORT_USER OR support_user) AND @action:deleted)');
  expect(auditQueryFor([rule({ action: ['created'] })], ['Accessed'], '')).toBe('@action:created -@action:(accessed OR Accessed)');
});

test('fields whose stored case is unknown do not narrow the server-side query (the core still matches them)', () => {
  expect(auditQueryFor([rule({ 'asset.type': ['role'], 'asset.name': ['Datadog Admin Role'] })], [], '')).toBe('@asset.type:role');
  expect(auditQueryFor([rule({ 'usr.email': ['*@ci.example.com'] })], ['accessed'], '')).toBe('-@action:accessed');
});

test('the default catalog needs no rewriting: it is written as Datadog stores it', () => {
  const args = argsFrom('');
  const query = auditQueryFor(args.detection.rules, args.detection.readOnlyActions, '');
  expect(query).not.toMatch(/ OR [A-Z][a-z]+\)/);
  expect(query).toContain('@evt.name:"Access Management"');
  expect(unescapedTerms(parseQuery(query))).toEqual([]);
});
