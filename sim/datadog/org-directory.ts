import { createHash, randomUUID } from 'node:crypto';
import { uuidFor } from '../audit-events';

/**
 * The org's users, API keys and application keys, as far as the containment of an audit burst touches them (#17):
 * find a user by email, disable it, look up and revoke the keys minted in the burst.
 *
 * Learned from the audit events the simulator is given (`learnFrom`): every actor with an email becomes a user whose id
 * is `usr.uuid` (the id Datadog's Users API knows it by), and the asset of every `api_key`/`application_key` `created`
 * event becomes a live key owned by that actor, so a later revoke of an id read from the Audit Trail finds it.
 * The simulator's own keys belong to a service account (`SIM_SERVICE_ACCOUNT_EMAIL`).
 */

export type UserStatus = 'Active' | 'Pending' | 'Disabled';

export interface DirectoryUser {
  id: string;
  email: string;
  name: string | null;
  title: string | null;
  serviceAccount: boolean;
  disabled: boolean;
  /** Never logged in: Datadog calls such a user `Pending`. */
  verified: boolean;
  createdAt: string;
  modifiedAt: string;
  roleIds: string[];
}

export interface DirectoryApiKey {
  id: string;
  name: string;
  /** The secret (32 hex characters, as Datadog's API keys). */
  key: string;
  createdBy: string;
  createdAt: string;
  modifiedAt: string;
}

export interface DirectoryAppKey {
  id: string;
  name: string;
  /** The secret (40 hex characters, as Datadog's application keys). */
  key: string;
  ownedBy: string;
  createdAt: string;
}

/** The org id of the recordings (cassettes/v2/Users_112472755, `relationships.org`). */
export const SIM_ORG_ID = '4dee724d-00cc-11ea-a77b-570c9d03c6c5';
export const SIM_SERVICE_ACCOUNT_EMAIL = 'audit-spike@service.example.com';
/** Ids of the simulator's own key pair: what the worker authenticates with. */
export const SIM_OWN_API_KEY_ID = uuidFor('sim-own-api-key');
export const SIM_OWN_APP_KEY_ID = uuidFor('sim-own-app-key');

/** The Datadog user id the simulator gives the person with this email (the `usr.uuid` of their audit events). */
export function datadogUserIdFor(email: string): string {
  return uuidFor(email.trim().toLowerCase());
}

