import { ApplicationFailure } from '@temporalio/common';
import { burstSummary, withPagerDutyHarness, type PagerDutyHarness } from './support/pagerduty-harness';

/**
 * The incident activity against the strict simulator: what a person did in PagerDuty comes back as an outcome, never as
 * a failure, in both modes; REST assigns one responder and never the From user; 429s wait as PagerDuty asks.
 */
describe('the incident activity respects a person, against the strict PagerDuty simulator', () => {
  let h: PagerDutyHarness;
  withPagerDutyHarness((ready) => (h = ready));
  beforeEach(() => {
    h.sim.clear();
    h.sim.resetFaults();
  });

  describe('REST mode', () => {
    test('a trigger assigns exactly one first-level on-call, never the From user', async () => {
      const summary = burstSummary();
      const opened = await h.send(h.rest, 'trigger', summary);
      expect(opened).toMatchObject({ kind: 'trigger', result: 'opened', detail: 'assigned to on-call PUSR001' });
      const [incident] = h.sim.incidents;
      expect(incident).toMatchObject({ dedupKey: summary.dedupKey, assignees: ['PUSR001'], notified: ['PUSR001'], status: 'triggered', urgency: 'high' });
      expect(opened.incidentId).toBe(incident.id);
    });

    test('when the From user is the only first-level on-call, the incident goes to the escalation policy', async () => {
      const ada = { ...h.rest, fromEmail: 'ADA@example.com' };
      const opened = await h.send(ada, 'trigger', burstSummary());
      expect(opened.detail).toBe('handed to escalation policy PSECEP1');
      const posted = h.sim.requests.find((r) => r.method === 'POST' && r.path === '/incidents')!.body as { incident: Record<string, unknown> };
      expect(posted.incident.assignments).toBeUndefined();
      expect(posted.incident.escalation_policy).toEqual({ id: 'PSECEP1', type: 'escalation_policy_reference' });
      expect(h.sim.incidents[0]).toMatchObject({ status: 'triggered', notified: ['PUSR001'] });
    });

    test('an update of an incident a person resolved is skipped: no PUT, no note, no new page', async () => {
      const summary = burstSummary();
      await h.send(h.rest, 'trigger', summary);
      h.sim.personResolves(summary.dedupKey);
      const before = h.sim.requests.length;
      const outcome = await h.send(h.rest, 'update', { ...summary, events: 9, counts: { role_grant: 9 } }, 'error');
      expect(outcome).toMatchObject({ result: 'skipped', detail: 'resolved in PagerDuty by a person; not paged again (severity still error)' });
      const after = h.sim.requests.slice(before);
      expect(after.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /incidents']);
      expect(after[0].query).toMatchObject({ date_range: 'all', 'statuses[]': ['triggered', 'acknowledged', 'resolved'], incident_key: summary.dedupKey });
      expect(h.sim.incidents).toHaveLength(1);
    });

    test('a severity rise after a person resolved it pages again, with one new incident', async () => {
      const summary = burstSummary();
      await h.send(h.rest, 'trigger', summary);
      h.sim.personResolves(summary.dedupKey);
      const outcome = await h.send(h.rest, 'update', { ...summary, severity: 'critical' }, 'error');
      expect(outcome).toMatchObject({ kind: 'update', result: 'opened' });
      expect(outcome.detail).toMatch(/^severity rose from error to critical after a person resolved Q\w+: assigned to on-call PUSR001$/);
      expect(h.sim.incidents.map((i) => i.status)).toEqual(['resolved', 'triggered']);
      // The next update finds the open one, not the resolved one.
      const next = await h.send(h.rest, 'update', { ...summary, severity: 'critical', events: 12 }, 'critical');
      expect(next).toMatchObject({ result: 'updated', incidentId: h.sim.incidents[1].id });
    });

    test('an acknowledged incident gets a note and keeps its status; its resolve is left to the person', async () => {
      const summary = burstSummary({ severity: 'warning' });
      await h.send(h.rest, 'trigger', summary);
      h.sim.personAcknowledges(summary.dedupKey);
      const update = await h.send(h.rest, 'update', { ...summary, severity: 'error' }, 'warning');
      expect(update).toMatchObject({ result: 'updated', detail: 'note added, urgency raised to high (acknowledged by a person: status left with them)' });
      const resolve = await h.send(h.rest, 'resolve', summary);
      expect(resolve).toMatchObject({ result: 'skipped', detail: 'acknowledged in PagerDuty by a person; left open for them, note added' });
      const [incident] = h.sim.incidents;
      expect(incident.status).toBe('acknowledged');
      expect(incident.urgency).toBe('high');
      expect(incident.notes).toHaveLength(2);
    });

    test('resolving an incident a person already resolved is an outcome, also when they resolve it between our lookup and our PUT', async () => {
      const summary = burstSummary();
      await h.send(h.rest, 'trigger', summary);
      h.sim.personResolves(summary.dedupKey);
      expect(await h.send(h.rest, 'resolve', summary)).toMatchObject({ result: 'skipped', detail: 'already resolved in PagerDuty by a person' });
      expect(h.sim.requests.filter((r) => r.method === 'PUT')).toEqual([]);
      const open = burstSummary();
      await h.send(h.rest, 'trigger', open);
      expect(await h.send(h.rest, 'resolve', open)).toMatchObject({ result: 'resolved' });
      // The race: a person resolves between our lookup and our PUT, which PagerDuty answers 400 code 1001.
      const raced = burstSummary();
      await h.send(h.rest, 'trigger', raced);
      h.sim.personActsBefore('^PUT /incidents/', 'resolve', raced.dedupKey);
      expect(await h.send(h.rest, 'resolve', raced)).toMatchObject({ result: 'skipped', detail: 'already resolved in PagerDuty by a person' });
      const put = h.sim.requests.filter((r) => r.method === 'PUT').at(-1)!;
      expect([put.status, (put.response!.body as { error: { code: number } }).error.code]).toEqual([400, 1001]);
      // The same race on an update's urgency raise.
      const rising = burstSummary({ severity: 'warning' });
      await h.send(h.rest, 'trigger', rising);
      h.sim.personActsBefore('^PUT /incidents/', 'resolve', rising.dedupKey);
      expect(await h.send(h.rest, 'update', { ...rising, severity: 'error' }, 'warning')).toMatchObject({ result: 'skipped' });
    });

    test('a 429 fails the attempt as retryable, with the wait PagerDuty asked for (ratelimit-reset)', async () => {
      h.sim.failNext(429, 4, { resetS: 42 });
      const failure = await h.send(h.rest, 'trigger', burstSummary()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'PagerDutyRateLimited', nonRetryable: false, nextRetryDelay: 42_000 });
      // pdjs' own three retries, then the activity gave up on this attempt.
      expect(h.sim.requests.map((r) => r.status)).toEqual([429, 429, 429, 429]);
    });
  });

  describe('Events mode', () => {
    test('a continuing burst at the same severity is not re-triggered (it would reopen what a person resolved)', async () => {
      const summary = burstSummary();
      expect(await h.send(h.events, 'trigger', summary)).toMatchObject({ result: 'opened' });
      h.sim.personResolves(summary.dedupKey);
      const before = h.sim.requests.length;
      const outcome = await h.send(h.events, 'update', { ...summary, events: 8 }, 'error');
      expect(outcome).toMatchObject({ result: 'skipped' });
      expect(outcome.detail).toMatch(/^not re-sent: severity still error/);
      expect(h.sim.requests.length).toBe(before);
      expect(h.sim.incidents).toHaveLength(1);
    });

    test('a severity rise re-triggers: a new incident after a person resolved, the same one while open', async () => {
      const summary = burstSummary({ severity: 'warning' });
      await h.send(h.events, 'trigger', summary);
      h.sim.personAcknowledges(summary.dedupKey);
      expect(await h.send(h.events, 'update', { ...summary, severity: 'error' }, 'warning')).toMatchObject({ result: 'updated' });
      expect(h.sim.incidents.map((i) => [i.status, i.severity])).toEqual([['acknowledged', 'error']]);
      h.sim.personResolves(summary.dedupKey);
      expect(await h.send(h.events, 'update', { ...summary, severity: 'critical' }, 'error')).toMatchObject({ result: 'updated' });
      expect(h.sim.incidents.map((i) => [i.status, i.severity])).toEqual([['resolved', 'error'], ['triggered', 'critical']]);
    });

    test('a resolve after a person resolved is accepted and changes nothing', async () => {
      const summary = burstSummary();
      await h.send(h.events, 'trigger', summary);
      h.sim.personResolves(summary.dedupKey);
      expect(await h.send(h.events, 'resolve', summary)).toMatchObject({ result: 'resolved' });
      expect(h.sim.incidents[0].statusChanges.map((c) => c.by)).toEqual(['person:ada@example.com']);
    });

    test('summaries are cut by characters to 1024 and the event stays within 512 KB', async () => {
      const title = `[critical] ${'\u{1F6A8}'.repeat(1500)}`;
      const body = 'x'.repeat(700 * 1024);
      const summary = burstSummary({ title, body, severity: 'critical' });
      expect(await h.send(h.events, 'trigger', summary)).toMatchObject({ result: 'opened' });
      const sent = h.sim.incidents[0].alerts[0].payload as { summary: string; custom_details: { details: string; truncated: string } };
      expect(Array.from(sent.summary)).toHaveLength(1024);
      expect(sent.summary.endsWith('\u{1F6A8}…')).toBe(true);
      expect(sent.custom_details.truncated).toMatch(/512 KB/);
      const recorded = h.sim.requests.find((r) => r.path === '/v2/enqueue')!;
      expect(Buffer.byteLength(JSON.stringify(recorded.body))).toBeLessThanOrEqual(512 * 1024);
    });

    test('an Events 429 with no JSON body is a retryable failure, not a crash', async () => {
      h.sim.setEventsRateLimit(0, 'empty');
      const failure = await h.send(h.events, 'trigger', burstSummary()).catch((error: unknown) => error);
      expect(failure).toMatchObject({ type: 'PagerDutyUnavailable', nonRetryable: false });
    });
  });
});
