import { buildContainmentPlan, planLines, protectedActorReason, responseWorkflowId, ContainmentInputSchema, type PlanContext } from '../../src/response/plan';
import { emptyEvidence, showEvidence } from '../../src/detection/evidence';
import { DEFAULT_ACTOR_FIELDS } from '../../src/config/resolve';
import { parseConfigText } from '../../src/config/load';
import { argsFrom, SERVICE_ACCOUNT_ACTOR_FIELDS } from '../support/settings';

const args = argsFrom('response: { enabled: true }');
const evidence = (assets: Record<string, Array<{ type: string; id?: string; name?: string; count: number }>>) => ({ ...showEvidence(emptyEvidence()), assets });

function context(actor: string, assets: Parameters<typeof evidence>[0], counts: Record<string, number> = {}): PlanContext {
  return {
    summary: {
      orgId: 'acme', actor, dedupKey: 'audit-spike-0123456789abcdef', title: `[critical] ${actor}`, counts, evidence: evidence(assets),
      links: [{ href: 'https://app.datadoghq.com/audit-trail?query=monitor', text: `Audit Trail: monitor_delete by ${actor}` }],
    },
    actorFields: DEFAULT_ACTOR_FIELDS,
    response: args.response!,
    datadog: args.datadog,
    pagerduty: args.pagerduty,
  };
}

describe('the containment plan, built from the evidence (pure)', () => {
  test('a person: disable the user, revoke the keys the burst created, list the rest with links; the input is valid and secret-free', () => {
    const plan = buildContainmentPlan(context('mallory@example.com', {
      api_key_create: [{ type: 'api_key', id: 'k1', name: 'ci', count: 1 }, { type: 'api_key', id: 'k2', count: 1 }],
      app_key_create: [{ type: 'application_key', id: 'a1', count: 1 }],
      monitor_delete: [{ type: 'monitor', id: 'm1', name: 'CPU high', count: 1 }],
    }, { api_key_create: 2, app_key_create: 1, monitor_delete: 1 }))!;
    expect(plan.steps.map((s) => [s.id, s.kind, s.undoable])).toEqual([
      ['disable-user', 'disable_user', true], ['api-key:k1', 'revoke_api_key', false], ['api-key:k2', 'revoke_api_key', false], ['app-key:a1', 'revoke_app_key', false],
    ]);
    expect(plan.steps[0].target).toEqual({ email: 'mallory@example.com' });
    expect(plan.manual).toEqual([{ rule: 'monitor_delete', text: 'monitor_delete: 1 monitor: CPU high (m1); restore by hand if needed', href: 'https://app.datadoghq.com/audit-trail?query=monitor' }]);
    expect(plan.notes).toEqual(['revoked keys cannot come back: whoever relies on them needs new keys']);
    expect(ContainmentInputSchema.safeParse(plan).success).toBe(true);
    expect(JSON.stringify(plan)).not.toMatch(/DD_API_KEY"?:\s*"[^A-Z]/);
    expect(planLines(plan).join('\n')).toContain('[api-key:k1] revoke the API key k1 ("ci") created in the burst (cannot be undone)');
    expect(responseWorkflowId(plan.dedupKey)).toBe('audit-spike-response-audit-spike-0123456789abcdef');
  });

  test('an API key actor is revoked itself; a service account is disabled by id; the unknown actor has no plan', () => {
    expect(buildContainmentPlan(context('api_key:abc', {}))!.steps.map((s) => [s.id, s.target.keyId])).toEqual([['api-key:abc', 'abc']]);
    const sa = { ...context('service_account:sa-1', {}), actorFields: argsFrom(['detection:', ...SERVICE_ACCOUNT_ACTOR_FIELDS].join('\n')).detection.actorFields };
    expect(buildContainmentPlan(sa)!.steps.map((s) => [s.id, s.target])).toEqual([['disable-user', { userId: 'sa-1' }]]);
    expect(buildContainmentPlan(context('unknown', {}))).toBeUndefined();
  });

  test('the evidence caps say so before approval: more keys created than the evidence names', () => {
    const keys = Array.from({ length: 20 }, (_, i) => ({ type: 'api_key', id: `k${i}`, count: 1 }));
    const plan = buildContainmentPlan(context('mallory@example.com', { api_key_create: keys }, { api_key_create: 35 }))!;
    expect(plan.steps).toHaveLength(21);
    expect(plan.notes[0]).toContain('api_key_create: the burst counted 35 events but the evidence names 20 keys');
    expect(plan.notes.join('\n')).not.toContain('(s)');
  });

  test('what cannot be undone is one line per rule, the first few assets named', () => {
    const roles = Array.from({ length: 8 }, (_, i) => ({ type: 'role', id: `r${i}`, name: 'Billing Admins', count: i === 0 ? 2 : 1 }));
    const plan = buildContainmentPlan(context('mallory@example.com', { role_grant: roles }, { role_grant: 9 }))!;
    expect(plan.manual).toEqual([{ rule: 'role_grant', text: 'role_grant: 8 roles: Billing Admins (r0) ×2, Billing Admins (r1), Billing Admins (r2), Billing Admins (r3), Billing Admins (r4) and 3 more; restore by hand if needed' }]);
    expect(plan.steps.map((s) => s.id)).toEqual(['disable-user']);
  });

  test('allowlisted and never-contain actors are protected; others are not', () => {
    expect(protectedActorReason('Terraform@ci.example.com', ['*@ci.example.com'], [])).toBe('actor allowlisted (*@ci.example.com)');
    expect(protectedActorReason('root@example.com', [], ['root@*'])).toContain('never contained');
    expect(protectedActorReason('mallory@example.com', ['*@ci.example.com'], ['root@*'])).toBeUndefined();
  });

  test('config: off by default (no settings in the schedule), validated with actionable messages when on', () => {
    expect(argsFrom('').response).toBeUndefined();
    expect(args.response).toMatchObject({ enabled: true, ttlMs: 86_400_000, webhookSecretEnv: 'PAGERDUTY_WEBHOOK_SECRET', revokeKeysFrom: ['api_key_create', 'app_key_create'] });
    expect(() => parseConfigText('response: { enabled: true, ttl: 1m }', 'c.yaml')).toThrow(/response.ttl.*between 10m and 30d/s);
    expect(() => parseConfigText('response: { enabled: true, revokeKeysFrom: [api_key_creat] }', 'c.yaml')).toThrow(/unknown rule "api_key_creat"/);
    expect(() => parseConfigText('response: { enabled: true, webhookSecretEnv: "not a name" }', 'c.yaml')).toThrow(/response.webhookSecretEnv.*environment variable name/s);
    expect(() => parseConfigText('response: { enable: true }', 'c.yaml')).toThrow(/unknown key "enable" \(did you mean "enabled"\?\)/);
  });
});
