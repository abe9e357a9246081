import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleDay } from '../../sim/sample-day';
import { ACTIONS, burst } from '../../sim/audit-events';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'audit-spike.js');
const dir = mkdtempSync(join(tmpdir(), 'audit-spike-dry-run-'));

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('node', [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('audit-spike dry-run (the built command, as a user runs it)', () => {
  test('the sample day pages exactly its five bursts, each at its severity', () => {
    const file = join(dir, 'day.jsonl');
    const events = sampleDay({ end: new Date('2026-11-24T18:00:00Z') });
    writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n\nnot json\n{"id":"no-time","type":"audit","attributes":{"attributes":{}}}\n`);
    const { status, stdout } = run(['dry-run', '--events', file, '--json']);
    expect(status).toBe(0);
    const output = JSON.parse(stdout);
    expect(output.eventsRead).toBe(events.length + 2);
    expect(output.eventsSkipped).toBe(2);
    const summary = output.incidents.map((i: { actor: string; severity: string }) => `${i.actor} ${i.severity}`).sort();
    expect(summary).toEqual([
      'api_key:a1b2c3d4e5 error',
      'it-admin@example.com warning',
      'mallory@example.com critical',
      'ops.oncall@example.com warning',
      'terraform@service.example.com error',
    ]);
    const mallory = output.incidents.find((i: { actor: string }) => i.actor === 'mallory@example.com');
    expect(mallory).toMatchObject({ rules: expect.arrayContaining(['role_grant', 'api_key_create']), counts: { role_grant: 11, api_key_create: 3 } });
    expect(mallory.dedupKey).toMatch(/^audit-spike-[0-9a-f]{16}$/);
    expect(Object.keys(output).slice(0, 3)).toEqual(['eventsRead', 'eventsSkipped', 'runs']);
  });

  test('a quiet file pages nothing and still exits 0', () => {
    const file = join(dir, 'quiet.jsonl');
    writeFileSync(file, burst({ email: 'a@example.com' }, ACTIONS.roleGrant, 2, Date.parse('2026-11-24T10:00:00Z'), 60_000).map((e) => JSON.stringify(e)).join('\n'));
    const { status, stdout } = run(['dry-run', '--events', file, '--json']);
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ eventsRead: 2, eventsSkipped: 0, incidents: [] });
  });

  test('a config changes the outcome: suppressing an actor', () => {
    const file = join(dir, 'burst.jsonl');
    writeFileSync(file, burst({ email: 'bot@example.com' }, ACTIONS.monitorDelete, 3, Date.parse('2026-11-24T10:00:00Z'), 60_000).map((e) => JSON.stringify(e)).join('\n'));
    const config = join(dir, 'suppress.yaml');
    writeFileSync(config, 'detection:\n  suppress:\n    actors: ["*@example.com"]\n');
    const { status, stdout } = run(['dry-run', '--events', file, '--config', config, '--json']);
    expect(status).toBe(0);
    const output = JSON.parse(stdout);
    expect(output.incidents).toEqual([]);
    expect(output.suppressed).toHaveLength(1);
    expect(output.suppressed[0].reason).toContain('allowlisted');
  });

  test('bad arguments and bad config exit 2 with the reason on stderr', () => {
    expect(run(['dry-run', '--json'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--events') });
    // #26: one line naming the file and what to do, never a raw ENOENT.
    const missing = run(['dry-run', '--events', join(dir, 'missing.jsonl')]);
    expect(missing).toMatchObject({ status: 2, stderr: `audit-spike dry-run: --events ${join(dir, 'missing.jsonl')}: no such file (looked for ${join(dir, 'missing.jsonl')}); check the path\n` });
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'schedule:\n  interval: often\n');
    const file = join(dir, 'quiet.jsonl');
    expect(run(['dry-run', '--events', file, '--config', config])).toMatchObject({ status: 2, stderr: expect.stringContaining('schedule.interval') });
    expect(run(['dry-run', '--events', file, '--bogus'])).toMatchObject({ status: 2 });
  });

  test('config check accepts the documented example', () => {
    const { status, stdout } = run(['config', 'check', join(root, 'examples', 'audit-spike.yaml')]);
    expect(status).toBe(0);
    expect(stdout).toContain('OK');
  });
});
