import { invalidField, type SearchParams } from './responses';

/**
 * Validates a search as GET /api/v2/audit/events and POST /api/v2/audit/events/search do
 * (.generator/schemas/v2/openapi.yaml @ f722578514a6b8d464aa1ecdf909bb39260c0dc3): `page[limit]` an int32, default 10,
 * maximum 1000 (the spec sets no minimum; below 1 is refused here, an assumption); `sort` one of `timestamp`,
 * `-timestamp`; `from`/`to` a date-time, epoch milliseconds or date math (`now-15m`, AuditLogsQueryFilter).
 */

export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 10;

export interface ValidSearch {
  limit: number;
  from: number;
  to: number;
  sort: 'timestamp' | '-timestamp';
}

export function parseTime(value: string | undefined, fallback: number, now: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  if (/^\d+$/.test(value)) return Number(value);
  const relative = /^now(?:\s*-\s*(\d+)\s*([smhdw]))?$/.exec(value.trim());
  if (relative) {
    if (!relative[1]) return now;
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[relative[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(relative[1]) * unit;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const parsed = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) || !value.includes('T') ? value : `${value}Z`);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/**
 * Without `sort`, newest first: the recorded list without sort returned the events just before the recording time
 * (cassette Get-a-list-…-with-pagination, 2022-04-13). The spec does not say; the product always sends `sort`.
 */
const DEFAULT_SORT = '-timestamp';

export function validateSearch(params: SearchParams, now: number): ValidSearch | { error: string } {
  const limit = params.limit === undefined || params.limit === '' ? DEFAULT_PAGE_LIMIT : typeof params.limit === 'number' || typeof params.limit === 'string' ? Number(params.limit) : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) return { error: invalidField('page', `limit must be an integer between 1 and ${MAX_PAGE_LIMIT}, got ${JSON.stringify(params.limit)}`) };
  const sort = params.sort ?? DEFAULT_SORT;
  if (sort !== 'timestamp' && sort !== '-timestamp') return { error: invalidField('sort', `must be timestamp or -timestamp, got ${JSON.stringify(params.sort)}`) };
  const from = parseTime(params.from, now - 15 * 60_000, now);
  if (from === undefined) return { error: invalidField('filter.from', `not a date-time, epoch milliseconds or date math: ${JSON.stringify(params.from)}`) };
  const to = parseTime(params.to, now, now);
  if (to === undefined) return { error: invalidField('filter.to', `not a date-time, epoch milliseconds or date math: ${JSON.stringify(params.to)}`) };
  if (from > to) return { error: invalidField('filter.from,to', "'from' should be anterior to 'to'") };
  return { limit, from, to, sort };
}
