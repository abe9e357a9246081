import { UNKNOWN_ACTOR, UNKNOWN_ACTOR_LABEL } from './actor';
import { formatDuration } from './duration';
import { showEvidence, type Evidence } from './evidence';
import { assetLines, behaviourPhrases, evidenceText, linksText, runbookText, sampleLines, type RuleRunbook } from './evidence-text';
import { plural, spanPhrase } from './grammar';
import { isoTime } from './iso-time';
import { auditTrailQueryLink, incidentLinks, type IncidentLink } from './links';
import type { IncidentState } from './state';
import type { ActorField, RuleSpec, Severity, Templates } from './types';

export interface IncidentSummary {
  orgId: string;
  actor: string;
  actorName?: string;
  severity: Severity;
  rules: string[];
  counts: Record<string, number>;
  events: number;
  firstSeen: string;
  lastSeen: string;
  dedupKey: string;
  title: string;
  body: string;
  link: string;
  late: boolean;
  /** What the burst's own events show (design.md "Evidence"). */
  evidence: Evidence;
  /** The actor's events, one Audit Trail query per rule crossed, user management, key pages. */
  links: IncidentLink[];
  /** The runbooks of the rules crossed that have one. */
  runbooks: RuleRunbook[];
}

export const TEMPLATE_PLACEHOLDERS = [
  'actor', 'actorName', 'actorLabel', 'org', 'severity', 'rules', 'counts', 'countLines', 'events',
  'firstSeen', 'lastSeen', 'duration', 'link', 'late', 'dedupKey',
  'changes', 'span', 'evidence', 'ips', 'userAgents', 'authMethods', 'actorTypes', 'assets', 'samples', 'links', 'runbook',
  'behaviour',
] as const;

export const DEFAULT_TEMPLATES: Templates = {
  // {{behaviour}} is empty unless catalog v3 saw something: "; first sensitive change from Romania (seen before: …)".
  title: '[{{severity}}] {{actorLabel}}: {{changes}} {{span}} ({{counts}}){{late}}{{behaviour}}',
  body: [
    'Actor: {{actorLabel}}',
    'Datadog org: {{org}}',
    'Severity: {{severity}} (thresholds crossed: {{rules}})',
    'Actions:',
    '{{countLines}}',
    'First seen: {{firstSeen}}',
    'Last seen: {{lastSeen}}',
    'Audit Trail: {{link}}',
    'Evidence:',
    '{{evidence}}',
    'Runbook:',
    '{{runbook}}',
    'Links:',
    '{{links}}',
  ].join('\n'),
};

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;
/** Anything between double braces, so `{{ actor.name }}` or `{{}}` is reported rather than left in a page as is. */
const ANY_PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/** Placeholders a template uses that are not known; empty when the template is valid. */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(TEMPLATE_PLACEHOLDERS);
  return [...template.matchAll(ANY_PLACEHOLDER)].map((m) => m[1].trim()).filter((name) => !known.has(name));
}

interface SplitTemplate {
  /** `[text, name, text, name, …, text]` */
  parts: string[];
  names: Set<string>;
}

/** Templates split once: a run can render thousands of summaries. */
const splitTemplates = new Map<string, SplitTemplate>();

function splitTemplate(template: string): SplitTemplate {
  let split = splitTemplates.get(template);
  if (split === undefined) {
    // Templates come from configuration, so there are few; the bound only guards against misuse.
    if (splitTemplates.size >= 64) splitTemplates.clear();
    const parts = template.split(PLACEHOLDER);
    split = { parts, names: new Set(parts.filter((_, i) => i % 2 === 1)) };
    splitTemplates.set(template, split);
  }
  return split;
}

export function renderTemplate(template: string, values: Record<string, string>): string {
  const { parts } = splitTemplate(template);
  let text = parts[0];
  for (let i = 1; i < parts.length; i += 2) text += (values[parts[i]] ?? '') + parts[i + 1];
  return text;
}

/** A Datadog Audit Trail query that shows this actor's events. */
export function actorQuery(actor: string): string {
  if (actor.startsWith('api_key:')) return `@metadata.api_key.id:${actor.slice('api_key:'.length)}`;
  if (actor.includes('@')) return `@usr.email:"${actor}"`;
  return `@usr.id:${actor}`;
}

export function auditTrailLink(appUrl: string, actor: string, fromMs: number, toMs: number): string {
  return auditTrailQueryLink(appUrl, actorQuery(actor), fromMs, toMs);
}

