import type { BacktestAction, BacktestReport, BacktestRun } from './backtest';
import { formatDuration } from '../detection/duration';
import { isoSpan, plural } from '../detection/grammar';
import { formatIncidents } from './incidents';

const VERB: Record<BacktestAction['kind'], string> = { trigger: 'PAGE', update: 'UPDATE', resolve: 'RESOLVE' };

function counts(action: { counts: Record<string, number> }): string {
  return Object.entries(action.counts).map(([rule, count]) => `${rule}=${count}`).join(', ');
}

/** The runs that would have told PagerDuty something, or suppressed a burst; quiet runs are only counted. */
function runLines(run: BacktestRun): string[] {
  const lines: string[] = [];
  const at = run.scheduledAt;
  const pad = ' '.repeat(at.length);
  for (const [i, action] of run.actions.entries()) {
    lines.push(`${i === 0 ? at : pad}  ${VERB[action.kind].padEnd(7)} ${action.severity.padEnd(8)} ${action.actor}  ${counts(action)}  ` +
      `(${isoSpan(action.firstSeen, action.lastSeen)}${action.late ? ', late' : ''})  dedup ${action.dedupKey}`);
  }
  for (const [i, burst] of run.suppressed.entries()) {
    lines.push(`${i === 0 && run.actions.length === 0 ? at : pad}  ${'SUPPRESS'.padEnd(7)} ${burst.severity.padEnd(8)} ${burst.actor}  ${plural(burst.events, 'event')}: ${burst.reason}`);
  }
  return lines;
}

export function formatBacktest(report: BacktestReport): string {
  const { counters } = report;
  const lines = [
    `Backtest of org "${report.org}": ${plural(report.runs.length, 'scheduled run')} every ${formatDuration(report.intervalMs)} from ` +
      `${report.runs[0]?.scheduledAt ?? report.requested.from} to ${report.runs[report.runs.length - 1]?.scheduledAt ?? report.requested.to}, ` +
      `reading audit events from ${report.read.from} to ${report.read.to}. Nothing was paged.`,
    '',
    // What the reader must know before the verdict (a range past Datadog's retention reads as quiet).
    ...(report.warnings ?? []).flatMap((warning) => [`Warning: ${warning}`, '']),
  ];
  const busy = report.runs.flatMap(runLines);
  lines.push(...(busy.length ? busy : ['No run would have paged, updated or suppressed anything.']), '');
  lines.push(`Datadog returned ${plural(counters.read, 'audit event')} for the rules' query (${counters.matched} sensitive, ${counters.duplicates} re-read in the ` +
    `lateness overlap, ${counters.skipped} unusable) in ${plural(report.runs.length, 'run')} and ${plural(counters.pages, 'page')}.`);
  if (counters.unknownActor > 0) {
    lines.push(`${plural(counters.unknownActor, 'sensitive event')} had no user, service account or API key: they are grouped as actor "unknown".`);
  }
  lines.push(report.incidents.length ? `Would have opened ${plural(report.incidents.length, 'incident')}:` : '');
  lines.push(...formatIncidents(report.incidents, report.suppressed));
  return lines.filter((line, i, all) => !(line === '' && all[i - 1] === '')).join('\n');
}
