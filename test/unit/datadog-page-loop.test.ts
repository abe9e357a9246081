import { ApplicationFailure } from '@temporalio/common';
import { createDatadogAuditClient } from '../../src/activities/datadog-client';
import { scanWindowPages, type PageLoopHooks, type ScanHeartbeat } from '../../src/activities/scan-audit-events';
import type { AuditSpikeArgs } from '../../src/config/args-schema';
import { Detector } from '../../src/detection/detector';
import { emptyState } from '../../src/detection/state';
import { scanWindowWithRetries } from '../../src/replay/backtest-retry';
import { DatadogSimulator } from '../../sim/datadog-sim';
import { ACTIONS, NOISE, auditEvent, burst } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

/** The scan's page loop, through the real Datadog client, against the strict simulator. */

const MIN = 60_000;
const DAY = 86_400_000;
const t0 = Math.floor((Date.now() - DAY) / MIN) * MIN;
const window = { readFrom: t0, from: t0, to: t0 + 30 * MIN };

let sim: DatadogSimulator;
beforeAll(async () => {
  sim = await DatadogSimulator.start({ rateLimit: { limit: 100_000, periodSeconds: 60 } });
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => sim.clear());

function argsFor(yaml = ''): AuditSpikeArgs {
  const args = argsFrom(yaml);
  return { ...args, datadog: { ...args.datadog, baseUrl: sim.url } };
}

function clientFor(args: AuditSpikeArgs) {
  return createDatadogAuditClient(args.datadog, { DD_API_KEY: sim.apiKey, DD_APP_KEY: sim.appKey });
}

function hooks(beats: ScanHeartbeat[] = []): PageLoopHooks {
  return { checkpointEveryMs: 0, wait: async () => undefined, checkpoint: (beat) => beats.push(beat) };
}

function scan(args: AuditSpikeArgs, loopHooks = hooks(), scanWindow = window) {
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const request = { orgId: 'test', datadog: args.datadog, detection: args.detection, window: scanWindow, runAt: scanWindow.to, lateAfterMs: DAY, state: emptyState(scanWindow.from) };
  return scanWindowPages(clientFor(args), detector, request, loopHooks);
}

const grants = (count: number, actor = { email: 'mallory@example.com' }) => burst(actor, ACTIONS.roleGrant, count, t0 + MIN, 5 * MIN);

test('a partial page is read again and counted once, when complete', async () => {
  sim.addEvents(grants(6));
  sim.partialNext(2);
  const result = await scan(argsFor('datadog:\n  pageLimit: 4\n'));
  expect(result.counters).toMatchObject({ read: 6, matched: 6, duplicates: 0 });
  expect(result.actions[0].summary.counts).toMatchObject({ role_grant: 6 });
  expect(sim.requests.map((r) => [r.partial ?? false, r.cursor])).toEqual([[true, false], [true, false], [false, false], [false, true]]);
});

test('a page that stays partial fails the attempt, retryably, saying so; the retry resumes and counts nothing twice', async () => {
  sim.addEvents(grants(12));
  const args = argsFor('datadog:\n  pageLimit: 3\n');
  let pagesBeforeFault = 0;
  const loopHooks = hooks();
  const failing = scan(args, { ...loopHooks, pageRead: (pages) => { pagesBeforeFault = pages; if (pages === 2) sim.partialNext(3); } });
  const error = await failing.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type: 'DatadogPartialResults', nonRetryable: false });
  expect((error as Error).message).toMatch(/partial results 3 times in a row \(meta\.status "timeout", warnings: timeout: .*\); the window .* is not complete/);
  expect(pagesBeforeFault).toBe(2);

  // Played out as Temporal retries it: the retry resumes from the last checkpoint (2 pages) and finishes.
  sim.clear();
  sim.addEvents(grants(12));
  let struck = false;
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const retries: string[] = [];
  const result = await scanWindowWithRetries(clientFor(args), detector, { orgId: 'test', datadog: args.datadog, detection: args.detection, window, runAt: window.to, lateAfterMs: DAY, state: emptyState(window.from) }, {
    sleep: async () => undefined,
    checkpointEveryMs: 0,
    pageRead: (pages) => { if (pages === 2 && !struck) { struck = true; sim.partialNext(3); } },
    retrying: (reason) => retries.push(reason),
  });
  expect(retries).toEqual([expect.stringContaining('partial results')]);
  expect(result.counters).toMatchObject({ matched: 12, duplicates: 0 });
  expect(result.actions.find((a) => a.kind === 'trigger')!.summary.counts).toMatchObject({ role_grant: 12 });
  expect(result.resumedAtPage).toBe(2);
});

