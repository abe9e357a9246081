import { parseConfigText } from '../../src/config/load';
import type { AuditSpikeArgs } from '../../src/config/args-schema';

/** Resolved args from YAML text, through the same loader users go through. */
export function argsFrom(yaml = ''): AuditSpikeArgs {
  return parseConfigText(yaml, 'test config').args;
}
