import { TEN_MINUTES, clause, events, type DefaultRule } from './rule';

const REVOKE = 'Contain: revoke the keys (Organization Settings > API Keys / Application Keys) and disable the actor if the keys are not theirs. Restore: issue new keys to the services that need them.';

export const KEY_RULES: DefaultRule[] = [
  {
    rule: {
      id: 'api_key_create',
      description: 'An API key created',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'api_key', action: 'created' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }],
      runbook: { text: `Check: the keys minted (evidence assets), from which IP and client. ${REVOKE}` },
    },
    tests: [
      { name: 'three keys page at error', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'api_key', action: 'created', 'asset.name': 'ci-key' }, 3)], expect: { pages: true, severity: 'error', count: 3 } },
      { name: 'two keys stay quiet', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'api_key', action: 'created' }, 2)], expect: { pages: false } },
      { name: 'keys listed or read stay quiet', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'api_key', action: 'listed' }, 5), events({ 'evt.name': 'Authentication', 'asset.type': 'api_key', action: 'accessed' }, 5)], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'app_key_create',
      description: 'An application key created (personal or service account)',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'application_key', action: 'created' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 3, severity: 'error' }, { count: 10, severity: 'critical' }],
      runbook: { text: `Check: the application keys minted and whose permissions they carry. ${REVOKE}` },
    },
    tests: [
      { name: 'three application keys page at error', events: [events({ 'evt.name': 'Access Management', 'asset.type': 'application_key', action: 'created' }, 3)], expect: { pages: true, severity: 'error', count: 3 } },
      { name: 'two application keys stay quiet', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'application_key', action: 'created' }, 2)], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'api_key_delete',
      description: 'API keys deleted in bulk (an attacker cutting off the org\'s telemetry, or covering tracks)',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'api_key', action: 'deleted' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 5, severity: 'error' }, { count: 20, severity: 'critical' }],
      runbook: { text: 'Check: which keys are gone (evidence assets) and which agents or integrations stopped reporting. Contain: disable the actor. Restore: create replacement keys and roll them out to the agents and integrations that used the deleted ones.' },
    },
    tests: [
      { name: 'five deletions page at error', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'api_key', action: 'deleted' }, 5)], expect: { pages: true, severity: 'error', count: 5 } },
      { name: 'twenty deletions page at critical', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'api_key', action: 'deleted' }, 20, 'api_key:k-stolen')], expect: { pages: true, severity: 'critical', count: 20 } },
      { name: 'four deletions stay quiet', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'api_key', action: 'deleted' }, 4)], expect: { pages: false } },
    ],
  },
];