test('an empty page ends pagination, whatever cursor it carries', async () => {
  sim.addEvents(grants(5));
  sim.faults.cursorOnLastPage = true;
  const result = await scan(argsFor('datadog:\n  pageLimit: 2\n'));
  expect(result.counters.matched).toBe(5);
  expect(sim.requests.map((r) => r.returned)).toEqual([2, 2, 1, 0]);
  expect(result.pages).toBe(4);
});

test('a full last page is followed by one empty page, and the window ends', async () => {
  sim.addEvents(grants(4));
  const result = await scan(argsFor('datadog:\n  pageLimit: 2\n'));
  expect(sim.requests.map((r) => r.returned)).toEqual([2, 2, 0]);
  expect(result.counters.matched).toBe(4);
});

test('a rule written in another case still finds what Datadog stores, and values are escaped for the strict search', async () => {
  const yaml = [
    'detection:',
    '  defaultRules: false',
    '  rules:',
    '    - { id: key_made, match: { asset.type: API_Key, action: Created }, window: 10m, tiers: [{ count: 2, severity: warning }] }',
    '    - { id: odd_names, match: { evt.name: access management, asset.name: "ns:prod (admins)" }, window: 10m, tiers: [{ count: 1, severity: info }] }',
    '',
  ].join('\n');
  const oddName = { evt: 'Access Management', assetType: 'role', action: 'modified', assetName: 'ns:prod (admins)' };
  sim.addEvents([
    ...burst({ email: 'a@example.com' }, ACTIONS.apiKeyCreate, 2, t0 + MIN, MIN),
    auditEvent(t0 + 2 * MIN, { email: 'b@example.com' }, oddName),
    auditEvent(t0 + 3 * MIN, { email: 'b@example.com' }, NOISE[0]),
  ]);
  const result = await scan(argsFor(yaml));
  expect(result.query).toContain('@asset.type:(api_key OR API_Key)');
  expect(result.query).toContain('@action:(created OR Created)');
  expect(result.query).toContain('@evt.name:("Access Management" OR "access management")');
  expect(sim.requests.every((r) => r.unescaped === undefined && r.status === 200)).toBe(true);
  expect(result.counters.read).toBe(3);
  expect(result.actions.map((a) => [a.summary.actor, a.summary.rules])).toEqual(expect.arrayContaining([['a@example.com', ['key_made']], ['b@example.com', ['odd_names']]]));
});

test('key-authenticated actions (usr.email a UUID, usr.id the email) count for the same person as session ones', async () => {
  const mallory = { id: 'u-1', email: 'Mallory@Example.com', name: 'Mallory' };
  sim.addEvents([...burst(mallory, ACTIONS.apiKeyCreate, 2, t0 + MIN, MIN), ...burst({ email: mallory.email, viaKeys: true }, ACTIONS.apiKeyCreate, 2, t0 + 3 * MIN, MIN)]);
  const result = await scan(argsFor());
  const paged = result.actions.filter((a) => a.kind === 'trigger').map((a) => [a.summary.actor, a.summary.counts]);
  expect(paged).toEqual([['mallory@example.com', { api_key_create: 4 }]]);
});

test('a window past the retention horizon is said so, with the date Datadog can be read from', async () => {
  const old = { readFrom: Date.now() - 8 * DAY, from: Date.now() - 8 * DAY, to: Date.now() - 8 * DAY + 30 * MIN };
  const result = await scan(argsFor(), hooks(), old);
  expect(result.warnings).toEqual([expect.stringMatching(/^Datadog keeps audit events for 7d \(datadog\.retention\): the events from .* to .* are gone and cannot be read; reading from \d{4}-/)]);
  expect((await scan(argsFor())).warnings).toEqual([]);
  expect((await scan(argsFor('datadog:\n  retention: 10d\n'), hooks(), old)).warnings).toEqual([]);
});

test('a refused key names the audit_logs_read permission', async () => {
  const args = argsFor();
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const dd = createDatadogAuditClient(args.datadog, { DD_API_KEY: sim.apiKey, DD_APP_KEY: 'revoked' });
  const request = { orgId: 'test', datadog: args.datadog, detection: args.detection, window, runAt: window.to, lateAfterMs: DAY, state: emptyState(window.from) };
  await expect(scanWindowPages(dd, detector, request, hooks())).rejects.toMatchObject({ type: 'DatadogAuthRejected', nonRetryable: true, message: expect.stringContaining('audit_logs_read permission') });
});

