import { SIM_ORG_ID, userStatus, type DirectoryApiKey, type DirectoryAppKey, type DirectoryUser } from './org-directory';

/**
 * Users and keys in the form the genuine recordings show (DataDog/datadog-api-client-typescript @ a6d1742,
 * cassettes/v2/Users_112472755/* and cassettes/v2/Key-Management_993906607/*), key order included:
 * - a user: `{type:"users", id, attributes:{name, handle, created_at, modified_at, email, icon, title, verified,
 *   service_account, disabled, allowed_login_methods, status}, relationships:{roles, org}}` (Get-user-details, Update-a-user);
 * - an API key (Get-API-key-returns-OK): `{type:"api_keys", attributes:{…, key, last4, …}, relationships:{created_by,
 *   modified_by, leak_information}, id}`;
 * - an application key: the org-wide GET has no `key` (Get-an-application-key-returns-OK), the current user's GET has it
 *   (Get-one-application-key-owned-by-current-user-returns-OK).
 */

function icon(email: string): string {
  // The recordings' gravatar URL form; the hash here is not gravatar's (no consumer reads it).
  return `https://secure.gravatar.com/avatar/${Buffer.from(email).toString('hex').slice(0, 32).padEnd(32, '0')}?s=48&d=retro`;
}

export function userJson(user: DirectoryUser) {
  return {
    type: 'users',
    id: user.id,
    attributes: {
      name: user.name,
      handle: user.email,
      created_at: user.createdAt,
      modified_at: user.modifiedAt,
      email: user.email,
      icon: icon(user.email),
      title: user.title,
      verified: user.verified,
      service_account: user.serviceAccount,
      disabled: user.disabled,
      allowed_login_methods: [],
      status: userStatus(user),
    },
    relationships: {
      roles: { data: user.roleIds.map((id) => ({ type: 'roles', id })) },
      org: { data: { type: 'orgs', id: SIM_ORG_ID } },
    },
  };
}

const userRef = (id: string) => ({ data: { type: 'users', id } });

export function apiKeyJson(key: DirectoryApiKey) {
  return {
    type: 'api_keys',
    attributes: {
      created_at: key.createdAt,
      key: key.key,
      last4: key.key.slice(-4),
      modified_at: key.modifiedAt,
      remote_config_read_enabled: true,
      category: 'default',
      name: key.name,
      date_last_used: null,
      used_in_last_24_hours: false,
      last_used_date: { timestamp: null, description: 'Timestamp of when this key was last used in the past ninety (90) days, null if no recent usage' },
    },
    relationships: { created_by: userRef(key.createdBy), modified_by: userRef(key.createdBy), leak_information: { data: null } },
    id: key.id,
  };
}

export function appKeyJson(key: DirectoryAppKey, options: { withSecret: boolean }) {
  return {
    type: 'application_keys',
    id: key.id,
    attributes: {
      name: key.name,
      created_at: key.createdAt,
      last4: key.key.slice(-4),
      ...(options.withSecret ? { key: key.key } : {}),
      scopes: null,
      last_used_at: null,
    },
    relationships: { owned_by: userRef(key.ownedBy), leak_information: { data: null } },
  };
}
