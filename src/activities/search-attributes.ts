import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { searchAttributeCliTypes } from '../workflows/search-attributes';

export interface SearchAttributeCheck {
  /** True when every AuditSpike* search attribute is registered with the right type: the run may upsert them. */
  available: boolean;
  missing: string[];
}

const INDEXED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/** What to run to register them, for the message a worker prints once. */
export function registrationCommands(namespace: string, missing: string[]): string {
  return searchAttributeCliTypes()
    .filter((attribute) => missing.includes(attribute.name))
    .map((attribute) => `temporal operator search-attribute create --namespace ${namespace} --name ${attribute.name} --type ${attribute.type}`)
    .join('\n');
}

/** The AuditSpike* search attributes the namespace lacks (or holds with another type), by name. */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const response = await client.connection.operatorService.listSearchAttributes({ namespace });
  const registered = response.customAttributes ?? {};
  return searchAttributeCliTypes().filter((attribute) => registered[attribute.name] !== INDEXED_TYPE[attribute.type]).map((attribute) => attribute.name);
}

/**
 * Asks the namespace once per worker (per namespace) whether the search attributes exist; an upsert of an unknown one
 * would fail every workflow task, so a namespace without them gets unsearchable runs and one warning, not failed runs.
 */
export function createCheckSearchAttributes(deps: { temporalClient?: Client; warn?: (message: string) => void }) {
  const checked = new Map<string, Promise<SearchAttributeCheck>>();
  const warn = deps.warn ?? ((message: string) => console.error(message));
  async function ask(namespace: string): Promise<SearchAttributeCheck> {
    const expected = searchAttributeCliTypes();
    const client = deps.temporalClient;
    if (!client) {
      warn('audit-spike worker: no Temporal client to check the AuditSpike* search attributes; runs will not be searchable by them.');
      return { available: false, missing: expected.map((attribute) => attribute.name) };
    }
    const missing = await missingSearchAttributes(client, namespace);
    if (missing.length) {
      warn(
        `audit-spike worker: namespace "${namespace}" lacks the search attributes ${missing.join(', ')}; runs work but cannot be ` +
          `filtered by them (e.g. AuditSpikePaged = true). Register them with:\n${registrationCommands(namespace, missing)}`,
      );
    }
    return { available: missing.length === 0, missing };
  }
  return async function checkSearchAttributes(): Promise<SearchAttributeCheck> {
    const namespace = Context.current().info.workflowNamespace ?? 'default';
    let found = checked.get(namespace);
    if (!found) {
      found = ask(namespace);
      checked.set(namespace, found);
      // A failed lookup (server briefly away) is asked again next time rather than cached.
      found.catch(() => checked.delete(namespace));
    }
    return found;
  };
}
