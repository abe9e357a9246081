import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** One answer of the simulator: status, JSON body (or none, for an undocumented empty body) and headers. */
export class Reply {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {}
}

export type Query = Record<string, string | string[]>;

/**
 * PagerDuty's REST error body, `{error: {message, code, errors}}` (developer-docs docs/REST-API/14-Errors.md @ dd5097c1;
 * api-schema reference/REST/openapiv3.json @ 91a06fb3, the schema of responses.Conflict).
 */
export function restError(status: number, message: string, code: number, errors?: string[]): Reply {
  return new Reply(status, { error: { message, code, ...(errors ? { errors } : {}) } });
}

export const invalidInput = (...errors: string[]) => restError(400, 'Invalid Input Provided', 2001, errors);
export const notFound = () => restError(404, 'Not Found', 2100);
/** Events API v2 400: `{status, message, errors}` (v2.developer.pagerduty.com "send an event", stored page). */
export const invalidEvent = (...errors: string[]) => new Reply(400, { status: 'invalid event', message: 'Event object is invalid', errors });

export function asReply(error: unknown): Reply {
  return error instanceof Reply ? error : restError(500, `simulator error: ${(error as Error).message}`, 2000);
}

/** Repeated keys ending in `[]` are lists (PagerDuty's `statuses[]=a&statuses[]=b`); other keys keep their last value. */
export function parseQuery(url: URL): Query {
  const query: Query = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = key.endsWith('[]') ? values : values[values.length - 1];
  }
  return query;
}

export function asList(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

export function first(value: string | string[] | undefined): string | undefined {
  return asList(value)?.[0];
}

/** A copy with the secrets a body may carry replaced, so what the simulator records can be shown and asserted freely. */
export function redactedBody<T>(value: T): T {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of ['routing_key', 'token']) if (key in copy) copy[key] = '[redacted]';
  return copy as T;
}

/** The request headers contract tests check, with the token replaced but its scheme kept (`Token token=[redacted]`). */
export const RECORDED_HEADERS = ['accept', 'authorization', 'content-type', 'from', 'user-agent'] as const;

export function redactedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of RECORDED_HEADERS) {
    const value = headers[name];
    if (typeof value !== 'string') continue;
    kept[name] = name === 'authorization' ? value.replace(/^(Token token=|Bearer )?.*$/s, (_all, scheme: string | undefined) => `${scheme ?? ''}[redacted]`) : value;
  }
  return kept;
}

/** A body read whole, up to `maxBytes`; past that the request is refused with 413 (and the connection closed). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop reading (destroying the request would leave no socket to answer on); the answer closes the connection.
      req.off('data', onData).pause();
      reject(new Reply(413, { error: { message: 'Request Entity Too Large', code: 2001 } }, { connection: 'close' }));
    };
    req.on('data', onData);
    req.once('error', reject);
    req.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

export function parseJson(raw: Buffer, invalid: () => Reply): unknown {
  const text = raw.toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalid();
  }
}

/**
 * `application/json`, with or without parameters: pdjs sends `application/json; charset=utf-8` (pdjs src/common.ts
 * @ a10d3f18), which the REST spec's literal enum `["application/json"]` would refuse.
 */
export function isJsonContentType(value: string | undefined): boolean {
  return typeof value === 'string' && value.split(';')[0].trim().toLowerCase() === 'application/json';
}

export function send(res: ServerResponse, reply: Reply): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status, { 'content-length': 0, ...reply.headers });
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...reply.headers });
  res.end(text);
}
