import { parseConfigText } from '../../src/config/load';
import type { AuditSpikeArgs } from '../../src/config/args-schema';

/** Resolved args from YAML text, through the same loader users go through. */
export function argsFrom(yaml = ''): AuditSpikeArgs {
  return parseConfigText(yaml, 'test config').args;
}

/** `detection.actorFields` YAML lines: service accounts by id (emails at service.example.com), people by email, then ids and API keys. */
export const SERVICE_ACCOUNT_ACTOR_FIELDS = [
  '  actorFields:',
  '    - { path: usr.id, kind: service_account, when: { usr.email: "*@service.example.com" } }',
  '    - { path: usr.email, kind: email }',
  '    - { path: usr.id, kind: id }',
  '    - { path: metadata.api_key.id, kind: api_key }',
];
