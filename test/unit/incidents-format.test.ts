import { countsText, failedRunsText, formatIncidentCsv, formatIncidentJson, formatIncidentTable, incidentRows, type IncidentsContext } from '../../src/cli/incidents-format';
import type { FailedRun } from '../../src/failed-runs';
import type { PagedRun } from '../../src/paged-runs';
import { pagedRunsQuery } from '../../src/paged-runs';
import type { IncidentRecord } from '../../src/workflows/run-result';

function record(actor: string, overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    kind: 'trigger', actor, severity: 'critical', rules: ['role_grant', 'api_key_create'], counts: { api_key_create: 3, role_grant: 11 }, events: 14,
    firstSeen: '2026-12-06T10:01:00.000Z', lastSeen: '2026-12-06T10:08:00.000Z', dedupKey: `audit-spike-${actor.length}abc`, late: false,
    outcome: { result: 'opened', detail: 'Events API v2 trigger accepted' },
    ...overrides,
  };
}

function run(workflowId: string, scheduledAt: string, incidents: IncidentRecord[], org = 'acme'): PagedRun {
  return { workflowId, runId: `run-of-${workflowId}`, org, startTime: new Date(scheduledAt), scheduledAt, incidents };
}

const context: IncidentsContext = {
  since: '2026-12-05T12:00:00.000Z', until: '2026-12-06T12:00:00.000Z', namespace: 'default', query: pagedRunsQuery(new Date('2026-12-05T12:00:00Z')), runs: 2,
};

const runs = [
  run('audit-spike-acme-2026-12-06T11:00:00Z', '2026-12-06T11:00:00.000Z', [
    record('eve@example.com', { severity: 'warning', rules: ['monitor_delete'], counts: { monitor_delete: 5 }, events: 5, outcome: { result: 'opened', detail: 'opened, assigned to Ann', incidentId: 'Q1ABC' } }),
    record('mallory@example.com', { kind: 'update', outcome: { result: 'failed', detail: 'not delivered: timeout, "twice"' } }),
  ]),
  run('audit-spike-acme-2026-12-06T10:10:00Z', '2026-12-06T10:10:00.000Z', [record('mallory@example.com')]),
];

