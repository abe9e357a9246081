/**
 * Response bodies as the genuine recordings show them (DataDog/datadog-api-client-typescript cassettes/v2/Audit_*
 * @ a6d1742, copied to test/contracts/fixtures/datadog-audit-cassettes.ts):
 * - a page is `{"meta":{"page":{"after":…}},"data":[…],"links":{"next":…}}`, in that key order, `meta` holding only
 *   `page.after`; an empty result is exactly `{"data":[]}`;
 * - `links.next` is a GET URL on /api/v2/audit/events even for the POST search, brackets percent-encoded, the body's
 *   filter and sort carried over as query parameters, `options` dropped;
 * - a partial page (spec: AuditLogsResponseMetadata.status `timeout`, `warnings`: "Partial results may return if
 *   warnings are present") carries `status` and `warnings` in `meta` (never recorded for audit: its warning text is ours).
 * Errors are `{"errors":[string]}` (APIErrorResponse in .generator/schemas/v2/openapi.yaml @ f722578).
 */

export interface SearchParams {
  query?: string;
  from?: string;
  to?: string;
  sort?: string;
  cursor?: string;
  limit?: unknown;
}

export interface PageBody {
  events: string[];
  after?: string;
  next?: string;
  partial?: { warnings: AuditWarning[] };
}

export interface AuditWarning {
  code: string;
  title: string;
  detail: string;
}

export const PARTIAL_RESULTS_WARNING: AuditWarning = {
  code: 'timeout',
  title: 'The query timed out before it read every index: partial results',
  detail: 'Partial results may return; retry the request',
};

export function errorBody(...errors: string[]): string {
  return JSON.stringify({ errors });
}

/** The genuine 400 for a cursor the service does not accept (datadog-api-client-go cassettes @ 94768b82, 2022-03-17). */
export const INVALID_CURSOR = "input_validation_error(Field 'page' is invalid: invalid cursor)";

/** Same form as the recorded cursor error; the wording for these fields is ours (no recording of them exists). */
export function invalidField(field: string, why: string): string {
  return `input_validation_error(Field '${field}' is invalid: ${why})`;
}

function encodePair(name: string, value: string): string {
  return `${encodeURIComponent(name)}=${name === 'page[cursor]' ? value : encodeURIComponent(value)}`;
}

/** `links.next`: the GET form of this search from the next cursor on. */
export function nextLink(baseUrl: string, params: SearchParams, after: string, limit: number): string {
  const pairs: Array<[string, string]> = [];
  if (params.sort !== undefined) pairs.push(['sort', params.sort]);
  if (params.query !== undefined) pairs.push(['filter[query]', params.query]);
  if (params.to !== undefined) pairs.push(['filter[to]', params.to]);
  pairs.push(['page[cursor]', after], ['page[limit]', String(limit)]);
  if (params.from !== undefined) pairs.push(['filter[from]', params.from]);
  return `${baseUrl}/api/v2/audit/events?${pairs.map(([name, value]) => encodePair(name, value)).join('&')}`;
}

export function pageBody(page: PageBody): string {
  if (page.events.length === 0 && !page.after && !page.partial) return '{"data":[]}';
  const meta: string[] = [];
  if (page.partial) meta.push('"elapsed":30000', `"request_id":${JSON.stringify(Buffer.from(`sim-${Date.now()}`).toString('base64url'))}`, '"status":"timeout"', `"warnings":${JSON.stringify(page.partial.warnings)}`);
  if (page.after) meta.push(`"page":{"after":${JSON.stringify(page.after)}}`);
  return `{"meta":{${meta.join(',')}},"data":[${page.events.join(',')}]` + (page.next ? `,"links":{"next":${JSON.stringify(page.next)}}` : '') + '}';
}
