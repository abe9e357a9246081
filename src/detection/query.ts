import type { MatchClause, RuleSpec } from './types';

/** A value as Datadog search syntax needs it: bare when safe, else double-quoted with escapes. */
export function quoteQueryValue(value: string): string {
  return /^[A-Za-z0-9_.*@:-]+$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function clauseQuery(clause: MatchClause): string {
  const terms = clause.all.map((condition) => {
    const values = condition.values.map(quoteQueryValue);
    return values.length === 1 ? `@${condition.path}:${values[0]}` : `@${condition.path}:(${values.join(' OR ')})`;
  });
  return terms.length === 1 ? terms[0] : `(${terms.join(' AND ')})`;
}

/**
 * The Datadog search query that narrows the audit trail to events some enabled rule could match, so Datadog
 * filters server-side; the core classifies again locally. `extra` (the user's own filter) is ANDed.
 */
export function auditQueryFor(rules: RuleSpec[], readOnlyActions: string[], extra: string): string {
  const clauses = rules.filter((rule) => rule.enabled && !rule.combines).flatMap((rule) => rule.anyOf);
  let query = clauses.some((clause) => clause.all.length === 0) || clauses.length === 0 ? '*' : clauses.map(clauseQuery).join(' OR ');
  if (clauses.length > 1 && query !== '*') query = `(${query})`;
  const parts = [query];
  if (readOnlyActions.length) parts.push(`-@action:(${readOnlyActions.map(quoteQueryValue).join(' OR ')})`);
  if (extra.trim()) parts.push(`(${extra.trim()})`);
  return parts.filter((part) => part !== '*').join(' ') || '*';
}