/** `2022-05-12T09:53:36.764381+00:00`: Datadog's Users and Key Management timestamps (microseconds, `+00:00`). */
export function datadogTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, -1)}000+00:00`;
}

function secret(seed: string, length: number): string {
  return createHash('sha256').update(`secret|${seed}`).digest('hex').slice(0, length);
}

export function userStatus(user: DirectoryUser): UserStatus {
  return user.disabled ? 'Disabled' : user.verified ? 'Active' : 'Pending';
}

const KEY_ASSET_TYPES = new Set(['api_key', 'application_key']);

export class OrgDirectory {
  readonly users = new Map<string, DirectoryUser>();
  readonly apiKeys = new Map<string, DirectoryApiKey>();
  readonly appKeys = new Map<string, DirectoryAppKey>();
  /** Email (as an event spells it) → user id: spares a hash per event when millions are loaded. */
  private readonly idByEmail = new Map<string, string>();

  constructor(private readonly own: { apiKey: string; appKey: string }) {
    this.seedOwn();
  }

  clear(): void {
    this.users.clear();
    this.apiKeys.clear();
    this.appKeys.clear();
    this.idByEmail.clear();
    this.seedOwn();
  }

  /** Whether these credentials still open the API: the simulator's own keys work until they are revoked. */
  authenticates(apiKey: unknown, appKey: unknown): boolean {
    if (apiKey !== this.own.apiKey || appKey !== this.own.appKey) return false;
    return this.apiKeys.has(SIM_OWN_API_KEY_ID) && this.appKeys.has(SIM_OWN_APP_KEY_ID);
  }

  /** The user the simulator's application key belongs to (`current_user`). */
  get currentUserId(): string {
    return datadogUserIdFor(SIM_SERVICE_ACCOUNT_EMAIL);
  }

  addUser(fields: { email: string; name?: string | null } & Partial<Omit<DirectoryUser, 'email' | 'name'>>): DirectoryUser {
    const known = fields.id ?? this.idByEmail.get(fields.email);
    const existing = known === undefined ? undefined : this.users.get(known);
    if (existing) return existing;
    const email = fields.email.trim().toLowerCase();
    const id = fields.id ?? datadogUserIdFor(email);
    this.idByEmail.set(fields.email, id);
    const again = this.users.get(id);
    if (again) return again;
    const at = datadogTimestamp(Date.now());
    const user: DirectoryUser = {
      name: null, title: null, serviceAccount: false, disabled: false, verified: true, createdAt: at, modifiedAt: at, roleIds: [], ...fields, id, email,
    };
    this.users.set(id, user);
    return user;
  }

  addApiKey(fields: { id?: string; name?: string; createdBy: string; key?: string; createdAt?: string }): DirectoryApiKey {
    const id = fields.id ?? randomUUID();
    const at = fields.createdAt ?? datadogTimestamp(Date.now());
    const key: DirectoryApiKey = { id, name: fields.name ?? id, key: fields.key ?? secret(id, 32), createdBy: fields.createdBy, createdAt: at, modifiedAt: at };
    this.apiKeys.set(id, key);
    return key;
  }

  addAppKey(fields: { id?: string; name?: string; ownedBy: string; key?: string; createdAt?: string }): DirectoryAppKey {
    const id = fields.id ?? randomUUID();
    const key: DirectoryAppKey = { id, name: fields.name ?? id, key: fields.key ?? secret(id, 40), ownedBy: fields.ownedBy, createdAt: fields.createdAt ?? datadogTimestamp(Date.now()) };
    this.appKeys.set(id, key);
    return key;
  }

  /** Learns the actor of one audit event (`data[]` element) and, for a key created, the key itself. */
  learnFrom(event: unknown): void {
    const outer = (event as { attributes?: { timestamp?: unknown; attributes?: Record<string, any> } } | undefined)?.attributes;
    const attributes = outer?.attributes;
    if (!attributes || typeof attributes !== 'object') return;
    const usr = attributes.usr as { id?: unknown; email?: unknown; name?: unknown } | undefined;
    // Key-authenticated actions record the email in usr.id and a UUID in usr.email: the email is whichever has an @.
    const email = [usr?.email, usr?.id].find((value): value is string => typeof value === 'string' && value.includes('@'));
    const owner = email ? this.addUser({ email, name: typeof usr?.name === 'string' ? usr.name : null }) : undefined;
    const asset = attributes.asset as { type?: unknown; id?: unknown; name?: unknown } | undefined;
    if (attributes.action !== 'created' || !asset || !KEY_ASSET_TYPES.has(String(asset.type)) || typeof asset.id !== 'string' || !asset.id) return;
    const createdBy = owner?.id ?? this.currentUserId;
    const at = Date.parse(String(outer?.timestamp ?? ''));
    const createdAt = datadogTimestamp(Number.isNaN(at) ? Date.now() : at);
    const name = typeof asset.name === 'string' ? asset.name : undefined;
    if (asset.type === 'api_key' && !this.apiKeys.has(asset.id)) this.addApiKey({ id: asset.id, name, createdBy, createdAt });
    if (asset.type === 'application_key' && !this.appKeys.has(asset.id)) this.addAppKey({ id: asset.id, name, ownedBy: createdBy, createdAt });
  }

  private seedOwn(): void {
    const account = this.addUser({ email: SIM_SERVICE_ACCOUNT_EMAIL, name: 'audit-spike', serviceAccount: true });
    this.addApiKey({ id: SIM_OWN_API_KEY_ID, name: 'audit-spike worker', key: this.own.apiKey, createdBy: account.id });
    this.addAppKey({ id: SIM_OWN_APP_KEY_ID, name: 'audit-spike worker', key: this.own.appKey, ownedBy: account.id });
  }
}