describe('audit-spike incidents: rows and their formats', () => {
  test('rows: oldest run first, each incident record with its run, outcome, counts and incident id', () => {
    const rows = incidentRows(runs);
    expect(rows.map((row) => [row.actor, row.kind, row.outcome, row.workflowId])).toEqual([
      ['mallory@example.com', 'trigger', 'opened', 'audit-spike-acme-2026-12-06T10:10:00Z'],
      ['eve@example.com', 'trigger', 'opened', 'audit-spike-acme-2026-12-06T11:00:00Z'],
      ['mallory@example.com', 'update', 'failed', 'audit-spike-acme-2026-12-06T11:00:00Z'],
    ]);
    expect(rows[1]).toMatchObject({ incidentId: 'Q1ABC', severity: 'warning', counts: { monitor_delete: 5 }, runId: 'run-of-audit-spike-acme-2026-12-06T11:00:00Z', org: 'acme' });
    expect(incidentRows([run('w', '2026-12-06T10:00:00.000Z', [record('x', { outcome: undefined })])])[0].outcome).toBe('not sent');
  });

  test('counts read largest first', () => {
    expect(countsText({ api_key_create: 3, role_grant: 11 })).toBe('role_grant=11, api_key_create=3');
  });

  test('table: what was searched, one line per record with severity, outcome and counts, then its events and its run', () => {
    const table = formatIncidentTable(incidentRows(runs), context);
    const lines = table.split('\n');
    expect(lines[0]).toBe('3 incident records from 2 paged runs from 2026-12-05T12:00:00.000Z to 2026-12-06T12:00:00.000Z in every org (namespace default):');
    expect(lines[2]).toMatch(/^scheduled\s+org\s+actor\s+severity\s+kind\s+outcome\s+counts$/);
    expect(lines[3]).toMatch(/^2026-12-06T10:10:00.000Z {2}acme {2}mallory@example.com {2}critical {2}trigger {2}opened +role_grant=11, api_key_create=3$/);
    expect(lines[4]).toBe('    14 events 2026-12-06T10:01:00.000Z .. 2026-12-06T10:08:00.000Z; Events API v2 trigger accepted; dedup key audit-spike-19abc');
    expect(lines[5]).toBe('    run audit-spike-acme-2026-12-06T10:10:00Z run-of-audit-spike-acme-2026-12-06T10:10:00Z');
    expect(table).toContain('opened (Q1ABC)');
    // Columns line up: every record line has its severity where the header has it.
    const at = lines[2].indexOf('severity');
    for (const index of [3, 6, 9]) expect(lines[index].slice(at)).toMatch(/^(critical|warning) /);
  });

  test('table with nothing found says the window, the org and the query searched', () => {
    const empty = formatIncidentTable([], { ...context, org: 'acme-eu', runs: 0 });
    expect(empty).toBe(
      'No paged runs from 2026-12-05T12:00:00.000Z to 2026-12-06T12:00:00.000Z in org acme-eu (namespace default).\n' +
        '(searched: AuditSpikePaged = true AND StartTime >= "2026-12-05T12:00:00.000Z")\n',
    );
  });

  test('runs that failed follow the records (or the empty answer), one line each, the org unknown when it could not be read', () => {
    const failed: FailedRun[] = [
      { workflowId: 'audit-spike-acme-2026-12-06T11:05:00Z', runId: 'r1', startTime: '2026-12-06T11:05:00.000Z', org: 'acme', failure: 'Activity task timed out' },
      { workflowId: 'audit-spike-eu-2026-12-06T11:10:00Z', runId: 'r2', startTime: '2026-12-06T11:10:00.000Z', failure: 'the run\'s arguments are invalid' },
    ];
    const table = formatIncidentTable(incidentRows(runs), context, failed);
    expect(table.endsWith([
      '    run audit-spike-acme-2026-12-06T11:00:00Z run-of-audit-spike-acme-2026-12-06T11:00:00Z',
      '',
      '2 runs failed in the window; what they would have paged was not paged by them (the next run reads the same window again):',
      '  2026-12-06T11:05:00.000Z  acme  run audit-spike-acme-2026-12-06T11:05:00Z r1: Activity task timed out',
      '  2026-12-06T11:10:00.000Z  org unknown  run audit-spike-eu-2026-12-06T11:10:00Z r2: the run\'s arguments are invalid',
      '',
    ].join('\n'))).toBe(true);
    expect(formatIncidentTable([], { ...context, runs: 0 }, failed.slice(0, 1))).toContain(')\n\n1 run failed in the window; what it would have paged was not paged by it ');
    expect(failedRunsText([])).toBe('');
    expect(JSON.parse(formatIncidentJson([], { ...context, runs: 0 }, failed)).failedRuns).toEqual(failed);
    expect(JSON.parse(formatIncidentJson([], { ...context, runs: 0 })).failedRuns).toEqual([]);
  });

  test('one record reads in the singular', () => {
    expect(formatIncidentTable(incidentRows([runs[1]]), { ...context, runs: 1 })).toMatch(/^1 incident record from 1 paged run from /);
  });

  test('csv: a header, one record per line, quoted where needed, counts as rule=n;rule=n', () => {
    const csv = formatIncidentCsv(incidentRows(runs));
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('scheduledAt,org,actor,severity,kind,outcome,incidentId,rules,counts,events,firstSeen,lastSeen,dedupKey,workflowId,runId,detail');
    expect(lines[1]).toBe(
      '2026-12-06T10:10:00.000Z,acme,mallory@example.com,critical,trigger,opened,,role_grant;api_key_create,role_grant=11;api_key_create=3,14,' +
        '2026-12-06T10:01:00.000Z,2026-12-06T10:08:00.000Z,audit-spike-19abc,audit-spike-acme-2026-12-06T10:10:00Z,run-of-audit-spike-acme-2026-12-06T10:10:00Z,Events API v2 trigger accepted',
    );
    expect(lines[3].endsWith(',"not delivered: timeout, ""twice"""')).toBe(true);
    expect(lines).toHaveLength(5); // header, 3 records, and the final line break
    expect(formatIncidentCsv([])).toBe(`${lines[0]}\r\n`);
  });

  test('json: what was searched and the rows, parseable', () => {
    const parsed = JSON.parse(formatIncidentJson(incidentRows(runs), { ...context, org: 'acme' }));
    expect(parsed).toMatchObject({ since: context.since, until: context.until, org: 'acme', namespace: 'default', runs: 2, query: context.query });
    expect(parsed.incidents).toHaveLength(3);
    expect(parsed.incidents[0]).toMatchObject({ actor: 'mallory@example.com', severity: 'critical', counts: { role_grant: 11, api_key_create: 3 }, outcome: 'opened' });
  });

  test('the visibility query: paged runs since the time, in one org when asked', () => {
    expect(pagedRunsQuery(new Date('2026-12-06T00:00:00Z'), 'acme-eu')).toBe('AuditSpikePaged = true AND StartTime >= "2026-12-06T00:00:00.000Z" AND AuditSpikeOrg = "acme-eu"');
  });
});
