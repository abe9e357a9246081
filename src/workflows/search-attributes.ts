import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/**
 * The custom search attributes each run upserts, so runs can be found with a list filter such as
 * `AuditSpikePaged = true`. They must be registered in the namespace (the dev stack and the compose file do it; a
 * cluster needs `temporal operator search-attribute create`); without them runs still work, unsearchable.
 */
export const AUDIT_SPIKE_ORG = defineSearchAttributeKey('AuditSpikeOrg', SearchAttributeType.KEYWORD);
export const AUDIT_SPIKE_PAGED = defineSearchAttributeKey('AuditSpikePaged', SearchAttributeType.BOOL);
/** The highest severity paged by the run (absent when it paged nothing). */
export const AUDIT_SPIKE_SEVERITY = defineSearchAttributeKey('AuditSpikeSeverity', SearchAttributeType.KEYWORD);
export const AUDIT_SPIKE_EVENTS_READ = defineSearchAttributeKey('AuditSpikeEventsRead', SearchAttributeType.INT);

export const AUDIT_SPIKE_SEARCH_ATTRIBUTES = [AUDIT_SPIKE_ORG, AUDIT_SPIKE_PAGED, AUDIT_SPIKE_SEVERITY, AUDIT_SPIKE_EVENTS_READ] as const;

/** The type names the Temporal CLI takes (`--search-attribute Name=Type`, `search-attribute create --type`). */
const CLI_TYPE: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.INT]: 'Int',
};

export function searchAttributeCliTypes(): Array<{ name: string; type: string }> {
  return AUDIT_SPIKE_SEARCH_ATTRIBUTES.map((key) => ({ name: key.name, type: CLI_TYPE[key.type] }));
}
