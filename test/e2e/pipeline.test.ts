import { applySchedule } from '../../src/schedule';
import { ACTIONS, NOISE, auditEvent, burst } from '../../sim/audit-events';
import { historyBytes } from '../support/history';
import { triggerAndWait, withStackAndWorker, type Stack } from '../support/stack';

const MIN = 60_000;
const mallory = { id: 'u-bad', email: 'Mallory@Example.com', name: 'Mallory' };
const staff = Array.from({ length: 5 }, (_, i) => ({ id: `u${i}`, email: `user${i}@example.com` }));

function noise(fromMs: number, toMs: number, count: number) {
  return Array.from({ length: count }, (_, i) => auditEvent(fromMs + Math.floor(((toMs - fromMs) * i) / count), staff[i % staff.length], NOISE[i % NOISE.length]));
}

describe('the whole pipeline on a real Temporal dev server', () => {
  let stack: Stack;
  const yaml = 'schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n';

  withStackAndWorker((started) => (stack = started));

  test('a quiet window opens no incident and ends quietly', async () => {
    const now = Date.now();
    // Everyday noise plus near misses: 2 role grants (threshold 3) and one API key each by two people.
    const nearMisses = [
      ...burst(staff[0], ACTIONS.roleGrant, 2, now - 10 * MIN, 2 * MIN),
      ...burst(staff[1], ACTIONS.apiKeyCreate, 1, now - 8 * MIN, 0),
      ...burst(staff[2], ACTIONS.apiKeyCreate, 1, now - 7 * MIN, 0),
    ];
    stack.datadog.addEvents([...noise(now - 14 * MIN, now - MIN, 400), ...nearMisses]);
    const config = stack.config(yaml, 'quiet');
    expect(await applySchedule(stack.client, config)).toBe('created');
    const result = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(result.startedFrom).toBe('lookback');
    expect(result.counts.read).toBe(nearMisses.length);
    expect(result.counts.matched).toBe(nearMisses.length);
    expect(result.incidents).toEqual([]);
    expect(result.report).toContain('quiet');
    expect(stack.pagerduty.incidents).toHaveLength(0);
  });

  test('a burst pages exactly once, at the right severity, with counts and timestamps; the next runs do not re-page', async () => {
    const now = Date.now();
    const start = now - 9 * MIN;
    const grants = burst(mallory, ACTIONS.roleGrant, 11, start, 6 * MIN);
    const keys = burst(mallory, ACTIONS.apiKeyCreate, 3, start + 4 * MIN, 3 * MIN);
    stack.datadog.addEvents([...grants, ...keys, ...noise(now - 14 * MIN, now - MIN, 300)]);
    const config = stack.config(yaml);
    expect(await applySchedule(stack.client, config)).toBe('created');

    const first = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(first.incidents.map((i) => [i.kind, i.actor, i.severity])).toEqual([['trigger', 'mallory@example.com', 'critical']]);

    const incidents = stack.pagerduty.incidents;
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    expect(incident.source).toBe('events');
    expect(incident.severity).toBe('critical');
    expect(incident.alerts).toHaveLength(1);
    const payload = incident.alerts[0].payload as { summary: string; custom_details: Record<string, unknown> };
    expect(payload.summary).toContain('mallory@example.com');
    expect(payload.custom_details).toMatchObject({
      actor: 'mallory@example.com',
      counts: { role_grant: 11, api_key_create: 3 },
      first_seen: new Date(start).toISOString(),
      last_seen: new Date(keys[2].attributes.timestamp).toISOString(),
    });
    expect(incident.assignees.length).toBeGreaterThan(0);

    // What the on-call reads at 3 a.m.: where from, how, which roles and keys, samples of the burst's own events.
    const evidence = payload.custom_details.evidence as { ips: string[]; authMethods: string[]; actorTypes: string[]; assets: Record<string, Array<{ type: string; name?: string }>>; samples: Array<{ id: string; rule: string }> };
    expect(evidence.ips).toEqual(['203.0.113.5']);
    expect(evidence.authMethods).toEqual(['SESSION']);
    expect(evidence.actorTypes).toEqual(['USER']);
    expect(evidence.assets.role_grant.map((a) => [a.type, a.name])).toContainEqual(['role', 'Billing Admins']);
    expect(evidence.assets.api_key_create.map((a) => a.type)).toEqual(['api_key', 'api_key', 'api_key']);
    const burstIds = new Set([...grants, ...keys].map((e) => e.id));
    expect(evidence.samples).toHaveLength(10);
    for (const sample of evidence.samples) expect(burstIds.has(sample.id)).toBe(true);
    expect(evidence.samples[0].id).toBe(grants[0].id);
    // One Audit Trail query per rule crossed, the actor in user management, and the API keys page; in the event's links too.
    const links = payload.custom_details.links as Array<{ href: string; text: string }>;
    expect(links.map((l) => l.text)).toEqual(expect.arrayContaining([
      'Audit Trail: role_grant by mallory@example.com', 'Audit Trail: api_key_create by mallory@example.com',
      'Datadog user management: mallory@example.com', 'Datadog API keys (revoke the keys involved)',
    ]));
    const roleQuery = new URL(links.find((l) => l.text.startsWith('Audit Trail: role_grant'))!.href).searchParams.get('query');
    expect(roleQuery).toContain('@asset.type:role');
    expect(roleQuery).toContain('mallory@example.com');
    expect(incident.alerts[0].links).toEqual(links);
    // The run's result carries the same evidence, for the Temporal UI and for whoever reads the run later.
    expect(first.incidents[0].evidence).toEqual(evidence);

    // New quiet events, then another run: it continues from the first run's cursor and pages no one.
    const requestsBefore = stack.pagerduty.requests.length;
    stack.datadog.addEvents(noise(Date.now() - 30_000, Date.now() - 6_000, 50));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(second.startedFrom).toBe('previous-run');
    expect(Date.parse(second.window.from)).toBe(first.cursor);
    expect(second.incidents).toEqual([]);
    expect(stack.pagerduty.requests.length).toBe(requestsBefore);
    expect(stack.pagerduty.incidents).toHaveLength(1);
  });

  test('malformed events are skipped and counted; an event without an actor counts under the unknown actor', async () => {
    const now = Date.now();
    const good = auditEvent(now - 3 * MIN, staff[3], ACTIONS.roleGrant, 'good-role-grant');
    const noActor = auditEvent(now - 3 * MIN, {}, ACTIONS.apiKeyCreate, 'no-actor');
    const badTimestamp = { ...auditEvent(now - 3 * MIN, staff[4], ACTIONS.roleGrant, 'bad-ts'), attributes: { ...good.attributes, timestamp: 'not a date' } };
    const weird = { id: 'weird', type: 'audit', attributes: { timestamp: new Date(now - 3 * MIN).toISOString(), attributes: { action: 'created', asset: { type: 'api_key' }, usr: 42 } } };
    stack.datadog.clear();
    stack.datadog.addEvents([good, noActor, weird]);
    // The simulator indexes an event without a usable timestamp at intake time: a few minutes ago, so this run gets it.
    stack.datadog.addEvents([badTimestamp], { visibleAfterMs: -3 * MIN });
    const config = stack.config(yaml, 'malformed');
    await applySchedule(stack.client, config);
    const result = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(result.counts).toMatchObject({ read: 4, matched: 3, skipped: 1, unknownActor: 2 });
    expect(result.incidents).toEqual([]);
  });

  test('no workflow history holds a Datadog key or a PagerDuty secret', async () => {
    const secrets = Object.values(stack.workerEnv);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    let histories = 0;
    for await (const workflow of stack.client.workflow.list()) {
      const bytes = await historyBytes(stack.client.workflow.getHandle(workflow.workflowId, workflow.runId));
      // The search works: the workflow type, which the history does carry, is found.
      expect(bytes.includes('auditSpikeWorkflow')).toBe(true);
      for (const secret of secrets) expect(bytes.includes(secret) ? `${workflow.workflowId} holds ${secret.slice(0, 4)}…` : 'clean').toBe('clean');
      histories++;
    }
    expect(histories).toBeGreaterThanOrEqual(4);
  });
});
