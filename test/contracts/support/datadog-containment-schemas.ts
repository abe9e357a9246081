import { z } from 'zod';

/**
 * The Datadog Users and Key Management constraints the containment of a burst (#17) relies on, as our own zod schemas.
 *
 * Spec: DataDog/datadog-api-client-typescript .generator/schemas/v2/openapi.yaml @ 0065512a1ed1635bdc44153fe8906770f44a57dd
 *  - paths /api/v2/users (ListUsers: 200 UsersResponse, 400, 403, 429), /api/v2/users/{user_id} (DisableUser: 204,
 *    403, 404, 429; GetUser: 200 UserResponse, 403, 404, 429; UpdateUser: body UserUpdateRequest required, 200
 *    UserResponse, 400, 403, 404, 422, 429), /api/v2/application_keys/{app_key_id} (DeleteApplicationKey: 204, 403,
 *    404, 429; GetApplicationKey: 200 ApplicationKeyResponse, 400, 403, 404, 429); every error body APIErrorResponse;
 *  - components User, UserAttributes (name, title, last_login_time nullable), UserUpdateRequest / UserUpdateData
 *    (required attributes, type, id) / UserUpdateAttributes (disabled, email, name), UsersResponse, UsersType;
 *  - parameter PageSize: "The maximum allowed value is 100", default 10.
 * /api/v2/api_keys/{api_key_id} and /api/v2/current_user/application_keys/{app_key_id} (status codes 204/403/404/429 and
 * 200/403/404/429) and the FullAPIKey / FullApplicationKey attributes are taken from the client generated from that
 * spec (@datadog/datadog-api-client 1.64.0, KeyManagementApi and models/FullAPIKeyAttributes, FullApplicationKeyAttributes).
 * Recordings: cassettes/v2/Users_112472755/* and cassettes/v2/Key-Management_993906607/* @ a6d174205b047bd01a9df066deae5d7fee9c436c.
 *
 * The spec sets no `additionalProperties: false`; the response schemas here are strict over the fields of the spec and
 * of the recordings together, so a field the simulator invents (or misspells) fails the contract.
 */

/** `2022-05-12T09:53:36.764381+00:00` as recorded; any RFC 3339 date-time satisfies `format: date-time`. */
const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'an RFC 3339 date-time');
const relationshipToUser = z.strictObject({ data: z.strictObject({ type: z.literal('users'), id: z.string().min(1) }) });

/** UserAttributes, plus `allowed_login_methods` which every recorded user carries (not in the spec). */
export const UserAttributesSchema = z.strictObject({
  created_at: dateTime.optional(),
  disabled: z.boolean().optional(),
  email: z.string().optional(),
  handle: z.string().optional(),
  icon: z.string().optional(),
  last_login_time: dateTime.nullable().optional(),
  mfa_enabled: z.boolean().optional(),
  modified_at: dateTime.optional(),
  name: z.string().nullable().optional(),
  service_account: z.boolean().optional(),
  status: z.string().optional(),
  title: z.string().nullable().optional(),
  verified: z.boolean().optional(),
  allowed_login_methods: z.array(z.unknown()).optional(),
});

/** UserResponseRelationships: org, other_orgs, other_users, roles. */
const UserRelationshipsSchema = z.strictObject({
  org: z.strictObject({ data: z.strictObject({ type: z.literal('orgs'), id: z.string() }) }).optional(),
  other_orgs: z.unknown().optional(),
  other_users: z.unknown().optional(),
  roles: z.strictObject({ data: z.array(z.strictObject({ type: z.literal('roles'), id: z.string() })) }).optional(),
});

export const UserSchema = z.strictObject({
  attributes: UserAttributesSchema.optional(),
  id: z.string().optional(),
  relationships: UserRelationshipsSchema.optional(),
  type: z.literal('users').optional(),
});

export const UserResponseSchema = z.strictObject({ data: UserSchema.optional(), included: z.array(z.unknown()).optional() });

/** UsersResponse with ResponseMetaAttributes.page (Pagination: total_count, total_filtered_count int64). */
export const UsersResponseSchema = z.strictObject({
  data: z.array(UserSchema).optional(),
  included: z.array(z.unknown()).optional(),
  meta: z.strictObject({ page: z.strictObject({ total_count: z.number().int().optional(), total_filtered_count: z.number().int().optional() }).optional() }).optional(),
});

/**
 * UserUpdateRequest as the product should send it to disable or re-enable a user: `data` with `type: users`, the
 * user's `id` (the same as the path's, else 422), and `attributes` holding `disabled` (UserUpdateAttributes also has
 * email and name: containment never changes them, so they are refused here).
 */
export const DisableUserRequestSchema = z.strictObject({
  data: z.strictObject({
    attributes: z.strictObject({ disabled: z.boolean() }),
    id: z.string().min(1),
    type: z.literal('users'),
  }),
});

