import type { RuleSpec } from '../detection/types';

const TEN_MINUTES = 10 * 60_000;

function clause(conditions: Record<string, string | string[]>) {
  return { all: Object.entries(conditions).map(([path, value]) => ({ path, values: Array.isArray(value) ? value : [value] })) };
}

/** The default catalog (stable ids), matching the terms of Datadog's Audit Trail events reference. */
export const DEFAULT_RULES: RuleSpec[] = [
  {
    id: 'role_grant',
    description: 'A role granted to a user, or a role\'s permissions changed',
    enabled: true,
    anyOf: [clause({ 'evt.name': 'Access Management', 'asset.type': 'role', action: 'modified' })],
    windowMs: TEN_MINUTES,
    tiers: [{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }],
  },
  {
    id: 'api_key_create',
    description: 'An API key created',
    enabled: true,
    anyOf: [clause({ 'asset.type': 'api_key', action: 'created' })],
    windowMs: TEN_MINUTES,
    tiers: [{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }],
  },
  {
    id: 'app_key_create',
    description: 'An application key created (personal or service account)',
    enabled: true,
    anyOf: [clause({ 'asset.type': 'application_key', action: 'created' })],
    windowMs: TEN_MINUTES,
    tiers: [{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }],
  },
  {
    id: 'monitor_delete',
    description: 'A monitor deleted',
    enabled: true,
    anyOf: [clause({ 'evt.name': 'Monitor', 'asset.type': 'monitor', action: 'deleted' })],
    windowMs: TEN_MINUTES,
    tiers: [{ count: 1, severity: 'warning' }, { count: 5, severity: 'error' }, { count: 20, severity: 'critical' }],
  },
  {
    id: 'user_invite',
    description: 'A user invited or created',
    enabled: true,
    anyOf: [clause({ 'evt.name': 'Access Management', 'asset.type': 'user', action: 'created' })],
    windowMs: TEN_MINUTES,
    tiers: [{ count: 5, severity: 'warning' }, { count: 20, severity: 'error' }],
  },
  {
    id: 'org_auth_change',
    description: 'Org login methods, SAML or identity provider settings modified',
    enabled: true,
    anyOf: [clause({ 'asset.type': 'identity_provider' })],
    windowMs: TEN_MINUTES,
    tiers: [{ count: 1, severity: 'warning' }],
  },
  {
    id: 'audit_defense_evasion',
    description: 'A detection rule, log pipeline, archive or audit trail setting deleted or disabled',
    enabled: true,
    anyOf: [
      clause({ 'asset.type': 'security_rule', action: 'deleted' }),
      clause({ 'asset.type': ['pipeline', 'archive'], action: 'deleted' }),
      clause({ 'asset.type': 'audit_logs_settings', action: 'modified' }),
    ],
    windowMs: TEN_MINUTES,
    tiers: [{ count: 1, severity: 'error' }],
  },
];
