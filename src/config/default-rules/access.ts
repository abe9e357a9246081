import { TEN_MINUTES, clause, events, type DefaultRule } from './rule';

const grant = (role: string) => ({ 'evt.name': 'Access Management', 'asset.type': 'role', action: 'modified', 'asset.name': role, 'asset.id': `r-${role.length}` });

const CONTAIN_USER = 'Contain: disable the user (Organization Settings > Users) and revoke their application keys. Restore: undo each change listed in the evidence.';

export const ACCESS_RULES: DefaultRule[] = [
  {
    rule: {
      id: 'role_grant',
      description: 'A role granted to a user, or a role\'s permissions changed',
      enabled: true,
      anyOf: [clause({ 'evt.name': 'Access Management', 'asset.type': 'role', action: 'modified' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }],
      runbook: { text: `Check: which roles went to whom (evidence assets), and whether the actor's session or key is theirs. ${CONTAIN_USER} Remove the roles granted.` },
    },
    tests: [
      { name: 'three grants in ten minutes page at error', events: [events(grant('Billing Admins'), 3)], expect: { pages: true, severity: 'error', count: 3 } },
      { name: 'ten grants page at critical', events: [events(grant('Billing Admins'), 10)], expect: { pages: true, severity: 'critical', count: 10 } },
      { name: 'two grants stay quiet', events: [events(grant('Billing Admins'), 2)], expect: { pages: false } },
      { name: 'a role created or read stays quiet', events: [events({ ...grant('New Role'), action: 'created' }, 5), events({ ...grant('New Role'), action: 'accessed' }, 5)], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'admin_role_grant',
      description: 'The Datadog Admin Role granted (Cloud SIEM def-000-ara)',
      enabled: true,
      anyOf: [clause({ 'evt.name': 'Access Management', 'asset.type': 'role', action: 'modified', 'asset.name': 'Datadog Admin Role' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'critical' }],
      runbook: { text: `Check: who now holds the Datadog Admin Role and whether a change ticket covers it. ${CONTAIN_USER} Remove the role from every user it was granted to.` },
    },
    tests: [
      { name: 'one admin role grant pages at critical', events: [events(grant('Datadog Admin Role'))], expect: { pages: true, severity: 'critical', count: 1 } },
      { name: 'a grant of another role stays quiet', events: [events(grant('Datadog Read Only Role'))], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'user_invite',
      description: 'A user invited or created',
      enabled: true,
      anyOf: [clause({ 'evt.name': 'Access Management', 'asset.type': 'user', action: 'created' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 5, severity: 'warning' }, { count: 20, severity: 'error' }],
      runbook: { text: `Check: the invited addresses (evidence assets) against HR or the identity provider. ${CONTAIN_USER} Disable the invited users that no one expects.` },
    },
    tests: [
      { name: 'five invites page at warning', events: [events({ 'evt.name': 'Access Management', 'asset.type': 'user', action: 'created', 'asset.name': 'new.hire@example.com' }, 5)], expect: { pages: true, severity: 'warning', count: 5 } },
      { name: 'four invites stay quiet', events: [events({ 'evt.name': 'Access Management', 'asset.type': 'user', action: 'created' }, 4)], expect: { pages: false } },
      { name: 'users modified stay quiet', events: [events({ 'evt.name': 'Access Management', 'asset.type': 'user', action: 'modified' }, 10)], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'org_auth_change',
      description: 'Org login methods, SAML or identity provider settings modified',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'identity_provider' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }],
      runbook: { text: 'Check: the login methods and SAML settings now in force (Organization Settings > Login Methods). Contain: restore the previous identity provider settings and disable the actor if the change is not theirs. Restore: re-enable SAML strict mode if it was turned off.' },
    },
    tests: [
      { name: 'a SAML change pages at warning', events: [events({ 'evt.name': 'Organization Management', 'asset.type': 'identity_provider', action: 'modified', 'asset.name': 'SAML' })], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'reading the login methods stays quiet', events: [events({ 'evt.name': 'Organization Management', 'asset.type': 'identity_provider', action: 'accessed' })], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'support_user_write',
      description: 'A Datadog support user created, changed or deleted something in the org',
      enabled: true,
      anyOf: [clause({ 'evt.actor.type': 'SUPPORT_USER', action: ['created', 'modified', 'deleted'] })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }],
      runbook: { text: 'Check: whether a support case asked Datadog support to act in the org. Contain: revoke support access (Organization Settings > Support access). Restore: undo the changes listed in the evidence.' },
    },
    tests: [
      { name: 'a support user modifying a dashboard pages at warning', events: [events({ 'evt.actor.type': 'SUPPORT_USER', 'evt.name': 'Dashboard', 'asset.type': 'dashboard', action: 'modified' }, 1, 'support@datadoghq.com')], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'a support user reading stays quiet', events: [events({ 'evt.actor.type': 'SUPPORT_USER', 'evt.name': 'Dashboard', 'asset.type': 'dashboard', action: 'accessed' }, 5, 'support@datadoghq.com')], expect: { pages: false } },
      { name: 'a system actor changing agent configuration stays quiet', events: [events({ 'evt.actor.type': 'SYSTEM', 'evt.name': 'Fleet Automation', 'asset.type': 'agent_configuration', action: 'modified' }, 5, 'system')], expect: { pages: false } },
    ],
  },
];
