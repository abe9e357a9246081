import { Context } from '@temporalio/activity';
import type { IncidentOutcome } from './pagerduty/outcome';
import type { ScanOutput } from './scan-audit-events';

/**
 * audit-spike's own counters, through the SDK's metric meter, so they leave through the same exporter as the SDK's
 * (Prometheus: `temporal_audit_spike_*`), tagged with the org. Counted once per successful activity, never on retries.
 */
export function recordScan(orgId: string, output: Pick<ScanOutput, 'counters' | 'pages' | 'actions' | 'suppressed'>): void {
  const meter = Context.current().metricMeter;
  const tags = { org: orgId };
  meter.createCounter('audit_spike_events_read', 'events', 'Audit events read from Datadog').add(output.counters.read, tags);
  meter.createCounter('audit_spike_events_skipped', 'events', 'Malformed audit events skipped').add(output.counters.skipped, tags);
  meter.createCounter('audit_spike_datadog_pages', 'pages', 'Datadog audit event pages read').add(output.pages, tags);
  meter.createCounter('audit_spike_bursts', 'bursts', 'New bursts detected (incidents to open)').add(output.actions.filter((a) => a.kind === 'trigger').length, tags);
  meter.createCounter('audit_spike_suppressed', 'bursts', 'Bursts suppressed by allowlists or maintenance windows').add(output.suppressed.length, tags);
}

/** Counts what PagerDuty made of the action: an update left alone because a person acted is `skipped`, not `updated`. */
export function recordIncident(orgId: string, outcome: Pick<IncidentOutcome, 'kind' | 'result'>): void {
  const meter = Context.current().metricMeter;
  if (outcome.result === 'skipped') {
    meter.createCounter('audit_spike_incidents_skipped', 'incidents', 'Incident updates left alone (a person acknowledged or resolved it, or nothing new to say)').add(1, { org: orgId, kind: outcome.kind });
    return;
  }
  const names = { trigger: 'audit_spike_incidents_opened', update: 'audit_spike_incidents_updated', resolve: 'audit_spike_incidents_resolved' } as const;
  meter.createCounter(names[outcome.kind], 'incidents', `PagerDuty incidents ${outcome.kind === 'trigger' ? 'opened' : `${outcome.kind}d`}`).add(1, { org: orgId });
}
