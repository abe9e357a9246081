import { dryRunEvents } from '../../src/replay/dry-run';
import type { AuditEventLike } from '../../src/detection/types';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-30T10:20:00.000Z');
const SEC = 1000;
const ROLES = ['Billing Admins', 'Org Owners', 'Support Leads', 'Billing Admins', 'Org Owners', 'Billing Admins'];

/** Mallory, from one address with one client, grants roles and mints keys; a colleague works as usual from elsewhere. */
function burst(): AuditEventLike[] {
  const usr = { email: 'Mallory@Example.com', id: 'u-mallory', name: 'Mallory' };
  const common = { usr, network: { client: { ip: '203.0.113.77' } }, http: { useragent: 'python-requests/2.31.0' }, auth_method: 'SESSION', evt: { name: 'Access Management', actor: { type: 'USER' } } };
  const grants = ROLES.map((role, i): AuditEventLike => ({
    id: `AQAA-grant-${i}`, type: 'audit',
    attributes: { timestamp: new Date(T0 + i * 30 * SEC).toISOString(), message: `Mallory added grantee${i}@example.com to role ${role}`,
      attributes: { ...common, action: 'modified', asset: { type: 'role', id: `r-${role.replace(/\W/g, '').toLowerCase()}`, name: role } } },
  }));
  const keys = [0, 1, 2].map((i): AuditEventLike => ({
    id: `AQAA-key-${i}`, type: 'audit',
    attributes: { timestamp: new Date(T0 + 200 * SEC + i * 20 * SEC).toISOString(), message: `Mallory created API key exfil-${i}`,
      attributes: { ...common, evt: { name: 'Authentication', actor: { type: 'USER' } }, action: 'created', asset: { type: 'api_key', id: `k-${i}`, name: `exfil-${i}` } } },
  }));
  const colleague: AuditEventLike = {
    id: 'AQAA-other', type: 'audit',
    attributes: { timestamp: new Date(T0 + 60 * SEC).toISOString(), message: 'Ana created API key ci',
      attributes: { usr: { email: 'ana@example.com' }, network: { client: { ip: '198.51.100.1' } }, action: 'created', asset: { type: 'api_key', id: 'k-ana', name: 'ci' } } },
  };
  return [...grants, colleague, ...keys];
}

test('the dry-run JSON of a burst of role grants and key creations from one IP shows that IP, the role names and the burst\'s own samples', () => {
  const output = JSON.parse(JSON.stringify(dryRunEvents(burst(), 0, argsFrom(''))));
  expect(output.incidents).toHaveLength(1);
  const [incident] = output.incidents;
  expect(Object.keys(incident)).toEqual(['actor', 'severity', 'rules', 'counts', 'firstSeen', 'lastSeen', 'dedupKey', 'title', 'evidence']);
  expect(incident).toMatchObject({ actor: 'mallory@example.com', severity: 'error', rules: ['role_grant', 'api_key_create'], counts: { role_grant: 6, api_key_create: 3 } });
  const { evidence } = incident;
  expect(Object.keys(evidence)).toEqual(['ips', 'userAgents', 'authMethods', 'actorTypes', 'assets', 'samples']);
  expect(evidence.ips).toEqual(['203.0.113.77']);
  expect(evidence.userAgents).toEqual(['python-requests/2.31.0']);
  expect(evidence.authMethods).toEqual(['SESSION']);
  expect(evidence.actorTypes).toEqual(['USER']);
  expect(evidence.assets.role_grant).toEqual([
    { type: 'role', id: 'r-billingadmins', name: 'Billing Admins', count: 3 },
    { type: 'role', id: 'r-orgowners', name: 'Org Owners', count: 2 },
    { type: 'role', id: 'r-supportleads', name: 'Support Leads', count: 1 },
  ]);
  expect(evidence.assets.api_key_create.map((a: { name: string }) => a.name)).toEqual(['exfil-0', 'exfil-1', 'exfil-2']);
  expect(evidence.samples).toHaveLength(9);
  expect(evidence.samples[0]).toEqual({ id: 'AQAA-grant-0', timestamp: '2026-11-30T10:20:00.000Z', rule: 'role_grant', message: 'Mallory added grantee0@example.com to role Billing Admins' });
  expect(evidence.samples.map((s: { id: string }) => s.id)).toEqual([...ROLES.map((_, i) => `AQAA-grant-${i}`), 'AQAA-key-0', 'AQAA-key-1', 'AQAA-key-2']);
  expect(JSON.stringify(evidence)).not.toMatch(/198\.51\.100\.1|AQAA-other|k-ana/);
});
