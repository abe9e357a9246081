import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { approveUpdate, planQuery } from '../../src/response/messages';
import { buildContainmentPlan, responseWorkflowId, type ContainmentInput } from '../../src/response/plan';
import { emptyEvidence, showEvidence } from '../../src/detection/evidence';
import type { ContainmentResult } from '../../src/workflows/containment-workflow';
import { ACTIONS, auditEvent } from '../../sim/audit-events';
import { SIM_OWN_API_KEY_ID, SIM_OWN_APP_KEY_ID, SIM_SERVICE_ACCOUNT_EMAIL, datadogUserIdFor } from '../../sim/datadog/org-directory';
import { withStackAndWorker, type Stack } from '../support/stack';

const bin = join(__dirname, '..', '..', 'bin', 'audit-spike.js');

/**
 * Contain on approval (#17), the safety rules on the real dev server, with plans started directly (as the scheduled run
 * starts them): a plan expires and then approves nothing; unknown steps are refused; audit-spike's own identity (the
 * user owning its application key, its API key, its application key) is never acted on, even when a plan names it.
 */
describe('containment safety, on a real Temporal dev server', () => {
  let stack: Stack;
  withStackAndWorker((started) => (stack = started));

  function plan(actor: string, dedupKey: string, assets: Record<string, Array<{ type: string; id: string; count: number }>>, ttlMs: number): ContainmentInput {
    const config = stack.config('response: { enabled: true }', 'safety');
    const input = buildContainmentPlan({
      summary: { orgId: 'safety', actor, dedupKey, title: `[error] ${actor}`, counts: {}, evidence: { ...showEvidence(emptyEvidence()), assets }, links: [] },
      actorFields: config.args.detection.actorFields, response: config.args.response!, datadog: config.args.datadog, pagerduty: config.args.pagerduty,
    })!;
    return { ...input, ttlMs };
  }

  function start(input: ContainmentInput) {
    return stack.client.workflow.start('containmentWorkflow', { taskQueue: 'audit-spike', workflowId: responseWorkflowId(input.dedupKey), args: [input] });
  }

  function respond(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'respond', ...args], { env: { ...process.env, TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  test('an unknown step is refused; an expired plan approves nothing', async () => {
    const eve = { email: 'eve@example.com', name: 'Eve' };
    stack.datadog.addEvents([auditEvent(Date.now() - 60_000, eve, ACTIONS.apiKeyCreate, 'eve-key-event')]);
    const keyId = stack.datadog.apiKeys.find((k) => k.createdBy === datadogUserIdFor('eve@example.com'))!.id;
    const handle = await start(plan('eve@example.com', 'audit-spike-safety000000001', { api_key_create: [{ type: 'api_key', id: keyId, count: 1 }] }, 6_000));
    const unknown = await respond('audit-spike-safety000000001', '--approve', 'disable-usr');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown step(s) disable-usr');
    const result = (await handle.result()) as ContainmentResult;
    expect(result.ended).toBe('expired');
    expect(result.steps.every((s) => s.status === 'proposed')).toBe(true);
    const late = await respond('audit-spike-safety000000001', '--all');
    expect(late.status).toBe(1);
    expect(late.stderr).toContain('the plan ended (expired)');
    expect((await handle.query(planQuery)).state).toBe('expired');
    expect(stack.datadog.users.find((u) => u.email === 'eve@example.com')?.disabled).toBe(false);
    expect(stack.datadog.apiKeys.map((k) => k.id)).toContain(keyId);
  });

  test("audit-spike's own identity and keys are never acted on, even when a plan names them", async () => {
    const input = plan(SIM_SERVICE_ACCOUNT_EMAIL, 'audit-spike-safety000000002', {
      api_key_create: [{ type: 'api_key', id: SIM_OWN_API_KEY_ID, count: 1 }],
      app_key_create: [{ type: 'application_key', id: SIM_OWN_APP_KEY_ID, count: 1 }],
    }, 600_000);
    const handle = await start(input);
    const report = await handle.executeUpdate(approveUpdate, { args: [{ all: true, by: { name: 'tester' }, via: 'cli', at: new Date().toISOString() }] });
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['disable-user', 'refused'], [`api-key:${SIM_OWN_API_KEY_ID}`, 'refused'], [`app-key:${SIM_OWN_APP_KEY_ID}`, 'refused'],
    ]);
    expect(report.steps[0].detail).toContain("audit-spike's own identity");
    expect(report.steps[1].detail).toContain('the key audit-spike itself uses');
    // Nothing changed: the service account is enabled, its keys live, and the API still answers with them.
    expect(stack.datadog.users.find((u) => u.email === SIM_SERVICE_ACCOUNT_EMAIL)?.disabled).toBe(false);
    expect(stack.datadog.apiKeys.map((k) => k.id)).toContain(SIM_OWN_API_KEY_ID);
    expect(stack.datadog.applicationKeys.map((k) => k.id)).toContain(SIM_OWN_APP_KEY_ID);
    expect(stack.datadog.requests.filter((r) => r.method === 'PATCH' || r.method === 'DELETE')).toEqual([]);
    // Refused steps are not approvable again and nothing can be undone: the plan ends, having done nothing.
    expect(((await handle.result()) as ContainmentResult).ended).toBe('nothing done');
    const again = await respond('audit-spike-safety000000002', '--all');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('the plan ended (nothing done)');
  });
});
