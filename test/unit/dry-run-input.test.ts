import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTIONS, auditEvent, burst } from '../../sim/audit-events';
import { sampleDay } from '../../sim/sample-day';

// The built command, as a user runs it (#26 "never a false quiet", #22.5 implausible timestamps).
const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'audit-spike.js');
const dir = mkdtempSync(join(tmpdir(), 'audit-spike-dry-run-input-'));

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('node', [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const events = sampleDay({ end: new Date('2026-11-24T18:00:00Z') });
const critical = (stdout: string) => (JSON.parse(stdout) as { incidents: Array<{ actor: string; severity: string }> }).incidents
  .filter((i) => i.severity === 'critical').map((i) => i.actor);

describe('dry-run reads the shapes a user has saved, and never says "Quiet" about a file it could not read', () => {
  test('a saved API response {"data": [...]}, pretty-printed, pages the critical burst as JSON Lines does', () => {
    const lines = run(['dry-run', '--events', write('day.jsonl', events.map((e) => JSON.stringify(e)).join('\n')), '--json']);
    expect(lines.status).toBe(0);
    expect(critical(lines.stdout)).toEqual(['mallory@example.com']);
    const saved = write('response.json', JSON.stringify({ data: events, meta: { page: { after: null } }, links: {} }, null, 2));
    const page = run(['dry-run', '--events', saved, '--json']);
    expect(page.status).toBe(0);
    expect(JSON.parse(page.stdout)).toMatchObject({ eventsRead: events.length, eventsSkipped: 0, format: 'api-response', inputProblem: null });
    expect(JSON.parse(page.stdout).incidents).toEqual(JSON.parse(lines.stdout).incidents);
    const text = run(['dry-run', '--events', saved]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('PAGE CRITICAL mallory@example.com');
  });

  test('a JSON array of events pages too', () => {
    const array = run(['dry-run', '--events', write('array.json', JSON.stringify(events)), '--json']);
    expect(array.status).toBe(0);
    expect(JSON.parse(array.stdout)).toMatchObject({ eventsRead: events.length, eventsSkipped: 0, format: 'json-array' });
    expect(critical(array.stdout)).toEqual(['mallory@example.com']);
  });

  test('a file that is mostly not audit events exits 3, says so first, and never "Quiet"', () => {
    const csv = write('export.csv', ['date,user,action', ...events.slice(0, 30).map((e) => `${e.attributes.timestamp},x,y`)].join('\n'));
    const result = run(['dry-run', '--events', csv]);
    expect(result.status).toBe(3);
    expect(result.stdout.split('\n')[0]).toMatch(/^NO VERDICT: 31 of the 31 events read were skipped|^NO VERDICT: none of the 31 events read/);
    expect(result.stdout).not.toContain('Quiet');
    expect(result.stdout).toContain('Not quiet');
    expect(result.stderr).toContain('no verdict');
    const json = run(['dry-run', '--events', csv, '--json']);
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ eventsRead: 31, eventsSkipped: 31, incidents: [], inputProblem: expect.stringContaining('31 events read') });
  });

  test('an empty file, events without timestamps, or most lines skipped: exit 3; a few skipped: a warning and exit 0', () => {
    expect(run(['dry-run', '--events', write('empty.jsonl', '\n\n')])).toMatchObject({ status: 3, stdout: expect.stringContaining('NO VERDICT: no event read') });
    const untimed = events.slice(0, 10).map((e) => JSON.stringify({ ...e, attributes: { ...e.attributes, timestamp: 'yesterday' } }));
    expect(run(['dry-run', '--events', write('untimed.jsonl', untimed.join('\n'))])).toMatchObject({
      status: 3, stdout: expect.stringContaining('none of the 10 events read has a usable timestamp (10 without a usable attributes.timestamp)'),
    });
    const good = burst({ email: 'a@example.com' }, ACTIONS.roleGrant, 2, Date.parse('2026-11-24T10:00:00Z'), 60_000).map((e) => JSON.stringify(e));
    expect(run(['dry-run', '--events', write('most-bad.jsonl', [...good, 'x', 'y', 'z'].join('\n'))])).toMatchObject({
      status: 3, stdout: expect.stringContaining('3 of the 5 events read were skipped (3 not JSON): more than half'),
    });
    const few = run(['dry-run', '--events', write('few-bad.jsonl', [...good, 'x'].join('\n'))]);
    expect(few).toMatchObject({ status: 0, stdout: expect.stringContaining('Warning: 1 event skipped: 1 not JSON.') });
    expect(few.stdout).toContain('Quiet: nothing would have been paged.');
  });

  test('an event dated 9999-12-31 is a counted, reported skip and the run is instant; --latest accepts it', () => {
    const four = [...burst({ email: 'a@example.com' }, ACTIONS.monitorDelete, 3, Date.parse('2026-11-24T10:00:00Z'), 120_000),
      auditEvent('9999-12-31T00:00:00Z', { email: 'b@example.com' }, ACTIONS.monitorDelete)];
    const file = write('four.jsonl', four.map((e) => JSON.stringify(e)).join('\n'));
    const started = Date.now();
    const result = run(['dry-run', '--events', file, '--json']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ eventsRead: 4, eventsSkipped: 1, skipped: { implausibleTimestamp: 1 }, inputProblem: null });
    expect(output.acceptedTimestamps.earliest).toBe('2000-01-01T00:00:00.000Z');
    expect(output.warnings[0]).toContain('1 event skipped for an implausible timestamp (9999-12-31T00:00:00.000Z)');
    expect(output.incidents.map((i: { actor: string }) => i.actor)).toEqual(['a@example.com']);
    const accepted = JSON.parse(run(['dry-run', '--events', file, '--json', '--latest', '9999-12-31T12:00:00Z']).stdout);
    expect(accepted).toMatchObject({ eventsSkipped: 0 });
    expect(accepted.runsSimulated).toBeLessThan(20);
    expect(accepted.incidents.map((i: { actor: string }) => i.actor)).toEqual(['a@example.com', 'b@example.com']);
    expect(run(['dry-run', '--events', file, '--earliest', 'last week'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--earliest: must be an ISO 8601 time') });
  });
});