export interface SummaryContext {
  orgId: string;
  actor: string;
  actorName?: string;
  appUrl: string;
  templates: Templates;
  actorQuery?: string;
  /** The enabled catalog: the crossed rules' terms (links) and runbooks come from it. */
  rules?: RuleSpec[];
  actorFields?: ActorField[];
}

export function summarize(incident: IncidentState, context: SummaryContext): IncidentSummary {
  const { counts } = incident;
  const ruleOrder = Object.keys(counts);
  if (ruleOrder.length > 1) ruleOrder.sort((a, b) => counts[b] - counts[a] || a.localeCompare(b));
  let countsText = '';
  let countLines = '';
  for (let i = 0; i < ruleOrder.length; i++) {
    const rule = ruleOrder[i];
    countsText += `${i === 0 ? '' : ', '}${rule}=${counts[rule]}`;
    countLines += `${i === 0 ? '' : '\n'}  ${rule}: ${counts[rule]}`;
  }
  const actorQueryText = context.actorQuery ?? actorQuery(context.actor);
  const toMs = incident.lastSeen + 1000;
  const catalog = context.rules ?? [];
  const crossed: RuleSpec[] = [];
  for (const id of incident.rules) {
    const rule = catalog.find((candidate) => candidate.id === id);
    if (rule !== undefined) crossed.push(rule);
  }
  const links = incidentLinks({
    appUrl: context.appUrl, actor: context.actor, actorQuery: actorQueryText, fromMs: incident.firstSeen, toMs, crossed, catalog,
    actorFields: context.actorFields ?? [],
  });
  // The first link is the actor's events over the incident: auditTrailQueryLink(appUrl, actorQueryText, firstSeen, toMs).
  const link = links[0].href;
  const runbooks: RuleRunbook[] = crossed.filter((rule) => rule.runbook).map((rule) => ({ rule: rule.id, ...rule.runbook }));
  const evidence = showEvidence(incident.evidence);
  const firstSeen = isoTime(incident.firstSeen);
  const lastSeen = isoTime(incident.lastSeen);
  const actorLabel = context.actor === UNKNOWN_ACTOR
    ? UNKNOWN_ACTOR_LABEL
    : context.actorName && context.actorName.toLowerCase() !== context.actor
      ? `${context.actor} (${context.actorName})`
      : context.actor;
  const values: Record<string, string> = {
    actor: context.actor,
    actorName: context.actorName ?? '',
    actorLabel,
    org: context.orgId,
    severity: incident.severity,
    rules: incident.rules.join(', '),
    counts: countsText,
    countLines,
    events: String(incident.events),
    firstSeen,
    lastSeen,
    duration: formatDuration(incident.lastSeen - incident.firstSeen),
    link,
    late: incident.late ? ' [late: found while catching up]' : '',
    dedupKey: incident.dedupKey,
    changes: plural(incident.events, 'sensitive Datadog change'),
    span: spanPhrase(incident.firstSeen, incident.lastSeen),
    ips: evidence.ips.join(', '),
    userAgents: evidence.userAgents.join(', '),
    authMethods: evidence.authMethods.join(', '),
    actorTypes: evidence.actorTypes.join(', '),
    behaviour: behaviourPhrases(evidence).map((phrase) => `; ${phrase}`).join(''),
  };
  // The longer texts only when a template shows them (a run may summarize thousands of incidents).
  const titleNames = splitTemplate(context.templates.title).names;
  const bodyNames = splitTemplate(context.templates.body).names;
  const used = (name: string) => titleNames.has(name) || bodyNames.has(name);
  if (used('evidence')) values.evidence = evidenceText(evidence);
  if (used('assets')) values.assets = assetLines(evidence).join('\n');
  if (used('samples')) values.samples = sampleLines(evidence).join('\n');
  if (used('links')) values.links = linksText(links);
  if (used('runbook')) values.runbook = runbookText(runbooks);
  const title = renderTemplate(context.templates.title, values).slice(0, 1024);
  const body = renderTemplate(context.templates.body, values);
  // One literal, actorName between actor and severity, left undefined (so JSON leaves it out) when there is none: a
  // conditional spread there made building the summary cost about 1.3 µs more (measured).
  return {
    orgId: context.orgId, actor: context.actor, actorName: context.actorName || undefined, severity: incident.severity, rules: [...incident.rules],
    counts: { ...counts }, events: incident.events, firstSeen, lastSeen, dedupKey: incident.dedupKey, title, body, link,
    late: incident.late, evidence, links, runbooks,
  };
}
