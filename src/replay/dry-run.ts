import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditSpikeArgs } from '../config/args-schema';
import { plural } from '../detection/grammar';
import type { SuppressedBurst } from '../detection/scan';
import type { AuditEventLike } from '../detection/types';
import { replay, timeOrder } from './engine';
import { formatIncidents, toIncidentOutput, type IncidentOutput } from './incidents';

export interface DryRunOutput {
  /** Non-blank lines read, skipped ones included. */
  eventsRead: number;
  eventsSkipped: number;
  runs: number;
  incidents: IncidentOutput[];
  suppressed: SuppressedBurst[];
  /** Events that counted toward some rule. */
  sensitiveEvents: number;
  /** Of those, events with no user, service account or API key, grouped under the actor "unknown". */
  unknownActorEvents: number;
}

/** Reads one audit event per line; blank lines are ignored, lines that are not a JSON object are counted as skipped. */
export async function readJsonl(path: string): Promise<{ events: AuditEventLike[]; badLines: number }> {
  const events: AuditEventLike[] = [];
  let badLines = 0;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) events.push(parsed as AuditEventLike);
      else badLines++;
    } catch {
      badLines++;
    }
  }
  return { events, badLines };
}

/** The product card's "run once against a sample": what the live schedule would have paged for these events. */
export function dryRunEvents(events: AuditEventLike[], badLines: number, args: AuditSpikeArgs): DryRunOutput {
  const { ordered, unusable } = timeOrder(events);
  const report = replay(ordered, args);
  return {
    eventsRead: events.length + badLines,
    eventsSkipped: badLines + unusable,
    runs: report.runs,
    incidents: toIncidentOutput(report.incidents),
    suppressed: report.suppressed,
    sensitiveEvents: report.counters.matched,
    unknownActorEvents: report.counters.unknownActor,
  };
}

export function formatDryRun(output: DryRunOutput): string {
  const lines = [`Read ${plural(output.eventsRead, 'event')} (${output.eventsSkipped} skipped) in ${plural(output.runs, 'simulated run')}; ${output.sensitiveEvents} sensitive.`];
  if (output.unknownActorEvents > 0) {
    lines.push(`${plural(output.unknownActorEvents, 'sensitive event')} had no user, service account or API key: they are grouped as actor "unknown".`);
  }
  lines.push(...formatIncidents(output.incidents, output.suppressed));
  return lines.join('\n');
}
