import { z } from 'zod';

/**
 * The constraints of Datadog's v2 audit events API that audit-spike relies on, as our own zod schemas.
 *
 * Spec: DataDog/datadog-api-client-typescript .generator/schemas/v2/openapi.yaml @ f722578514a6b8d464aa1ecdf909bb39260c0dc3
 * (paths /api/v2/audit/events and /api/v2/audit/events/search, lines 81302-81425; components AuditLogs* lines
 * 6375-6578; APIErrorResponse; securitySchemes apiKeyAuth/appKeyAuth and the global `security`).
 * Recordings: test/contracts/fixtures/datadog-audit-cassettes.ts (the clients' cassettes, genuine where marked).
 *
 * The spec sets no `additionalProperties: false` on the request schemas; the request schemas here are strict anyway,
 * because a key Datadog does not know is silently ignored, and a product request with one is a bug we want to see.
 */

/** RFC 3339 date-time, with a zone (`format: date-time`). */
const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 date-time with a zone');

/** AuditLogsQueryFilter.from/to: "Supports date, math, and regular timestamps (in milliseconds)". */
const filterTime = z.union([dateTime, z.string().regex(/^\d+$/, 'epoch milliseconds'), z.string().regex(/^now(-\d+[smhdw])?$/, 'date math such as now-15m')]);

/** AuditLogsSort: enum [timestamp, -timestamp]. */
export const AuditLogsSortSchema = z.enum(['timestamp', '-timestamp']);

/** page[limit] / AuditLogsQueryPageOptions.limit: int32, default 10, maximum 1000 (no minimum in the spec). */
const pageLimit = z.number().int().max(1000, 'page limit: the spec allows at most 1000');

/** GET /api/v2/audit/events query parameters (all `required: false`). */
export const ListAuditLogsQuerySchema = z.strictObject({
  'filter[query]': z.string().optional(),
  'filter[from]': dateTime.optional(),
  'filter[to]': dateTime.optional(),
  sort: AuditLogsSortSchema.optional(),
  'page[cursor]': z.string().min(1).optional(),
  'page[limit]': z.string().regex(/^\d+$/, 'page[limit] must be an integer').refine((text) => Number(text) <= 1000, 'page[limit]: at most 1000').optional(),
});

/** POST /api/v2/audit/events/search body: AuditLogsSearchEventsRequest (`required: false`, application/json). */
export const AuditLogsSearchEventsRequestSchema = z.strictObject({
  filter: z.strictObject({ from: filterTime.optional(), query: z.string().optional(), to: filterTime.optional() }).optional(),
  /** "Specify either timezone or time offset, not both. Otherwise, the query fails." */
  options: z.strictObject({ time_offset: z.number().int().optional(), timezone: z.string().optional() })
    .refine((options) => options.time_offset === undefined || options.timezone === undefined, 'options: either timezone or time_offset, not both')
    .optional(),
  page: z.strictObject({ cursor: z.string().min(1).optional(), limit: pageLimit.optional() }).optional(),
  sort: AuditLogsSortSchema.optional(),
});

/** Global `security: [{apiKeyAuth: [], appKeyAuth: []}]`: both headers, together (names lower-cased as Node sees them). */
export const AuditRequestHeadersSchema = z.looseObject({
  'dd-api-key': z.string().min(1, 'DD-API-KEY (apiKeyAuth) is required'),
  'dd-application-key': z.string().min(1, 'DD-APPLICATION-KEY (appKeyAuth) is required'),
  accept: z.string().regex(/application\/json/, 'the responses are application/json'),
});

/** A search request also declares its JSON body. */
export const SearchRequestHeadersSchema = AuditRequestHeadersSchema.extend({ 'content-type': z.string().regex(/^application\/json/, 'the request body is application/json') });

/** AuditLogsWarning. */
export const AuditLogsWarningSchema = z.strictObject({ code: z.string().optional(), detail: z.string().optional(), title: z.string().optional() });

