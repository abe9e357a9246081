import type { Evidence, EvidenceAsset } from './evidence';
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

/** The evidence as lines of a page body. */
export function evidenceText(evidence: Evidence): string {
  const lines = [
    `  Source IPs: ${listOrNone(evidence.ips)}`,
    `  User agents: ${listOrNone(evidence.userAgents)}`,
    `  Auth methods: ${listOrNone(evidence.authMethods)}`,
    `  Actor types: ${listOrNone(evidence.actorTypes)}`,
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
