import type { IncidentAction } from '../../detection/scan';
import type { Severity } from '../../detection/types';
import { readSecret, type Environment } from '../secrets';
import { triggerEvent } from './event-payload';
import { severityRose, type IncidentOutcome } from './outcome';
import { failOnStatus, postEvent, type EventsTarget } from './pdjs-calls';

/**
 * Events mode. The Events API cannot be asked whether an incident is still open, and "once the alert is resolved, any
 * further events with the same dedup_key will create a new alert" (docs/events-API-v2/02-Trigger-Events.md @ d5d64571).
 * So a continuing burst is not re-triggered just because it grew: if a person resolved its incident, that trigger would
 * page them again for the same burst. It is re-triggered only when its severity rises above what PagerDuty was last told
 * (then a new page is wanted, even after a person resolved the last one). The run's report keeps the current counts.
 * A resolve is always sent: on an incident a person already resolved it is accepted and dropped.
 */
export async function sendEventsAction(target: EventsTarget, env: Environment, action: IncidentAction, notifiedSeverity: Severity | undefined): Promise<IncidentOutcome> {
  const { summary, kind } = action;
  const base = { kind, dedupKey: summary.dedupKey };
  if (kind === 'update' && !severityRose(summary.severity, notifiedSeverity)) {
    return {
      ...base,
      result: 'skipped',
      detail: `not re-sent: severity still ${summary.severity}, and a trigger would open a new incident if a person resolved this one`,
    };
  }
  const routingKey = readSecret(env, target.routingKeyEnv, 'The PagerDuty Events API v2 routing key (integration key)');
  const data = kind === 'resolve'
    ? { routing_key: routingKey, event_action: 'resolve', dedup_key: summary.dedupKey }
    : triggerEvent(target, routingKey, summary);
  const what = `the ${data.event_action} event for ${summary.dedupKey}`;
  const response = await postEvent(target, data);
  if (response.status !== 202) failOnStatus(response, what);
  if (kind === 'trigger') return { ...base, result: 'opened', detail: 'Events API v2 trigger accepted' };
  if (kind === 'resolve') return { ...base, result: 'resolved', detail: 'Events API v2 resolve accepted (dropped by PagerDuty if a person already resolved it)' };
  return { ...base, result: 'updated', detail: `severity rose from ${notifiedSeverity} to ${summary.severity}: re-triggered (a new incident if a person resolved the last)` };
}
