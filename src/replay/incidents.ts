import { assetLines } from '../detection/evidence-text';
import { isoSpan, plural } from '../detection/grammar';
import type { SuppressedBurst } from '../detection/scan';
import type { IncidentSummary } from '../detection/summary';

/** An incident as the dry run and the backtest print it: as PagerDuty would hold it once every run is done. */
export type IncidentOutput = Pick<IncidentSummary, 'actor' | 'severity' | 'rules' | 'counts' | 'firstSeen' | 'lastSeen' | 'dedupKey' | 'title' | 'evidence'>;

/** An incident at the end of a replay: as printed, and whether it was late or resolved by then. */
export interface ReplayIncident extends IncidentOutput {
  late: boolean;
  resolved: boolean;
}

/** Incidents in the order they began, in the printed shape. */
export function toIncidentOutput(incidents: ReplayIncident[]): IncidentOutput[] {
  return [...incidents]
    .sort((a, b) => a.firstSeen.localeCompare(b.firstSeen) || a.actor.localeCompare(b.actor))
    .map(({ actor, severity, rules, counts, firstSeen, lastSeen, dedupKey, title, evidence }) => ({ actor, severity, rules, counts, firstSeen, lastSeen, dedupKey, title, evidence }));
}

export function formatIncidents(incidents: IncidentOutput[], suppressed: SuppressedBurst[]): string[] {
  const lines: string[] = [];
  if (incidents.length === 0) lines.push('Quiet: nothing would have been paged.');
  for (const incident of incidents) {
    lines.push(`PAGE ${incident.severity.toUpperCase()} ${incident.actor}  ${isoSpan(incident.firstSeen, incident.lastSeen)}`);
    lines.push(`     ${Object.entries(incident.counts).map(([rule, count]) => `${rule}=${count}`).join(', ')}  (crossed: ${incident.rules.join(', ')})`);
    lines.push(`     ${incident.title}`);
    const { evidence } = incident;
    if (evidence.ips.length) lines.push(`     from ${evidence.ips.join(', ')}${evidence.userAgents.length ? ` with ${evidence.userAgents.join(', ')}` : ''}`);
    lines.push(...assetLines(evidence, '     '));
  }
  for (const s of suppressed) lines.push(`SUPPRESSED ${s.actor} (${s.severity}, ${plural(s.events, 'event')}, ${isoSpan(s.firstSeen, s.lastSeen)}): ${s.reason}`);
  return lines;
}
