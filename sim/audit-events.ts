import { createHash } from 'node:crypto';

/**
 * Builders for Datadog audit events shaped as the v2 API returns them (one element of `data[]`), following the genuine
 * recordings in DataDog/datadog-api-client-typescript cassettes/v2/Audit_2643932488/*\/recording.har @ a6d1742 (see
 * test/contracts/fixtures/datadog-audit-cassettes.ts): no outer `service`, `tags: ["source:audit"]`, an outer timestamp
 * in milliseconds with `Z`, an inner `timestamp` in microseconds with no zone, `http.status_code` as a string,
 * `usr.uuid`, `org.uuid`, `evt.actor.type`, and ids that carry the event's epoch ms in bytes 3-8.
 */

export interface AuditEventJson {
  id: string;
  type: 'audit';
  attributes: {
    timestamp: string;
    /** In the schema (AuditLogsEventAttributes) but in no recorded audit event; the builders leave it out. */
    service?: string;
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
  /**
   * Done with an API + application key rather than a session: Datadog then records `usr.email` as the user's UUID and
   * `usr.id` as the email (the design's "Datadog facts"; the recorded agent event has `usr.email` = `usr.id` = a UUID).
   */
  viaKeys?: boolean;
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
  roleGrant: { evt: 'Access Management', assetType: 'role', action: 'modified', assetName: 'Billing Admins', method: 'PATCH' },
  adminRoleGrant: { evt: 'Access Management', assetType: 'role', action: 'modified', assetName: 'Datadog Admin Role', method: 'PATCH' },
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

/** The org every generated event belongs to (the recordings' `org.uuid` is a v1 UUID like this one). */
export const SIM_ORG_UUID = '8dee7c38-00cb-11ea-a77b-8b5a08d3b091';

let counter = 0;

/** A stable UUID for a name, so the same person has the same `usr.uuid` on every event. */
export function uuidFor(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** 41 bytes, unpadded base64url (55 characters) as Datadog's: bytes 3-8 hold the epoch ms big-endian, the rest is opaque. */
export function auditEventId(epochMs: number, seed: string): string {
  const bytes = Buffer.alloc(41);
  bytes[0] = 1;
  bytes.writeUIntBE(epochMs, 3, 6);
  createHash('sha256').update(seed).digest().copy(bytes, 9, 0, 32);
  return bytes.toString('base64url');
}

/** `2022-04-13T09:21:13.750000`: the inner timestamp of request events, microseconds and no zone (UTC). */
export function innerTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, -1)}000`;
}

function userOf(actor: Actor): Record<string, string> | undefined {
  if (!actor.email && !actor.id) return undefined;
  const uuid = uuidFor(actor.email?.toLowerCase() ?? actor.id!);
  if (actor.viaKeys) {
    // Key-authenticated: the email lands in usr.id and the UUID in usr.email.
    return { id: actor.email ?? actor.id!, email: uuid, uuid, ...(actor.name ? { name: actor.name } : {}) };
  }
  return { ...(actor.id ? { id: actor.id } : {}), ...(actor.email ? { email: actor.email } : {}), uuid, ...(actor.name ? { name: actor.name } : {}) };
}

/** Where an event came from, as Datadog's geoip enrichment records it (design.md "Default rule catalog v3"). */
export interface GeoPlace {
  ip: string;
  country: string;
  countryName: string;
  continent: { code: string; name: string };
  city: string;
  lat: number;
  lon: number;
  timezone: string;
  as: { number: string; name: string; type: string };
}

export const PLACES = {
  newYork: { ip: '198.51.100.31', country: 'US', countryName: 'United States', continent: { code: 'NA', name: 'North America' }, city: 'New York', lat: 40.71427, lon: -74.00597, timezone: 'America/New_York', as: { number: 'AS7922', name: 'Example Cable', type: 'isp' } },
  chicago: { ip: '198.51.100.77', country: 'US', countryName: 'United States', continent: { code: 'NA', name: 'North America' }, city: 'Chicago', lat: 41.85003, lon: -87.65005, timezone: 'America/Chicago', as: { number: 'AS7018', name: 'Example Telecom', type: 'isp' } },
  singapore: { ip: '203.0.113.200', country: 'SG', countryName: 'Singapore', continent: { code: 'AS', name: 'Asia' }, city: 'Singapore', lat: 1.28967, lon: 103.85007, timezone: 'Asia/Singapore', as: { number: 'AS64500', name: 'Example Cloud', type: 'hosting' } },
  bucharest: { ip: '203.0.113.66', country: 'RO', countryName: 'Romania', continent: { code: 'EU', name: 'Europe' }, city: 'Bucharest', lat: 44.43225, lon: 26.10626, timezone: 'Europe/Bucharest', as: { number: 'AS64501', name: 'Example Hosting', type: 'hosting' } },
} satisfies Record<string, GeoPlace>;

/** `network.client` with the recorded geoip shape. */
export function located(place: GeoPlace): Record<string, unknown> {
  return {
    ip: place.ip,
    geoip: {
      continent: place.continent, country: { name: place.countryName, iso_code: place.country }, city: { name: place.city }, timezone: place.timezone,
      as: { number: place.as.number, route: `${place.ip}/16`, domain: 'example.net', name: place.as.name, type: place.as.type },
      ipAddress: place.ip, location: { latitude: place.lat, longitude: place.lon },
    },
  };
}

/** The everyday login the learning set starts from. */
export const LOGIN: ActionSpec = { evt: 'Authentication', assetType: 'user', action: 'login', method: 'POST' };

/** `auditEvent` from a place (geoip on `network.client`). */
export function locatedEvent(at: Date | number | string, actor: Actor, action: ActionSpec, place: GeoPlace): AuditEventJson {
  const event = auditEvent(at, actor, action);
  event.attributes.attributes.network = { client: located(place) };
  return event;
}

/** A deterministic id unless one is given; Datadog ids are opaque strings. */
export function auditEvent(at: Date | number | string, actor: Actor, action: ActionSpec, id?: string): AuditEventJson {
  const epochMs = new Date(at).getTime();
  const timestamp = new Date(epochMs).toISOString();
  const who = actor.email ?? actor.id ?? actor.apiKeyId;
  const eventId = id ?? auditEventId(epochMs, `${timestamp}|${who}|${action.assetType}|${action.action}|${counter++}`);
  const usr = userOf(actor);
  const attributes: Record<string, unknown> = {
    timestamp: innerTimestamp(epochMs),
    status: 'info',
    evt: { name: action.evt, actor: { type: usr ? 'USER' : 'Other' } },
    action: action.action,
    asset: { type: action.assetType, id: `${action.assetType}-${(counter * 7919) % 100000}`, name: action.assetName ?? action.assetType },
    http: { method: action.method ?? 'GET', status_code: '200' },
    network: { client: { ip: '203.0.113.5' } },
    org: { uuid: SIM_ORG_UUID },
    auth_method: actor.viaKeys || (!usr && actor.apiKeyId) ? 'API + App Key' : 'SESSION',
  };
  if (usr) attributes.usr = usr;
  if (actor.apiKeyId) attributes.metadata = { api_key: { id: actor.apiKeyId } };
  return {
    id: eventId,
    type: 'audit',
    attributes: {
      timestamp,
      tags: ['source:audit'],
      message: `${who} ${action.action} ${action.assetType}`,
      attributes,
    },
  };
}

/** `count` events of one action by one actor, evenly spread over [start, start + spanMs]. */
export function burst(actor: Actor, action: ActionSpec, count: number, start: Date | number, spanMs: number): AuditEventJson[] {
  const t0 = new Date(start).getTime();
  return Array.from({ length: count }, (_, i) => auditEvent(t0 + (count === 1 ? 0 : Math.round((spanMs * i) / (count - 1))), actor, action));
}
