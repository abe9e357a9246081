import { UNKNOWN_ACTOR } from './actor';
import { auditQueryFor } from './query';
import type { ActorField, RuleSpec } from './types';

/** A link for the on-call, as PagerDuty shows links: where it goes and what it is. */
export interface IncidentLink {
  href: string;
  text: string;
}

export function auditTrailQueryLink(appUrl: string, query: string, fromMs: number, toMs: number): string {
  return encodedQueryLink(withoutTrailingSlashes(appUrl), encodeURIComponent(query), fromMs, toMs);
}

function encodedQueryLink(app: string, encodedQuery: string, fromMs: number, toMs: number): string {
  return `${app}/audit-trail?query=${encodedQuery}&from_ts=${fromMs}&to_ts=${toMs}&live=false`;
}

/** `appUrl.replace(/\/+$/, '')` without a regex: called for every link of every summary. */
function withoutTrailingSlashes(appUrl: string): string {
  let end = appUrl.length;
  while (end > 0 && appUrl.charCodeAt(end - 1) === 0x2f) end--;
  return end === appUrl.length ? appUrl : appUrl.slice(0, end);
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
  let longest: ActorField | undefined;
  for (const field of fields) {
    if (field.prefix !== '' && actor.startsWith(field.prefix) && (longest === undefined || field.prefix.length > longest.prefix.length)) longest = field;
  }
  if (longest) return longest.kind;
  return actor.includes('@') ? 'email' : 'id';
}

/** What the links need of one rule of one catalog: the same for every incident, so worked out once (see `ruleFacts`). */
interface RuleLinkFacts {
  /** What the rule's query link adds to the encoded actor query: ` <terms>` encoded, empty when the terms are `*`. */
  encodedTermsSuffix: string;
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
    const terms = auditQueryFor(base, [], '');
    facts = {
      // encodeURIComponent works code point by code point, and the space keeps the two parts' surrogates apart, so
      // encoding the actor query and this suffix apart gives the encoding of `${actorQuery} ${terms}`.
      encodedTermsSuffix: terms === '*' ? '' : encodeURIComponent(` ${terms}`),
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
  const app = withoutTrailingSlashes(appUrl);
  const encodedActorQuery = encodeURIComponent(actorQuery);
  const links: IncidentLink[] = [{ href: encodedQueryLink(app, encodedActorQuery, fromMs, toMs), text: `Audit Trail: every event by ${actor}` }];
  let touchesApiKeys = false;
  let touchesApplicationKeys = false;
  for (const rule of crossed) {
    const facts = ruleFacts(rule, catalog);
    links.push({ href: encodedQueryLink(app, encodedActorQuery + facts.encodedTermsSuffix, fromMs, toMs), text: `Audit Trail: ${rule.id} by ${actor}` });
    touchesApiKeys ||= facts.touchesApiKeys;
    touchesApplicationKeys ||= facts.touchesApplicationKeys;
  }
  const kind = actorKindOf(actor, context.actorFields);
  const bare = kind === undefined ? '' : actor.slice(context.actorFields.find((f) => f.kind === kind && f.prefix !== '' && actor.startsWith(f.prefix))?.prefix.length ?? 0);
  if (kind === 'email' || kind === 'id') {
    links.push({ href: `${app}/organization-settings/users?filter=${encodeURIComponent(bare)}`, text: `Datadog user management: ${bare}` });
  } else if (kind === 'service_account') {
    links.push({ href: `${app}/organization-settings/service-accounts?filter=${encodeURIComponent(bare)}`, text: `Datadog service accounts: ${bare}` });
  }
  if (kind === 'api_key' || touchesApiKeys) {
    links.push({ href: `${app}/organization-settings/api-keys`, text: 'Datadog API keys (revoke the keys involved)' });
  }
  if (touchesApplicationKeys) {
    links.push({ href: `${app}/organization-settings/application-keys`, text: 'Datadog application keys (revoke the keys involved)' });
  }
  return links;
}
