import { apiKeyJson, appKeyJson, userJson } from './directory-json';
import { datadogTimestamp, userStatus, type OrgDirectory } from './org-directory';

/**
 * The Users and Key Management endpoints the containment of a burst calls (#17), as
 * DataDog/datadog-api-client-typescript .generator/schemas/v2/openapi.yaml @ 0065512a1ed1635bdc44153fe8906770f44a57dd
 * declares them (paths /api/v2/users, /api/v2/users/{user_id}, /api/v2/api_keys/{api_key_id},
 * /api/v2/application_keys/{app_key_id}, /api/v2/current_user/application_keys/{app_key_id}; parameter PageSize
 * "The maximum allowed value is 100", default 10) and as the genuine recordings answer
 * (cassettes/v2/Users_112472755/*, cassettes/v2/Key-Management_993906607/* @ a6d174205b047bd01a9df066deae5d7fee9c436c):
 * - PATCH /users/{id} with a body id other than the path's: 422 "UUID's in the URL and request body do not match"
 *   (Update-a-user-returns-Bad-User-ID-in-Request-response); unknown id: 404 "<id> not found" (…-Not-found-response);
 * - DELETE /users/{id} disables (204); on a user already disabled (by DELETE, or by PATCH `disabled: true`) it answers
 *   404 "<id> not found" (Disable-a-user-returns-OK-response, Update-a-user-returns-OK-response). PATCH `disabled: true`
 *   on a disabled user is unrecorded and the spec states no rule against it: here it answers 200 (an assumption);
 *   a disabled user still answers GET 200 with `status: "Disabled"` (also unrecorded; the PATCH answer shows that form);
 * - DELETE of a key: 204 with an empty `text/html` body; the second DELETE: 404 "API key not found" / "Application key
 *   not found" (Delete-an-API-key-…, Delete-an-application-key-…); the current user's path finds only keys the
 *   current user owns (the spec's "owned by current user").
 * Bodies keep the recordings' byte form (some 404s are written with `": "`). Wording of 400s is ours: none is recorded.
 */

export interface ContainmentCall {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The raw request body (PATCH). */
  body: string;
}

export interface ContainmentReply {
  status: number;
  /** Undefined: no body (204). */
  body?: string;
  headers: Record<string, string>;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const json = (status: number, body: unknown): ContainmentReply => ({ status, body: JSON.stringify(body), headers: JSON_TYPE });
/** The recordings' 404s after a DELETE are serialized with a space after the colon (`{"errors": [...]}`). */
const spacedErrors = (status: number, message: string): ContainmentReply => ({ status, body: `{"errors": [${JSON.stringify(message)}]}`, headers: JSON_TYPE });
const errors = (status: number, ...messages: string[]) => json(status, { errors: messages });
const deletedKey = (): ContainmentReply => ({ status: 204, body: '', headers: { 'content-type': 'text/html; charset=utf-8' } });

const USER_PATH = /^\/api\/v2\/users\/([^/]+)$/;
const API_KEY_PATH = /^\/api\/v2\/api_keys\/([^/]+)$/;
const APP_KEY_PATH = /^\/api\/v2\/(current_user\/)?application_keys\/([^/]+)$/;
/** ListCurrentUserApplicationKeys (openapi.yaml @ 0065512): how a worker learns whose keys it holds (#17). */
const CURRENT_USER_APP_KEYS = '/api/v2/current_user/application_keys';

/** Whether this path is one of the containment endpoints (the simulator answers other unknown paths 404 itself). */
export function isContainmentPath(path: string): boolean {
  return path === '/api/v2/users' || path === CURRENT_USER_APP_KEYS || USER_PATH.test(path) || API_KEY_PATH.test(path) || APP_KEY_PATH.test(path);
}

export function routeContainment(directory: OrgDirectory, call: ContainmentCall): ContainmentReply {
  const { method, path } = call;
  if (path === '/api/v2/users') return method === 'GET' ? listUsers(directory, call.query) : errors(405, 'Method Not Allowed');
  if (path === CURRENT_USER_APP_KEYS) {
    if (method !== 'GET') return errors(405, 'Method Not Allowed');
    // ListApplicationKeysResponse: partial keys (no secret) with their owner; the page parameters are not needed here.
    const own = [...directory.appKeys.values()].filter((key) => key.ownedBy === directory.currentUserId);
    return json(200, { data: own.map((key) => appKeyJson(key, { withSecret: false })), meta: { page: { total_filtered_count: own.length } } });
  }
  const user = USER_PATH.exec(path);
  if (user) {
    const id = decodeURIComponent(user[1]);
    if (method === 'GET') return getUser(directory, id);
    if (method === 'PATCH') return updateUser(directory, id, call.body);
    if (method === 'DELETE') return disableUser(directory, id);
    return errors(405, 'Method Not Allowed');
  }
  const apiKey = API_KEY_PATH.exec(path);
  if (apiKey) {
    const id = decodeURIComponent(apiKey[1]);
    const found = directory.apiKeys.get(id);
    if (method === 'GET') return found ? json(200, { data: apiKeyJson(found) }) : errors(404, 'API key not found');
    if (method === 'DELETE') {
      if (!found) return spacedErrors(404, 'API key not found');
      directory.apiKeys.delete(id);
      return deletedKey();
    }
    return errors(405, 'Method Not Allowed');
  }
  const appKey = APP_KEY_PATH.exec(path);
  if (appKey) {
    const currentUserOnly = Boolean(appKey[1]);
    const id = decodeURIComponent(appKey[2]);
    const key = directory.appKeys.get(id);
    const found = key && (!currentUserOnly || key.ownedBy === directory.currentUserId) ? key : undefined;
    if (method === 'GET') return found ? json(200, { data: appKeyJson(found, { withSecret: currentUserOnly }) }) : errors(404, 'Application key not found');
    if (method === 'DELETE') {
      if (!found) return errors(404, 'Application key not found');
      directory.appKeys.delete(id);
      return deletedKey();
    }
    return errors(405, 'Method Not Allowed');
  }
  return errors(404, 'Not Found');
}

function getUser(directory: OrgDirectory, id: string): ContainmentReply {
  const user = directory.users.get(id);
  return user ? json(200, { data: userJson(user) }) : errors(404, `${id} not found`);
}

function disableUser(directory: OrgDirectory, id: string): ContainmentReply {
  const user = directory.users.get(id);
  if (!user || user.disabled) return spacedErrors(404, `${id} not found`);
  user.disabled = true;
  user.modifiedAt = datadogTimestamp(Date.now());
  return { status: 204, headers: {} };
}

/** UserUpdateRequest: `data` required; `data.{attributes, id, type}` required; type `users`; attributes optional fields. */
function updateUser(directory: OrgDirectory, id: string, text: string): ContainmentReply {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return errors(400, 'Invalid request body: expected JSON');
  }
  const data = (body as { data?: Record<string, unknown> } | null)?.data;
  if (!data || typeof data !== 'object') return errors(400, "Invalid request body: 'data' is required");
  if (data.type !== 'users') return errors(400, "Invalid request body: 'data.type' must be \"users\"");
  if (typeof data.id !== 'string') return errors(400, "Invalid request body: 'data.id' is required");
  const attributes = data.attributes as Record<string, unknown> | undefined;
  if (!attributes || typeof attributes !== 'object' || Array.isArray(attributes)) return errors(400, "Invalid request body: 'data.attributes' is required");
  for (const field of ['email', 'name', 'title'] as const) {
    if (attributes[field] !== undefined && typeof attributes[field] !== 'string') return errors(400, `Invalid request body: 'data.attributes.${field}' must be a string`);
  }
  if (attributes.disabled !== undefined && typeof attributes.disabled !== 'boolean') return errors(400, "Invalid request body: 'data.attributes.disabled' must be a boolean");
  if (data.id !== id) return spacedErrors(422, "UUID's in the URL and request body do not match");
  const user = directory.users.get(id);
  if (!user) return errors(404, `${id} not found`);
  if (typeof attributes.disabled === 'boolean') user.disabled = attributes.disabled;
  if (typeof attributes.name === 'string') user.name = attributes.name;
  if (typeof attributes.title === 'string') user.title = attributes.title;
  if (typeof attributes.email === 'string') user.email = attributes.email.trim().toLowerCase();
  user.modifiedAt = datadogTimestamp(Date.now());
  return json(200, { data: userJson(user) });
}

