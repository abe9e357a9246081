import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

/** Temporal's remote codec body: payloads with base64 metadata values and data. */
const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const CodecRequestSchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), Base64).optional(), data: Base64.optional() })),
});
type JsonPayload = z.infer<typeof CodecRequestSchema>['payloads'][number];

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

/** A run result with its carried state is well under 1 MiB; 4 MiB leaves room for a page of the workflow list. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface CodecServerOptions {
  codec: PayloadCodec;
  port: number;
  host?: string;
  /** Browser origins allowed to call it (the Temporal web UI), e.g. http://localhost:8233. */
  origins: string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Refuse requests without an `Authorization` header: the web UI forwards the signed-in user's access token when its
   * codec setting "pass access token" is on, so only people signed in to the UI reach the decrypted payloads.
   */
  requireAuthorization?: boolean;
  /** Bodies larger than this get 413 without being read further (default 4 MiB). */
  maxBodyBytes?: number;
}

/** Compares secrets in time that does not depend on where they first differ (digests make the lengths equal). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Temporal's remote codec protocol (`POST /encode`, `POST /decode`), so the web UI and `temporal` CLI show decrypted
 * payloads to those who can reach this endpoint, while the server only ever stores ciphertext.
 */
export async function startCodecServer(options: CodecServerOptions): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => void handle(options, req, res));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { server, url: `http://${host}:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

function authorized(options: CodecServerOptions, header: string | undefined): boolean {
  if (options.token !== undefined) return header !== undefined && sameSecret(header, `Bearer ${options.token}`);
  return !options.requireAuthorization || (header !== undefined && header.trim() !== '');
}

async function handle(options: CodecServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const origin = req.headers.origin;
  if (origin && options.origins.includes(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
  }
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 413 ? { connection: 'close' } : {}) });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'OPTIONS') return void res.writeHead(204).end();
  const route = req.url?.split('?')[0];
  if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode')) return reply(404, { message: 'POST /encode or /decode' });
  if (!authorized(options, req.headers.authorization)) return reply(401, { message: 'a valid Authorization header is required' });
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let raw: Buffer;
  try {
    raw = await readBody(req, limit);
  } catch (error) {
    if (error instanceof BodyTooLarge) return reply(413, { message: `the body is larger than ${limit} bytes` });
    return reply(400, { message: 'the request body could not be read' });
  }
  // Neither the body nor a parser's message (which quotes it) goes back: a decode request holds ciphertext of secrets.
  let parsed: z.infer<typeof CodecRequestSchema>;
  try {
    const body = CodecRequestSchema.safeParse(JSON.parse(raw.toString('utf8')));
    if (!body.success) return reply(400, { message: 'the body must be {"payloads": [{"metadata": {key: base64}, "data": base64}]}' });
    parsed = body.data;
  } catch {
    return reply(400, { message: 'the body is not JSON; it must be {"payloads": [...]}' });
  }
  try {
    const payloads = parsed.payloads.map(fromJson);
    const out = route === '/encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    reply(200, { payloads: out.map(toJson) });
  } catch {
    reply(400, { message: `cannot ${route.slice(1)} these payloads (wrong key, or not payloads this codec wrote)` });
  }
}
