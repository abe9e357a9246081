import { plural } from '../detection/grammar';
import type { FailedRun } from '../failed-runs';
import type { PagedRun } from '../paged-runs';
import type { IncidentRecord } from '../workflows/run-result';

/** One line of `audit-spike incidents`: what PagerDuty was told about one actor in one run, and which run. */
export interface IncidentRow {
  scheduledAt: string;
  org: string;
  actor: string;
  severity: string;
  /** What the run asked of PagerDuty: trigger (a page), update, resolve. */
  kind: IncidentRecord['kind'];
  /** What PagerDuty made of it: opened, updated, resolved, skipped, failed ("not sent" when the record has none). */
  outcome: string;
  detail: string;
  incidentId?: string;
  rules: string[];
  /** Events per rule crossed (the counts behind the page). */
  counts: Record<string, number>;
  events: number;
  firstSeen: string;
  lastSeen: string;
  dedupKey: string;
  workflowId: string;
  runId: string;
}

/** What was searched, said in every output: the window, the org filter and the visibility query. */
export interface IncidentsContext {
  since: string;
  until: string;
  org?: string;
  namespace: string;
  query: string;
  runs: number;
}

/** The rows of the runs, oldest run first, each run's records in the order it sent them. */
export function incidentRows(runs: PagedRun[]): IncidentRow[] {
  const ordered = [...runs].sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt) || a.workflowId.localeCompare(b.workflowId));
  return ordered.flatMap((run) => run.incidents.map((incident): IncidentRow => ({
    scheduledAt: run.scheduledAt,
    org: run.org,
    actor: incident.actor,
    severity: incident.severity,
    kind: incident.kind,
    outcome: incident.outcome?.result ?? 'not sent',
    detail: incident.outcome?.detail ?? '',
    ...(incident.outcome?.incidentId ? { incidentId: incident.outcome.incidentId } : {}),
    rules: [...incident.rules],
    counts: { ...incident.counts },
    events: incident.events,
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
    dedupKey: incident.dedupKey,
    workflowId: run.workflowId,
    runId: run.runId,
  })));
}

/** `role_grant=11, api_key_create=3`: the largest count first. */
export function countsText(counts: Record<string, number>, separator = ', '): string {
  return Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([rule, n]) => `${rule}=${n}`)
    .join(separator);
}

/** The window and filter searched, in one line: what an empty answer means. */
export function searchedText(context: IncidentsContext): string {
  return `from ${context.since} to ${context.until}${context.org ? ` in org ${context.org}` : ' in every org'} (namespace ${context.namespace})`;
}

/** The runs that failed in the window, one line each: nothing they would have paged came from them. */
export function failedRunsText(failed: FailedRun[]): string {
  if (failed.length === 0) return '';
  const lines = [
    `${plural(failed.length, 'run')} failed in the window; what ${failed.length === 1 ? 'it' : 'they'} would have paged was not paged by ${failed.length === 1 ? 'it' : 'them'} ` +
      '(the next run reads the same window again):',
    ...failed.map((run) => `  ${run.startTime}  ${run.org ?? 'org unknown'}  run ${run.workflowId} ${run.runId}: ${run.failure}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A table for a person: one block per incident record, the run on its own line; then the runs that failed. */
export function formatIncidentTable(rows: IncidentRow[], context: IncidentsContext, failed: FailedRun[] = []): string {
  const failures = failed.length ? `\n${failedRunsText(failed)}` : '';
  if (rows.length === 0) {
    return `No paged runs ${searchedText(context)}.\n(searched: ${context.query})\n${failures}`;
  }
  const header = ['scheduled', 'org', 'actor', 'severity', 'kind', 'outcome', 'counts'];
  const cells = rows.map((row) => [
    row.scheduledAt,
    row.org,
    row.actor,
    row.severity,
    row.kind,
    row.incidentId ? `${row.outcome} (${row.incidentId})` : row.outcome,
    countsText(row.counts),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column].length)));
  const line = (values: string[]) => values.map((value, column) => (column === values.length - 1 ? value : value.padEnd(widths[column]))).join('  ').trimEnd();
  const out = [
    `${plural(rows.length, 'incident record')} from ${plural(context.runs, 'paged run')} ${searchedText(context)}:`,
    '',
    line(header),
  ];
  rows.forEach((row, index) => {
    out.push(line(cells[index]));
    out.push(`    ${plural(row.events, 'event')} ${row.firstSeen} .. ${row.lastSeen}; ${row.detail || 'no PagerDuty outcome recorded'}; dedup key ${row.dedupKey}`);
    out.push(`    run ${row.workflowId} ${row.runId}`);
  });
  return `${out.join('\n')}\n${failures}`;
}

const CSV_COLUMNS = ['scheduledAt', 'org', 'actor', 'severity', 'kind', 'outcome', 'incidentId', 'rules', 'counts', 'events', 'firstSeen', 'lastSeen', 'dedupKey', 'workflowId', 'runId', 'detail'] as const;

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 CSV with a header; rules joined by `;`, counts as `rule=n;rule=n`. */
export function formatIncidentCsv(rows: IncidentRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    const value: Record<(typeof CSV_COLUMNS)[number], string> = {
      ...row,
      incidentId: row.incidentId ?? '',
      rules: row.rules.join(';'),
      counts: countsText(row.counts, ';'),
      events: String(row.events),
    };
    lines.push(CSV_COLUMNS.map((column) => csvCell(value[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** One JSON object: what was searched, the rows, and the runs that failed in the window. */
export function formatIncidentJson(rows: IncidentRow[], context: IncidentsContext, failed: FailedRun[] = []): string {
  return `${JSON.stringify({ ...context, incidents: rows, failedRuns: failed }, null, 2)}\n`;
}
