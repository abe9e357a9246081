import { formatDuration } from './duration';
import type { Evidence, EvidenceAsset } from './evidence';
import type { NewValueEvidence, TravelEvidence } from './methods/method';
import { COUNTRY_FIELD } from './methods/person';
import type { IncidentLink } from './links';
import type { Runbook } from './types';

function listOrNone(values: string[]): string {
  return values.length ? values.join(', ') : 'none recorded';
}

function assetText(asset: EvidenceAsset): string {
  const label = asset.name !== undefined ? `"${asset.name}"${asset.id !== undefined ? ` (${asset.id})` : ''}` : asset.id ?? '';
  return `${asset.type} ${label}`.trim() + (asset.count > 1 ? ` ×${asset.count}` : '');
}

/** Assets named per rule in text (the evidence itself keeps up to EVIDENCE_LIMITS.assetsPerRule). */
const ASSETS_IN_TEXT = 5;

/** Per rule, the assets its events touched: `role_grant: role "Billing Admins" (r-1) ×4, … and 3 more`. */
export function assetLines(evidence: Evidence, indent = '  '): string[] {
  return Object.entries(evidence.assets).map(([rule, assets]) => {
    const more = assets.length - ASSETS_IN_TEXT;
    return `${indent}${rule}: ${assets.slice(0, ASSETS_IN_TEXT).map(assetText).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  });
}

export function sampleLines(evidence: Evidence, indent = '  '): string[] {
  return evidence.samples.map((sample) => `${indent}${sample.timestamp} ${sample.rule}: ${sample.message || '(no message)'} [${sample.id}]`);
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

/** The evidence as lines of a page body. */
export function evidenceText(evidence: Evidence): string {
  const lines = [
    `  Source IPs: ${listOrNone(evidence.ips)}`,
    `  User agents: ${listOrNone(evidence.userAgents)}`,
    `  Auth methods: ${listOrNone(evidence.authMethods)}`,
    `  Actor types: ${listOrNone(evidence.actorTypes)}`,
    ...behaviourLines(evidence),
  ];
  const assets = assetLines(evidence, '    ');
  if (assets.length) lines.push('  Assets:', ...assets);
  const samples = sampleLines(evidence, '    ');
  if (samples.length) lines.push('  Samples (earliest first):', ...samples);
  return lines.join('\n');
}

export interface RuleRunbook extends Runbook {
  rule: string;
}

export function runbookText(runbooks: RuleRunbook[]): string {
  if (runbooks.length === 0) return '  No runbook for the rules crossed.';
  return runbooks.map(({ rule, text, url }) => `  ${rule}: ${[text, url].filter(Boolean).join(' ')}`).join('\n');
}

export function linksText(links: IncidentLink[]): string {
  return links.map((link) => `  ${link.text}: ${link.href}`).join('\n');
}
