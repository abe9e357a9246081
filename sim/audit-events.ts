/** Builders for Datadog audit events shaped exactly as the v2 API returns them (one element of `data[]`). */

export interface AuditEventJson {
  id: string;
  type: 'audit';
  attributes: {
    timestamp: string;
    service: string;
    tags: string[];
    message: string;
    attributes: Record<string, unknown>;
  };
}

export interface Actor {
  email?: string;
  id?: string;
  name?: string;
  /** An API key id, for actions done with a key and no user. */
  apiKeyId?: string;
}

export interface ActionSpec {
  evt: string;
  assetType: string;
  action: string;
  assetName?: string;
  method?: string;
}

/** The sensitive actions the default rules watch, as Datadog records them. */
export const ACTIONS = {
  roleGrant: { evt: 'Access Management', assetType: 'role', action: 'modified', assetName: 'Datadog Admin Role', method: 'PATCH' },
  apiKeyCreate: { evt: 'Authentication', assetType: 'api_key', action: 'created', assetName: 'ci-key', method: 'POST' },
  appKeyCreate: { evt: 'Authentication', assetType: 'application_key', action: 'created', assetName: 'automation', method: 'POST' },
  serviceAccountAppKeyCreate: { evt: 'Access Management', assetType: 'application_key', action: 'created', assetName: 'sa-key', method: 'POST' },
  monitorDelete: { evt: 'Monitor', assetType: 'monitor', action: 'deleted', assetName: 'CPU high', method: 'DELETE' },
  userInvite: { evt: 'Access Management', assetType: 'user', action: 'created', assetName: 'new.hire@example.com', method: 'POST' },
  samlChange: { evt: 'Organization Management', assetType: 'identity_provider', action: 'modified', assetName: 'SAML', method: 'PUT' },
  securityRuleDelete: { evt: 'Security Monitoring', assetType: 'security_rule', action: 'deleted', assetName: 'Impossible travel', method: 'DELETE' },
  pipelineDelete: { evt: 'Log Management', assetType: 'pipeline', action: 'deleted', assetName: 'audit pipeline', method: 'DELETE' },
  auditSettingsDisable: { evt: 'Organization Management', assetType: 'audit_logs_settings', action: 'modified', assetName: 'Audit Trail', method: 'PUT' },
} satisfies Record<string, ActionSpec>;

/** Everyday actions that must never count. */
export const NOISE: ActionSpec[] = [
  { evt: 'Dashboard', assetType: 'dashboard', action: 'accessed', method: 'GET' },
  { evt: 'Dashboard', assetType: 'dashboard', action: 'modified', method: 'PATCH' },
  { evt: 'Dashboard', assetType: 'dashboard', action: 'created', method: 'POST' },
  { evt: 'Monitor', assetType: 'monitor', action: 'modified', method: 'PUT' },
  { evt: 'Monitor', assetType: 'monitor', action: 'created', method: 'POST' },
  { evt: 'Monitor', assetType: 'monitor', action: 'accessed', method: 'GET' },
  { evt: 'Notebook', assetType: 'notebook', action: 'modified', method: 'PUT' },
  { evt: 'Log Management', assetType: 'logs_query', action: 'accessed', method: 'POST' },
  { evt: 'Authentication', assetType: 'user', action: 'login', method: 'POST' },
  { evt: 'Authentication', assetType: 'api_key', action: 'accessed', method: 'GET' },
  { evt: 'Authentication', assetType: 'api_key', action: 'listed', method: 'GET' },
  { evt: 'Access Management', assetType: 'role', action: 'accessed', method: 'GET' },
  { evt: 'Access Management', assetType: 'user', action: 'listed', method: 'GET' },
  { evt: 'Log Management', assetType: 'pipeline', action: 'modified', method: 'PUT' },
];

let counter = 0;

/** A deterministic id unless one is given; Datadog ids are opaque strings. */
export function auditEvent(at: Date | number | string, actor: Actor, action: ActionSpec, id?: string): AuditEventJson {
  const timestamp = new Date(at).toISOString();
  const eventId = id ?? `AQAAAZ${Buffer.from(`${timestamp}|${actor.email ?? actor.id ?? actor.apiKeyId}|${action.assetType}|${action.action}|${counter++}`).toString('base64url')}`;
  const attributes: Record<string, unknown> = {
    evt: { name: action.evt },
    action: action.action,
    asset: { type: action.assetType, id: `${action.assetType}-${(counter * 7919) % 100000}`, name: action.assetName ?? action.assetType },
    http: { method: action.method ?? 'GET', status_code: 200 },
    network: { client: { ip: '203.0.113.5' } },
  };
  if (actor.email || actor.id) attributes.usr = { ...(actor.id ? { id: actor.id } : {}), ...(actor.email ? { email: actor.email } : {}), ...(actor.name ? { name: actor.name } : {}) };
  if (actor.apiKeyId) attributes.metadata = { api_key: { id: actor.apiKeyId } };
  return {
    id: eventId,
    type: 'audit',
    attributes: {
      timestamp,
      service: 'datadog',
      tags: ['source:audit'],
      message: `${actor.email ?? actor.id ?? actor.apiKeyId} ${action.action} ${action.assetType}`,
      attributes,
    },
  };
}

/** `count` events of one action by one actor, evenly spread over [start, start + spanMs]. */
export function burst(actor: Actor, action: ActionSpec, count: number, start: Date | number, spanMs: number): AuditEventJson[] {
  const t0 = new Date(start).getTime();
  return Array.from({ length: count }, (_, i) => auditEvent(t0 + (count === 1 ? 0 : Math.round((spanMs * i) / (count - 1))), actor, action));
}
