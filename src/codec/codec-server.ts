import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

export interface CodecServerOptions {
  codec: PayloadCodec;
  port: number;
  host?: string;
  /** Browser origins allowed to call it (the Temporal web UI), e.g. http://localhost:8233. */
  origins: string[];
  /** When set, requests must carry `Authorization: Bearer <token>` (the UI can forward the user's token). */
  token?: string;
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

async function handle(options: CodecServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const origin = req.headers.origin;
  if (origin && options.origins.includes(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
  }
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'OPTIONS') return void res.writeHead(204).end();
  const route = req.url?.split('?')[0];
  if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode')) return reply(404, { message: 'POST /encode or /decode' });
  if (options.token && req.headers.authorization !== `Bearer ${options.token}`) return reply(401, { message: 'a valid bearer token is required' });
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
    if (!Array.isArray(body.payloads)) return reply(400, { message: 'body must be {"payloads": [...]}' });
    const payloads = body.payloads.map(fromJson);
    const out = route === '/encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    reply(200, { payloads: out.map(toJson) });
  } catch (error) {
    reply(400, { message: `cannot ${route?.slice(1)}: ${(error as Error).message}` });
  }
}