/** FullAPIKeyAttributes (client model) plus what Get-API-key-returns-OK records beside them. */
const FullAPIKeyAttributesSchema = z.strictObject({
  category: z.string().optional(),
  created_at: dateTime.optional(),
  date_last_used: dateTime.nullable().optional(),
  key: z.string().optional(),
  last4: z.string().length(4).optional(),
  modified_at: dateTime.optional(),
  name: z.string().optional(),
  private_action_runner_enroll_enabled: z.boolean().optional(),
  remote_config_read_enabled: z.boolean().optional(),
  used_in_last_24_hours: z.boolean().optional(),
  last_used_date: z.strictObject({ timestamp: dateTime.nullable(), description: z.string() }).optional(),
});

export const APIKeyResponseSchema = z.strictObject({
  data: z.strictObject({
    attributes: FullAPIKeyAttributesSchema.optional(),
    id: z.string().optional(),
    relationships: z.strictObject({ created_by: relationshipToUser.optional(), modified_by: relationshipToUser.optional(), leak_information: z.unknown().optional() }).optional(),
    type: z.literal('api_keys').optional(),
  }).optional(),
  included: z.array(z.unknown()).optional(),
});

/** FullApplicationKeyAttributes (client model); `scopes` and `last_used_at` are recorded as null. */
const FullApplicationKeyAttributesSchema = z.strictObject({
  created_at: dateTime.optional(),
  key: z.string().optional(),
  last4: z.string().length(4).optional(),
  last_used_at: dateTime.nullable().optional(),
  name: z.string().optional(),
  scopes: z.array(z.string()).nullable().optional(),
});

export const ApplicationKeyResponseSchema = z.strictObject({
  data: z.strictObject({
    attributes: FullApplicationKeyAttributesSchema.optional(),
    id: z.string().optional(),
    relationships: z.strictObject({ owned_by: relationshipToUser.optional(), leak_information: z.unknown().optional() }).optional(),
    type: z.literal('application_keys').optional(),
  }).optional(),
  included: z.array(z.unknown()).optional(),
});

/**
 * ListApplicationKeysResponse (ListCurrentUserApplicationKeys, #17: how the worker learns its own identity): partial
 * keys (PartialApplicationKeyAttributes: no `key`) with their owner, and `meta` (client models ListApplicationKeysResponse,
 * PartialApplicationKeyAttributes, ApplicationKeyResponseMeta of @datadog/datadog-api-client 1.64.0).
 */
export const ListApplicationKeysResponseSchema = z.strictObject({
  data: z.array(z.strictObject({
    attributes: FullApplicationKeyAttributesSchema.omit({ key: true }).optional(),
    id: z.string().optional(),
    relationships: z.strictObject({ owned_by: relationshipToUser.optional(), leak_information: z.unknown().optional() }).optional(),
    type: z.literal('application_keys').optional(),
  })).optional(),
  included: z.array(z.unknown()).optional(),
  meta: z.strictObject({ max_allowed_per_user: z.number().int().optional(), page: z.strictObject({ total_filtered_count: z.number().int().optional() }).optional() }).optional(),
});

/** APIErrorResponse: `required: [errors]`, an array of strings. */
export const APIErrorResponseSchema = z.strictObject({ errors: z.array(z.string()) });

export type ContainmentOperation = 'listUsers' | 'getUser' | 'updateUser' | 'disableUser' | 'getAPIKey' | 'deleteAPIKey' | 'getApplicationKey' | 'deleteApplicationKey' | 'getCurrentUserApplicationKey' | 'deleteCurrentUserApplicationKey' | 'listCurrentUserApplicationKeys';

const SUCCESS: Record<ContainmentOperation, [number, z.ZodType | undefined]> = {
  listUsers: [200, UsersResponseSchema],
  getUser: [200, UserResponseSchema],
  updateUser: [200, UserResponseSchema],
  disableUser: [204, undefined],
  getAPIKey: [200, APIKeyResponseSchema],
  deleteAPIKey: [204, undefined],
  getApplicationKey: [200, ApplicationKeyResponseSchema],
  deleteApplicationKey: [204, undefined],
  getCurrentUserApplicationKey: [200, ApplicationKeyResponseSchema],
  deleteCurrentUserApplicationKey: [204, undefined],
  listCurrentUserApplicationKeys: [200, ListApplicationKeysResponseSchema],
};

/** The error statuses each operation declares (429 everywhere; 403 everywhere; the rest per operation). */
const ERRORS: Record<ContainmentOperation, number[]> = {
  listUsers: [400, 403, 429],
  getUser: [403, 404, 429],
  updateUser: [400, 403, 404, 422, 429],
  disableUser: [403, 404, 429],
  getAPIKey: [403, 404, 429],
  deleteAPIKey: [403, 404, 429],
  getApplicationKey: [400, 403, 404, 429],
  deleteApplicationKey: [403, 404, 429],
  getCurrentUserApplicationKey: [403, 404, 429],
  deleteCurrentUserApplicationKey: [403, 404, 429],
  listCurrentUserApplicationKeys: [400, 403, 429],
};

/** The schema of one answer, or `null` for a declared answer without a body (204); throws for an undeclared status. */
export function containmentResponseSchema(operation: ContainmentOperation, status: number): z.ZodType | null {
  const [ok, schema] = SUCCESS[operation];
  if (status === ok) return schema ?? null;
  if (ERRORS[operation].includes(status)) return APIErrorResponseSchema;
  throw new Error(`${operation} declares no ${status} response`);
}
