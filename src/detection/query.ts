import { isDerivedRule } from './methods/derived';
import { COUNTRY_FIELD, LEARNING_ACTIONS } from './methods/person';
import type { MatchClause, MatchCondition, RuleSpec } from './types';

/**
 * Datadog's search syntax, as its docs state it (https://docs.datadoghq.com/logs/explorer/search_syntax/, which Audit
 * Trail shares): attribute search is case-sensitive, and the characters `- ! && || > >= < <= ( ) { } [ ] " * ? : \ #`
 * and spaces must be escaped with `\` or the value double-quoted; `*` is a wildcard only outside quotes. A `-` is
 * read as negation only where a term starts (`service:web-app` is an everyday query), so only a leading one is escaped.
 */
const SPECIAL = /[!&|><(){}[\]"*?:\\#\s]|^-/;
const SPECIAL_BUT_WILDCARD = /[!&|><(){}[\]"?:\\#\s]|^-/g;

/** A value as Datadog search syntax reads it literally: bare when safe, double-quoted otherwise, `*` kept a wildcard. */
export function quoteQueryValue(value: string): string {
  if (value.includes('*')) return value.replace(SPECIAL_BUT_WILDCARD, (ch) => `\\${ch}`);
  return SPECIAL.test(value) || value === '' ? `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : value;
}

/**
 * The case Datadog stores these attributes in (the design's "Datadog facts", the Audit Trail events reference and the
 * recorded events): `action` and `asset.type` lower case (`modified`, `api_key`), `evt.name` title case ("Access
 * Management"), `evt.actor.type` and `http.method` upper case (`USER`, `GET`).
 */
const STORED_CASE: Record<string, (value: string) => string> = {
  action: (value) => value.toLowerCase(),
  'asset.type': (value) => value.toLowerCase(),
  'evt.name': (value) => value.toLowerCase().replace(/(^|\s)(\S)/g, (_, space: string, first: string) => space + first.toUpperCase()),
  'evt.actor.type': (value) => value.toUpperCase(),
  'http.method': (value) => value.toUpperCase(),
};

/**
 * The spellings to search for one condition: the stored case first, then the value as written when it differs (for
 * the odd value stored otherwise, such as the recorded actor type "Other"). Undefined when the stored case of the field
 * is unknown: Datadog would miss other spellings the local, case-insensitive match accepts, so the server-side query
 * must not narrow on it.
 */
function serverSpellings(condition: MatchCondition): string[] | undefined {
  const storedCase = STORED_CASE[condition.path];
  if (!storedCase) return undefined;
  return [...new Set(condition.values.flatMap((value) => [storedCase(value), value]))];
}

function termFor(path: string, values: string[]): string {
  const quoted = values.map(quoteQueryValue);
  return quoted.length === 1 ? `@${path}:${quoted[0]}` : `@${path}:(${quoted.join(' OR ')})`;
}

/** One clause as a query; '*' when no condition can narrow server-side. */
function clauseQuery(clause: MatchClause): string {
  const terms = clause.all.flatMap((condition) => {
    const values = serverSpellings(condition);
    return values ? [termFor(condition.path, values)] : [];
  });
  if (terms.length === 0) return '*';
  return terms.length === 1 ? terms[0] : `(${terms.join(' AND ')})`;
}

/**
 * The Datadog search query that narrows the audit trail to events some enabled rule could match, so Datadog
 * filters server-side; the core classifies again locally, case-insensitively. `extra` (the user's own filter) is ANDed.
 */
export function auditQueryFor(rules: RuleSpec[], readOnlyActions: string[], extra: string): string {
  const clauses = rules.filter((rule) => rule.enabled && !rule.combines && !isDerivedRule(rule)).flatMap((rule) => rule.anyOf).map(clauseQuery);
  const distinct = [...new Set(clauses)];
  let query = distinct.length === 0 || distinct.includes('*') ? '*' : distinct.join(' OR ');
  if (distinct.length > 1 && query !== '*') query = `(${query})`;
  const parts = [query];
  if (readOnlyActions.length) parts.push(`-${termFor('action', serverSpellings({ path: 'action', values: readOnlyActions })!)}`);
  // Catalog v3: the learning set (a person's events with a learned field, such as the geoip country, and an action of
  // login, created, modified or deleted) teaches the baselines, so the scan reads it too.
  const learning = learningSetQuery(rules);
  if (learning === undefined) {
    if (extra.trim()) parts.push(`(${extra.trim()})`);
    return parts.filter((part) => part !== '*').join(' ') || '*';
  }
  let sensitive = parts.filter((part) => part !== '*').join(' ') || '*';
  if (sensitive !== '*') sensitive = `(${sensitive}) OR ${learning}`;
  if (extra.trim()) return sensitive === '*' ? `(${extra.trim()})` : `(${sensitive}) (${extra.trim()})`;
  return sensitive;
}

/** The fields learned by the enabled new-value and impossible-travel rules (impossible travel learns the country). */
export function learnedFields(rules: RuleSpec[]): string[] {
  const fields = new Set<string>();
  for (const rule of rules) {
    if (!rule.enabled || rule.method === undefined) continue;
    if (rule.method.kind === 'new_value') fields.add(rule.method.field);
    if (rule.method.kind === 'impossible_travel') fields.add(COUNTRY_FIELD);
  }
  return [...fields];
}

/** `(@action:(login OR created OR modified OR deleted) @<field>:*)`, or undefined when no rule learns. */
export function learningSetQuery(rules: RuleSpec[]): string | undefined {
  const fields = learnedFields(rules);
  if (fields.length === 0) return undefined;
  const present = fields.map((field) => `@${field}:*`);
  return `(${termFor('action', [...LEARNING_ACTIONS])} ${present.length === 1 ? present[0] : `(${present.join(' OR ')})`})`;
}