/** AuditLogsResponseMetadata: status enum [done, timeout]; "Partial results may return if warnings are present". */
export const AuditLogsResponseMetadataSchema = z.strictObject({
  elapsed: z.number().int().optional(),
  page: z.strictObject({ after: z.string().min(1).optional() }).optional(),
  request_id: z.string().optional(),
  status: z.enum(['done', 'timeout']).optional(),
  warnings: z.array(AuditLogsWarningSchema).optional(),
});

/** AuditLogsEvent with AuditLogsEventAttributes (type enum [audit]; attributes.attributes `additionalProperties: {}`). */
export const AuditLogsEventSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('audit'),
  attributes: z.strictObject({
    attributes: z.record(z.string(), z.unknown()).optional(),
    message: z.string().optional(),
    service: z.string().optional(),
    tags: z.array(z.string()).optional(),
    timestamp: dateTime.optional(),
  }),
});

/** AuditLogsEventsResponse: data, links (AuditLogsResponseLinks.next), meta. */
export const AuditLogsEventsResponseSchema = z.strictObject({
  data: z.array(AuditLogsEventSchema).optional(),
  links: z.strictObject({ next: z.string().url().optional() }).optional(),
  meta: AuditLogsResponseMetadataSchema.optional(),
});

/** APIErrorResponse (400 BadRequestResponse, 403 NotAuthorizedResponse, 429 TooManyRequestsResponse): `required: [errors]`. */
export const APIErrorResponseSchema = z.strictObject({ errors: z.array(z.string()) });

/** Which schema a status answers with, per the two operations' `responses`. The spec declares no other status. */
export function responseSchemaFor(status: number): z.ZodType {
  if (status === 200) return AuditLogsEventsResponseSchema;
  if (status === 400 || status === 403 || status === 429) return APIErrorResponseSchema;
  throw new Error(`the audit events operations declare no ${status} response`);
}

/** The rate-limit headers Datadog documents (docs.datadoghq.com/api/latest/rate-limits/); Reset is seconds, not an epoch. */
export const RateLimitHeadersSchema = z.looseObject({
  'x-ratelimit-limit': z.string().regex(/^\d+$/),
  'x-ratelimit-period': z.string().regex(/^\d+$/),
  'x-ratelimit-remaining': z.string().regex(/^\d+$/),
  'x-ratelimit-reset': z.string().regex(/^\d+$/).refine((s) => Number(s) < 1e6, 'X-RateLimit-Reset is seconds until the reset, not an epoch'),
  'x-ratelimit-name': z.string().min(1),
});

/**
 * Stricter than the spec: the envelope every genuine recorded audit event has (the cassettes above), which the
 * simulator must serve so the product is tested against what Datadog really sends.
 */
export const RecordedAuditEventSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{55}$/, 'Datadog ids are 55 characters of unpadded base64url'),
  type: z.literal('audit'),
  attributes: z.strictObject({
    // No outer `service` in any recorded audit event, though the schema lists it.
    attributes: z.looseObject({
      timestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6}|Z)$/, 'inner timestamp: microseconds without a zone, or seconds with Z'),
      status: z.string(),
      org: z.strictObject({ uuid: z.string().uuid() }),
      evt: z.looseObject({ actor: z.strictObject({ type: z.string() }) }),
      http: z.looseObject({ status_code: z.string().regex(/^\d{3}$/, 'http.status_code is a string') }).optional(),
      // Recorded events carry both id and email; the test generators may leave the email out ("a user known by id").
      usr: z.looseObject({ id: z.string(), email: z.string().optional(), uuid: z.string().uuid().optional() }).optional(),
    }),
    message: z.string(),
    tags: z.array(z.string()),
    timestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'outer timestamp: milliseconds with Z'),
  }),
});

/** A page in the recorded form: `meta` first and only `page.after` in it (status/warnings only on a partial page). */
export function recordedKeyOrder(text: string): string[] {
  return Object.keys(JSON.parse(text) as object);
}
