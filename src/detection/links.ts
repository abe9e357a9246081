import { UNKNOWN_ACTOR } from './actor';
import { auditQueryFor } from './query';
import type { ActorField, RuleSpec } from './types';

/** A link for the on-call, as PagerDuty shows links: where it goes and what it is. */
export interface IncidentLink {
  href: string;
  text: string;
}

export function auditTrailQueryLink(appUrl: string, query: string, fromMs: number, toMs: number): string {
  return `${appUrl.replace(/\/+$/, '')}/audit-trail?query=${encodeURIComponent(query)}&from_ts=${fromMs}&to_ts=${toMs}&live=false`;
}

export interface LinkContext {
  appUrl: string;
  actor: string;
  /** The Audit Trail query for the actor's events (`ActorResolver.queryFor`). */
  actorQuery: string;
  fromMs: number;
  toMs: number;
  /** The rules the actor crossed, in the incident's order. */
  crossed: RuleSpec[];
  /** The whole enabled catalog, to expand a combined rule into the terms of the rules it combines. */
  catalog: RuleSpec[];
  actorFields: ActorField[];
}

/** The kind of the actor field that named `actor` (by its prefix); `email` for an id with an @ and no prefix. */
export function actorKindOf(actor: string, fields: ActorField[]): ActorField['kind'] | undefined {
  if (actor === UNKNOWN_ACTOR) return undefined;
  const prefixed = fields.filter((field) => field.prefix !== '' && actor.startsWith(field.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  if (prefixed) return prefixed.kind;
  return actor.includes('@') ? 'email' : 'id';
}

/** What the links need of one rule of one catalog: the same for every incident, so worked out once (see `ruleFacts`). */
interface RuleLinkFacts {
  terms: string;
  touchesApiKeys: boolean;
  touchesApplicationKeys: boolean;
}

/**
 * Per catalog (the detector's enabled rules, one array for its life), per rule: a run may summarize thousands of
 * incidents, and building each crossed rule's query again for each was most of a summary's cost.
 */
const linkFactsByCatalog = new WeakMap<RuleSpec[], WeakMap<RuleSpec, RuleLinkFacts>>();

function ruleFacts(rule: RuleSpec, catalog: RuleSpec[]): RuleLinkFacts {
  let byRule = linkFactsByCatalog.get(catalog);
  if (byRule === undefined) linkFactsByCatalog.set(catalog, (byRule = new WeakMap()));
  let facts = byRule.get(rule);
  if (facts === undefined) {
    // A combined rule's terms and asset types are those of the rules it combines.
    const base = rule.combines
      ? catalog.filter((candidate) => !candidate.combines && (rule.combines!.includes('*') || rule.combines!.includes(candidate.id)))
      : [rule];
    facts = {
      terms: auditQueryFor(base, [], ''),
      touchesApiKeys: touchesAssetType(base, 'api_key'),
      touchesApplicationKeys: touchesAssetType(base, 'application_key'),
    };
    byRule.set(rule, facts);
  }
  return facts;
}

function touchesAssetType(rules: RuleSpec[], type: string): boolean {
  return rules.some((r) => r.anyOf.some((clause) => clause.all.some((c) => c.path === 'asset.type' && c.values.some((v) => v.toLowerCase() === type))));
}

/**
 * Where the on-call goes next: the actor's events, one Audit Trail query per rule crossed (actor and the rule's terms),
 * the actor in Datadog's user management (users and service accounts), and the API or application keys page when a
 * rule crossed is about keys or the actor is a key.
 */
export function incidentLinks(context: LinkContext): IncidentLink[] {
  const { appUrl, actor, actorQuery, fromMs, toMs, crossed, catalog } = context;
  const app = appUrl.replace(/\/+$/, '');
  const links: IncidentLink[] = [{ href: auditTrailQueryLink(app, actorQuery, fromMs, toMs), text: `Audit Trail: every event by ${actor}` }];
  for (const rule of crossed) {
    const terms = ruleFacts(rule, catalog).terms;
    const query = terms === '*' ? actorQuery : `${actorQuery} ${terms}`;
    links.push({ href: auditTrailQueryLink(app, query, fromMs, toMs), text: `Audit Trail: ${rule.id} by ${actor}` });
  }
  const kind = actorKindOf(actor, context.actorFields);
  const bare = kind === undefined ? '' : actor.slice(context.actorFields.find((f) => f.kind === kind && f.prefix !== '' && actor.startsWith(f.prefix))?.prefix.length ?? 0);
  if (kind === 'email' || kind === 'id') {
    links.push({ href: `${app}/organization-settings/users?filter=${encodeURIComponent(bare)}`, text: `Datadog user management: ${bare}` });
  } else if (kind === 'service_account') {
    links.push({ href: `${app}/organization-settings/service-accounts?filter=${encodeURIComponent(bare)}`, text: `Datadog service accounts: ${bare}` });
  }
  if (kind === 'api_key' || crossed.some((rule) => ruleFacts(rule, catalog).touchesApiKeys)) {
    links.push({ href: `${app}/organization-settings/api-keys`, text: 'Datadog API keys (revoke the keys involved)' });
  }
  if (crossed.some((rule) => ruleFacts(rule, catalog).touchesApplicationKeys)) {
    links.push({ href: `${app}/organization-settings/application-keys`, text: 'Datadog application keys (revoke the keys involved)' });
  }
  return links;
}