/**
 * GET /api/v2/users: `filter` ("Filter all users by the given string", matched here as a case-insensitive substring of
 * email, handle or name), `filter[status]` (comma-separated Active, Pending, Disabled), `page[size]` (default 10, at most
 * 100), `page[number]` (default 0), `sort` (name, email, modified_at, status; `-` for descending). The recorded answer
 * (List-all-users-returns-OK-response) is `{"meta":{"page":{"total_filtered_count","total_count"}},"data":[…]}`.
 */
function listUsers(directory: OrgDirectory, query: URLSearchParams): ContainmentReply {
  const size = query.has('page[size]') ? Number(query.get('page[size]')) : 10;
  if (!Number.isInteger(size) || size < 1 || size > 100) return errors(400, `Invalid page[size]: must be an integer between 1 and 100, got ${JSON.stringify(query.get('page[size]'))}`);
  const number = query.has('page[number]') ? Number(query.get('page[number]')) : 0;
  if (!Number.isInteger(number) || number < 0) return errors(400, `Invalid page[number]: must be a non-negative integer, got ${JSON.stringify(query.get('page[number]'))}`);
  const sort = query.get('sort') ?? 'name';
  const field = sort.replace(/^-/, '');
  if (!['name', 'email', 'modified_at', 'status'].includes(field)) return errors(400, `Invalid sort: ${JSON.stringify(sort)}`);
  const statuses = query.get('filter[status]')?.split(',').map((s) => s.trim()).filter(Boolean);
  if (statuses?.some((s) => !['Active', 'Pending', 'Disabled'].includes(s))) return errors(400, `Invalid filter[status]: ${JSON.stringify(query.get('filter[status]'))}`);
  const text = query.get('filter')?.trim().toLowerCase();
  const all = [...directory.users.values()];
  const matching = all.filter((user) => (!text || user.email.includes(text) || (user.name ?? '').toLowerCase().includes(text)) && (!statuses || statuses.includes(userStatus(user))));
  const value = (user: (typeof all)[number]) => (field === 'name' ? user.name ?? '' : field === 'email' ? user.email : field === 'status' ? userStatus(user) : user.modifiedAt);
  matching.sort((a, b) => value(a).localeCompare(value(b)) * (sort.startsWith('-') ? -1 : 1) || a.id.localeCompare(b.id));
  const data = matching.slice(number * size, number * size + size).map(userJson);
  return json(200, { meta: { page: { total_filtered_count: matching.length, total_count: all.length } }, data });
}
