import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applySchedule } from '../../src/schedule';
import { planQuery, type PlanView } from '../../src/response/messages';
import { responseWorkflowId } from '../../src/response/plan';
import { incidentKeySources, lookupIncident } from '../../src/webhooks/incident-key';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/webhooks/receiver';
import { ACTIONS, burst } from '../../sim/audit-events';
import { SIM_OWN_API_KEY_ID, SIM_OWN_APP_KEY_ID, datadogUserIdFor } from '../../sim/datadog/org-directory';
import { historyBytes } from '../support/history';
import { triggerAndWait, withStackAndWorker, type Stack } from '../support/stack';

const MIN = 60_000;
const bin = join(__dirname, '..', '..', 'bin', 'audit-spike.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ACTION = 'Contain with audit-spike';
const YAML = [
  'schedule:', '  ingestionDelay: 5s', '  lookback: 15m',
  'pagerduty:', '  mode: rest', '  serviceId: PSEC001', '  escalationPolicyId: PSECEP1', '  fromEmail: audit-spike@example.com',
  'response:', '  enabled: true', '  ttl: 1h',
].join('\n');

/**
 * Contain on approval (#17) end to end: a burst pages; its response workflow holds the plan and does nothing; a forged,
 * an unsigned and a stale webhook are refused; the signed PagerDuty action approves it; the user is disabled and the
 * keys minted in the burst are gone in the Datadog simulator; `audit-spike respond --undo` re-enables the user.
 */
describe('contain on approval, on a real Temporal dev server', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let secret = '';
  withStackAndWorker((started) => (stack = started));

  /** Events mode: the receiver finds an incident's key with the response section's REST token and URL. */
  const eventsYaml = () => ['schedule:', '  ingestionDelay: 5s', '  lookback: 15m', 'response:', '  enabled: true', `  pagerdutyApiUrl: ${stack.pagerduty.httpUrl}`].join('\n');

  beforeAll(async () => {
    const configs = [stack.config(YAML, 'contain'), stack.config(eventsYaml(), 'contain-events')];
    receiver = await startWebhookReceiver({
      client: stack.client,
      secrets: () => [secret],
      toleranceMs: 5 * MIN,
      approveActions: [ACTION],
      incident: (incidentId) => lookupIncident(incidentKeySources(configs), stack.workerEnv, incidentId),
      log: () => undefined,
    });
    secret = stack.pagerduty.addWebhookSubscription(`${receiver.url}/pagerduty`).secret;
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  async function planOf(dedupKey: string, until: (plan: PlanView) => boolean = () => true, timeoutMs = 30_000): Promise<PlanView> {
    const deadline = Date.now() + timeoutMs;
    let last: PlanView | undefined;
    while (Date.now() < deadline) {
      try {
        last = await stack.client.workflow.getHandle(responseWorkflowId(dedupKey)).query(planQuery);
        if (until(last)) return last;
      } catch {
        // not started yet
      }
      await sleep(200);
    }
    throw new Error(`the plan of ${dedupKey} did not get there in time; last: ${JSON.stringify(last)}`);
  }

  async function until<T>(read: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = read();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('timed out');
      await sleep(200);
    }
  }

  /** The CLI in a child process, awaited without blocking this process (the worker answering its query runs here). */
  function respond(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return respondWith({}, ...args);
  }

  function respondWith(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'respond', ...args], { env: { ...process.env, ...env, TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('error', reject);
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  test('a burst pages; the plan waits; forged, unsigned and stale webhooks are refused; the signed action contains; undo re-enables the user', async () => {
    const mallory = { id: 'u-mal', email: 'Mallory@Example.com', name: 'Mallory' };
    const now = Date.now();
    const start = now - 9 * MIN;
    const apiKeys = burst(mallory, ACTIONS.apiKeyCreate, 3, start + MIN, 2 * MIN);
    const appKeys = burst(mallory, ACTIONS.appKeyCreate, 3, start + 2 * MIN, 2 * MIN);
    stack.datadog.addEvents([...burst(mallory, ACTIONS.roleGrant, 11, start, 6 * MIN), ...apiKeys, ...appKeys, ...burst(mallory, ACTIONS.monitorDelete, 1, start + 3 * MIN, 0)]);
    const apiKeyIds = apiKeys.map((e) => (e.attributes.attributes.asset as { id: string }).id);
    const appKeyIds = appKeys.map((e) => (e.attributes.attributes.asset as { id: string }).id);
    const malloryId = datadogUserIdFor('mallory@example.com');
    // The simulator learned the actor and the keys from the Audit Trail: they are live before anything happens.
    expect(stack.datadog.apiKeys.map((k) => k.id)).toEqual(expect.arrayContaining(apiKeyIds));
    expect(stack.datadog.applicationKeys.map((k) => k.id)).toEqual(expect.arrayContaining(appKeyIds));

    const config = stack.config(YAML, 'contain');
    await applySchedule(stack.client, config);
    const run = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(run.incidents.map((i) => [i.kind, i.actor, i.outcome?.result])).toEqual([['trigger', 'mallory@example.com', 'opened']]);
    const { dedupKey } = run.incidents[0];
    const incidentId = run.incidents[0].outcome!.incidentId!;
    expect(incidentId).toBeTruthy();

    // The plan, built from the evidence, waits for a person; nothing was done.
    const plan = await planOf(dedupKey);
    expect(plan.state).toBe('awaiting approval');
    expect(plan.steps.map((s) => s.id).sort()).toEqual(['disable-user', ...apiKeyIds.map((id) => `api-key:${id}`), ...appKeyIds.map((id) => `app-key:${id}`)].sort());
    expect(plan.steps.every((s) => s.status === 'proposed')).toBe(true);
    expect(plan.steps.filter((s) => !s.undoable).map((s) => s.text).join('\n')).toContain('cannot be undone');
    expect(plan.notes.join('\n')).toContain('revoked keys cannot come back');
    expect(plan.manual.map((m) => m.rule)).toEqual(expect.arrayContaining(['monitor_delete', 'role_grant']));
    expect(plan.manual.find((m) => m.rule === 'monitor_delete')?.href).toContain('/audit-trail?query=');
    expect(stack.datadog.users.find((u) => u.id === malloryId)?.disabled).toBe(false);
    const shown = await respond(dedupKey);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('awaiting approval');
    expect(shown.stdout).toContain('[disable-user] proposed');
    // The on-call may name the PagerDuty incident instead: the config's token finds its key.
    const configFile = join(stack.dir, 'contain.yaml');
    writeFileSync(configFile, `org: contain\n${YAML.replace('  mode: rest', `  mode: rest\n  apiUrl: ${stack.pagerduty.httpUrl}`)}\n`);
    const noToken = await respond(incidentId, '--config', configFile);
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toContain('PAGERDUTY_API_TOKEN is not set');
    const byIncident = await respondWith({ PAGERDUTY_API_TOKEN: stack.workerEnv.PAGERDUTY_API_TOKEN }, incidentId, '--config', configFile, '--json');
    expect(byIncident.stderr).toBe('');
    expect(JSON.parse(byIncident.stdout)).toMatchObject({ dedupKey, incidentId, state: 'awaiting approval' });

    // A forged signature, an unsigned request and a stale (replayed) webhook approve nothing.
    stack.pagerduty.forgeWebhookSignatures(1);
    const [forged] = await stack.pagerduty.fireCustomIncidentAction(incidentId, ACTION, 'ada@example.com');
    expect(forged.forged).toBe(true);
    expect(forged.status).toBe(401);
    const unsigned = await fetch(`${receiver.url}/pagerduty`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: forged.body });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: string }).error).toBe('unsigned');
    const [stale] = await stack.pagerduty.fireCustomIncidentAction(incidentId, ACTION, 'ada@example.com', { occurredAt: new Date(Date.now() - 60 * MIN) });
    expect(stale.status).toBe(401);
    expect(stale.body).toContain('incident.workflow.started');
    // Another action on the incident is acknowledged and ignored.
    const [other] = await stack.pagerduty.fireCustomIncidentAction(incidentId, 'Page the DBA', 'ada@example.com');
    expect(other.status).toBe(200);
    expect((await planOf(dedupKey)).steps.every((s) => s.status === 'proposed')).toBe(true);
    expect(stack.datadog.users.find((u) => u.id === malloryId)?.disabled).toBe(false);

    // The on-call runs the action in PagerDuty: the signed webhook approves the whole plan.
    const [approved] = await stack.pagerduty.fireCustomIncidentAction(incidentId, ACTION, 'ada@example.com');
    expect([200, 202]).toContain(approved.status);
    const contained = await planOf(dedupKey, (p) => p.steps.every((s) => s.status === 'done'));
    expect(contained.steps.map((s) => s.approvedBy)).toEqual(contained.steps.map(() => 'Ada Secure (PUSR001)'));
    expect(contained.approvals).toEqual([expect.objectContaining({ kind: 'approve', via: 'pagerduty', by: { name: 'Ada Secure', id: 'PUSR001' } })]);
    // In the simulator: the user is disabled, the keys minted in the burst are gone, audit-spike's own keys are not.
    expect(stack.datadog.users.find((u) => u.id === malloryId)?.disabled).toBe(true);
    const liveApiKeys = stack.datadog.apiKeys.map((k) => k.id);
    const liveAppKeys = stack.datadog.applicationKeys.map((k) => k.id);
    for (const id of apiKeyIds) expect(liveApiKeys).not.toContain(id);
    for (const id of appKeyIds) expect(liveAppKeys).not.toContain(id);
    expect(liveApiKeys).toContain(SIM_OWN_API_KEY_ID);
    expect(liveAppKeys).toContain(SIM_OWN_APP_KEY_ID);
    // Each step acted exactly once (one PATCH of the user, one DELETE per key).
    const writes = stack.datadog.requests.filter((r) => r.method === 'PATCH' || r.method === 'DELETE');
    expect(writes.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(writes.filter((r) => r.method === 'DELETE').map((r) => r.path).sort()).toEqual([
      ...apiKeyIds.map((id) => `/api/v2/api_keys/${id}`), ...appKeyIds.map((id) => `/api/v2/application_keys/${id}`),
    ].sort());
    // Who approved, and when, is on the PagerDuty incident.
    const note = await until(() => stack.pagerduty.incidents.find((i) => i.id === incidentId)!.notes.map((n) => n.content).find((c) => c.includes('containment approved by')));
    expect(note).toContain('Ada Secure (PUSR001) via pagerduty');
    expect(note).toContain('[disable-user] done');

    // PagerDuty delivers at least once: the same delivery again (same X-Webhook-Id) is answered as before and does nothing.
    const redelivered = await fetch(`${receiver.url}/pagerduty`, { method: 'POST', headers: approved.headers, body: approved.body });
    expect(redelivered.status).toBe(approved.status);
    expect(((await redelivered.json()) as { duplicate?: boolean }).duplicate).toBe(true);
    expect(stack.datadog.requests.filter((r) => r.method === 'PATCH' || r.method === 'DELETE')).toHaveLength(writes.length);

    // Approving again is refused: nothing is left to approve.
    const [again] = await stack.pagerduty.fireCustomIncidentAction(incidentId, ACTION, 'bo@example.com');
    expect(again.status).toBe(409);

    // Undo from the CLI re-enables the user; the keys stay revoked.
    const undo = await respond(dedupKey, '--undo', '--by', 'oncall@example.com');
    expect(undo.stderr).toBe('');
    expect(undo.status).toBe(0);
    expect(undo.stdout).toContain('Undone by oncall@example.com');
    expect(undo.stdout).toContain('re-enabled');
    expect(stack.datadog.users.find((u) => u.id === malloryId)?.disabled).toBe(false);
    expect(stack.datadog.apiKeys.map((k) => k.id)).not.toContain(apiKeyIds[0]);
    const undone = await planOf(dedupKey);
    expect(undone.steps.find((s) => s.id === 'disable-user')).toMatchObject({ status: 'undone', undoneBy: 'oncall@example.com' });
    expect(stack.pagerduty.incidents.find((i) => i.id === incidentId)!.notes.map((n) => n.content).join('\n')).toContain('containment undone by oncall@example.com via cli');

    // The response workflow's history holds no secret.
    const bytes = await historyBytes(stack.client.workflow.getHandle(responseWorkflowId(dedupKey)));
    expect(bytes.includes('containmentWorkflow')).toBe(true);
    for (const value of [...Object.values(stack.workerEnv), secret]) expect(bytes.includes(value) ? `holds ${value.slice(0, 4)}…` : 'clean').toBe('clean');
  });

  test('Events mode: approved from the PagerDuty action, contained; the Events API has no notes, and the plan says so', async () => {
    const trent = { id: 'u-trent', email: 'trent@example.com', name: 'Trent' };
    stack.datadog.addEvents(burst(trent, ACTIONS.appKeyCreate, 3, Date.now() - 7 * MIN, 3 * MIN));
    const config = stack.config(eventsYaml(), 'contain-events');
    await applySchedule(stack.client, config);
    const run = await triggerAndWait(stack.client, config.schedule.scheduleId);
    const paged = run.incidents.find((i) => i.actor === 'trent@example.com')!;
    expect(paged.outcome?.result).toBe('opened');
    const incident = stack.pagerduty.incidents.find((i) => i.dedupKey === paged.dedupKey)!;
    expect((await planOf(paged.dedupKey)).steps.map((s) => s.id)[0]).toBe('disable-user');
    const [approved] = await stack.pagerduty.fireCustomIncidentAction(incident.id, ACTION, 'bo@example.com');
    expect([200, 202]).toContain(approved.status);
    const done = await planOf(paged.dedupKey, (p) => p.steps.every((s) => s.status === 'done') && p.approvals[0]?.note !== undefined);
    expect(done.incidentId).toBe(incident.id);
    expect(done.approvals[0]).toMatchObject({ by: { name: 'Bo Backup', id: 'PUSR002' }, note: expect.stringContaining('Events API has no notes') });
    expect(stack.datadog.users.find((u) => u.id === datadogUserIdFor('trent@example.com'))?.disabled).toBe(true);
    expect(stack.pagerduty.incidents.find((i) => i.id === incident.id)!.notes).toEqual([]);
  });

  test('Events mode: a person resolved the incident, which the scheduled runs cannot see; the approval asks PagerDuty and is refused', async () => {
    const oscar = { id: 'u-oscar', email: 'oscar@example.com', name: 'Oscar' };
    stack.datadog.addEvents(burst(oscar, ACTIONS.apiKeyCreate, 3, Date.now() - 7 * MIN, 3 * MIN));
    const config = stack.config(eventsYaml(), 'contain-events-resolved');
    await applySchedule(stack.client, config);
    const run = await triggerAndWait(stack.client, config.schedule.scheduleId);
    const paged = run.incidents.find((i) => i.actor === 'oscar@example.com')!;
    expect(paged.outcome?.result).toBe('opened');
    const incident = stack.pagerduty.personResolves(paged.dedupKey);
    const [refused] = await stack.pagerduty.fireCustomIncidentAction(incident.id, ACTION, 'bo@example.com');
    expect(refused.status).toBe(409);
    const plan = await planOf(paged.dedupKey, (p) => p.resolvedByPerson !== undefined);
    expect(plan.state).toBe('resolved by a person');
    expect(plan.steps.every((s) => s.status !== 'done')).toBe(true);
    expect(stack.datadog.users.find((u) => u.id === datadogUserIdFor('oscar@example.com'))?.disabled).not.toBe(true);
  });

  test('a plan whose incident a person resolved cannot be approved', async () => {
    const eve = { id: 'u-eve', email: 'eve@example.com', name: 'Eve' };
    const now = Date.now();
    stack.datadog.addEvents(burst(eve, ACTIONS.apiKeyCreate, 4, now - 8 * MIN, 3 * MIN));
    const config = stack.config(YAML, 'contain-resolved');
    await applySchedule(stack.client, config);
    const first = await triggerAndWait(stack.client, config.schedule.scheduleId);
    const eveIncident = first.incidents.find((i) => i.actor === 'eve@example.com')!;
    expect(eveIncident.outcome?.result).toBe('opened');
    await planOf(eveIncident.dedupKey);
    // The burst goes on; a person resolves the incident; the next run sees it and tells the plan.
    stack.pagerduty.personResolves(eveIncident.dedupKey);
    stack.datadog.addEvents(burst(eve, ACTIONS.apiKeyCreate, 1, Date.now() - 20_000, 0));
    await sleep(1_100);
    const second = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(second.incidents.find((i) => i.actor === 'eve@example.com')?.outcome?.detail).toContain('resolved in PagerDuty by a person');
    const plan = await planOf(eveIncident.dedupKey, (p) => p.resolvedByPerson !== undefined);
    expect(plan.state).toBe('resolved by a person');
    const refused = await respond(eveIncident.dedupKey, '--all');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('resolved in PagerDuty by a person');
    expect(stack.datadog.users.find((u) => u.id === datadogUserIdFor('eve@example.com'))?.disabled).toBe(false);
  });
});
