import { api, event } from '@pagerduty/pdjs';
import type { Agent } from 'node:https';
import type { PagerDutyTarget } from '../../config/args-schema';
import { needsAttention, passing } from '../failures';
import { agentTrusting } from '../tls-agent';
import { retryDelayMs } from './rate-limit';

export type EventsTarget = Extract<PagerDutyTarget, { mode: 'events' }>;
export type RestTarget = Extract<PagerDutyTarget, { mode: 'rest' }>;

export interface PagerDutyResponse {
  status: number;
  data: any;
  headers: { get(name: string): string | null };
}

/**
 * pdjs retries a 429 by itself, 3 times after a fixed `retryTimeout`, ignoring `ratelimit-reset`, and then resolves with
 * the last 429 (pdjs src/common.ts fetch_retry @ a10d3f18); it cannot be told not to. Its blind retries are kept short
 * and cheap, and the real wait is Temporal's: the activity fails with `nextRetryDelay` taken from the 429's headers.
 */
export const PDJS_RETRY_DELAY_MS = 1_000;
const PDJS_RETRIES = 3;

/** One pdjs call, its own 429 retries included, is bounded by this; the workflow's activity timeouts allow for it. */
export function callBudgetMs(requestTimeoutMs: number): number {
  return requestTimeoutMs + PDJS_RETRIES * PDJS_RETRY_DELAY_MS;
}

/** The REST error body's code (`{error: {code}}`, docs/REST-API/14-Errors.md @ dd5097c1), when there is one. */
export function restErrorCode(body: unknown): number | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A non-2xx answer as the failure Temporal should see: retried (429 after the wait PagerDuty asked for, 5xx) or not. */
export function failOnStatus(response: Pick<PagerDutyResponse, 'status' | 'data'> & { headers?: PagerDutyResponse['headers'] }, what: string): never {
  const { status } = response;
  const detail = JSON.stringify(response.data ?? '').slice(0, 400);
  if (status === 429) {
    const delay = retryDelayMs(response.headers);
    throw passing('PagerDutyRateLimited', `PagerDuty rate-limited ${what} (429)${delay ? `; retrying in ${Math.round(delay / 1000)} s as it asked` : '; retrying with backoff'}: ${detail}`, delay);
  }
  if (status >= 500 || status === 408) throw passing('PagerDutyUnavailable', `PagerDuty answered ${status} to ${what}; retrying: ${detail}`);
  if (status === 401 || status === 403) {
    throw needsAttention('PagerDutyAuthRejected', `PagerDuty answered ${status} to ${what}: the token or routing key is wrong or lacks access. ${detail}`);
  }
  throw needsAttention('PagerDutyRejected', `PagerDuty rejected ${what} with ${status}: ${detail}`);
}

/** `POST https://<eventsServer>/v2/enqueue` through pdjs; the answer whatever its status (pdjs never rejects on one). */
export async function postEvent(target: EventsTarget, data: Record<string, unknown>): Promise<PagerDutyResponse> {
  const agent = agentTrusting(target.caFile);
  try {
    const response = await event({
      server: target.eventsServer,
      retryTimeout: PDJS_RETRY_DELAY_MS,
      // Our own signal bounds the call; pdjs' requestTimeout only parks an idle timer that outlives the call.
      requestTimeout: 0,
      signal: AbortSignal.timeout(callBudgetMs(target.requestTimeoutMs)),
      ...(agent ? { agent } : {}),
      data,
    } as unknown as Parameters<typeof event>[0] & { agent?: Agent });
    return response as unknown as PagerDutyResponse;
  } catch (error) {
    // pdjs rejects when the body is not JSON, as the Events API's undocumented 429 body may be (pdjs src/events.ts).
    // (node-fetch reports it as a FetchError of type 'invalid-json'; a native fetch as a SyntaxError.)
    if (error instanceof SyntaxError || (error as { type?: unknown }).type === 'invalid-json') throw passing('PagerDutyUnavailable', `PagerDuty Events API at ${target.eventsServer} answered without a JSON body (a throttle or an outage?); retrying`);
    throw passing('PagerDutyUnreachable', `PagerDuty Events API at ${target.eventsServer} unreachable: ${(error as Error).message}`);
  }
}

/** A REST call through pdjs with `From` and our bounds; `query` keys carry their `[]` as PagerDuty names them. */
export async function restRequest(
  target: RestTarget,
  token: string,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  options: { data?: unknown; query?: Record<string, string | string[]> } = {},
): Promise<PagerDutyResponse> {
  // node-fetch would hand an https agent to a plain-http URL too (and fail); the CA only matters for https.
  const agent = target.apiUrl.startsWith('https:') ? agentTrusting(target.caFile) : undefined;
  try {
    const response = await (api as unknown as (params: Record<string, unknown>) => Promise<PagerDutyResponse>)({
      token,
      url: `${target.apiUrl.replace(/\/+$/, '')}${path}`,
      method,
      headers: { From: target.fromEmail },
      retryTimeout: PDJS_RETRY_DELAY_MS,
      requestTimeout: 0,
      signal: AbortSignal.timeout(callBudgetMs(target.requestTimeoutMs)),
      ...(options.data !== undefined ? { data: options.data } : {}),
      ...(options.query ? { queryParameters: options.query } : {}),
      ...(agent ? { agent } : {}),
    });
    return response;
  } catch (error) {
    // pdjs rejects with the Response itself when the body is not JSON (pdjs src/api.ts apiRequest).
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number') {
      const headers = (error as { headers?: PagerDutyResponse['headers'] }).headers;
      failOnStatus({ status, data: undefined, ...(headers ? { headers } : {}) }, `${method} ${path}`);
    }
    throw passing('PagerDutyUnreachable', `PagerDuty REST API at ${target.apiUrl} unreachable: ${(error as Error).message}`);
  }
}
