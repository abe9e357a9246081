import { formatDuration } from './duration';
import type { Evidence, EvidenceAsset, EvidenceSample } from './evidence';
import type { NewValueEvidence, TravelEvidence } from './methods/method';
import { COUNTRY_FIELD } from './methods/person';
import type { IncidentLink } from './links';
import type { Runbook } from './types';

function listOrNone(values: string[]): string {
  return values.length ? values.join(', ') : 'none recorded';
}

/** A printable ASCII character other than the space: never one that `trim` removes. */
function isPrintableAscii(code: number): boolean {
  return code > 0x20 && code < 0x7f;
}

function assetText(asset: EvidenceAsset): string {
  const label = asset.name !== undefined ? `"${asset.name}"${asset.id !== undefined ? ` (${asset.id})` : ''}` : asset.id ?? '';
  let text = `${asset.type} ${label}`;
  // trim() flattens and copies the text, and has nothing to do unless the type starts, or the label ends, with something
  // other than printable ASCII (a label with a name ends with its quote or parenthesis).
  const typeStartsPrintable = typeof asset.type === 'string' && isPrintableAscii(asset.type.charCodeAt(0));
  const labelEndsPrintable = asset.name !== undefined || (typeof asset.id === 'string' && isPrintableAscii(asset.id.charCodeAt(asset.id.length - 1)));
  if (!typeStartsPrintable || !labelEndsPrintable) text = text.trim();
  return asset.count > 1 ? `${text} ×${asset.count}` : text;
}

/** Assets named per rule in text (the evidence itself keeps up to EVIDENCE_LIMITS.assetsPerRule). */
const ASSETS_IN_TEXT = 5;

function assetLine(indent: string, rule: string, assets: EvidenceAsset[]): string {
  const shown = Math.min(assets.length, ASSETS_IN_TEXT);
  let line = `${indent}${rule}: `;
  for (let i = 0; i < shown; i++) line += i === 0 ? assetText(assets[i]) : `, ${assetText(assets[i])}`;
  const more = assets.length - ASSETS_IN_TEXT;
  return more > 0 ? `${line} and ${more} more` : line;
}

/** Per rule, the assets its events touched: `role_grant: role "Billing Admins" (r-1) ×4, … and 3 more`. */
export function assetLines(evidence: Evidence, indent = '  '): string[] {
  return Object.keys(evidence.assets).map((rule) => assetLine(indent, rule, evidence.assets[rule]));
}

function sampleLine(indent: string, sample: EvidenceSample): string {
  return `${indent}${sample.timestamp} ${sample.rule}: ${sample.message || '(no message)'} [${sample.id}]`;
}

export function sampleLines(evidence: Evidence, indent = '  '): string[] {
  return evidence.samples.map((sample) => sampleLine(indent, sample));
}

let regionNames: { of(code: string): string | undefined } | undefined | null;

/** `RO` → `Romania` (English, from the runtime's ICU data); the code itself when the runtime has no names. */
export function countryName(code: string): string {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
    } catch {
      regionNames = null;
    }
  }
  try {
    return regionNames?.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** `15342` → `15,300` (three significant digits, as a person says a long distance); short distances as they are. */
function roundKm(km: number): string {
  const rounded = km >= 1000 ? Number(km.toPrecision(3)) : Math.round(km);
  return rounded.toLocaleString('en-US');
}

/** `first sensitive change from Romania (seen before: United States)`; other fields name the field and value. */
export function newValuePhrase(seen: NewValueEvidence): string {
  const country = seen.field === COUNTRY_FIELD;
  const name = (value: string) => (country ? countryName(value) : value);
  const before = seen.seenBefore.length ? seen.seenBefore.map(name).join(', ') : 'nothing yet';
  return country
    ? `first sensitive change from ${name(seen.value)} (seen before: ${before})`
    : `first sensitive change with ${seen.field} ${seen.value} (seen before: ${before})`;
}

/** `New York → Singapore, 15,300 km in 40 min` (cities when geoip names them, else countries). */
export function travelPhrase(travel: TravelEvidence): string {
  const place = (end: TravelEvidence['from']) => end.city ?? countryName(end.country);
  const ms = Date.parse(travel.to.timestamp) - Date.parse(travel.from.timestamp);
  const took = ms < 3_600_000 ? `${Math.max(0, Math.round(ms / 60_000))} min` : formatDuration(ms);
  return `${place(travel.from)} → ${place(travel.to)}, ${roundKm(travel.km)} km in ${took}`;
}

/** What catalog v3 saw, in words; empty for incidents of events without geoip. */
export function behaviourPhrases(evidence: Evidence): string[] {
  return [...(evidence.newValues ?? []).map(newValuePhrase), ...(evidence.travel ? [`impossible travel: ${travelPhrase(evidence.travel)}`] : [])];
}

/** Catalog v3's evidence as lines (countries, new values, travel); none when there is nothing to say. */
export function behaviourLines(evidence: Evidence, indent = '  '): string[] {
  const lines: string[] = [];
  if (evidence.countries?.length) lines.push(`${indent}Countries: ${evidence.countries.map((code) => `${countryName(code)} (${code})`).join(', ')}`);
  for (const seen of evidence.newValues ?? []) lines.push(`${indent}New: ${newValuePhrase(seen)}`);
  if (evidence.travel) lines.push(`${indent}Impossible travel: ${travelPhrase(evidence.travel)} (${evidence.travel.kmh.toLocaleString('en-US')} km/h)`);
  return lines;
}

/** The evidence as lines of a page body (built as one string: a run may write thousands). */
export function evidenceText(evidence: Evidence): string {
  let text = `  Source IPs: ${listOrNone(evidence.ips)}\n  User agents: ${listOrNone(evidence.userAgents)}`
    + `\n  Auth methods: ${listOrNone(evidence.authMethods)}\n  Actor types: ${listOrNone(evidence.actorTypes)}`;
  for (const line of behaviourLines(evidence)) text += `\n${line}`;
  const rules = Object.keys(evidence.assets);
  if (rules.length) {
    text += '\n  Assets:';
    for (const rule of rules) text += `\n${assetLine('    ', rule, evidence.assets[rule])}`;
  }
  if (evidence.samples.length) {
    text += '\n  Samples (earliest first):';
    for (const sample of evidence.samples) text += `\n${sampleLine('    ', sample)}`;
  }
  return text;
}

export interface RuleRunbook extends Runbook {
  rule: string;
}

export function runbookText(runbooks: RuleRunbook[]): string {
  if (runbooks.length === 0) return '  No runbook for the rules crossed.';
  let lines = '';
  for (let i = 0; i < runbooks.length; i++) {
    const { rule, text, url } = runbooks[i];
    lines += `${i === 0 ? '' : '\n'}  ${rule}: ${text && url ? `${text} ${url}` : text || url || ''}`;
  }
  return lines;
}

export function linksText(links: IncidentLink[]): string {
  let lines = '';
  for (let i = 0; i < links.length; i++) lines += `${i === 0 ? '' : '\n'}  ${links[i].text}: ${links[i].href}`;
  return lines;
}
