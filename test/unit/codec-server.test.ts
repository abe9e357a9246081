import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { startCodecServer, type CodecServerOptions } from '../../src/codec/codec-server';

const codec = new AesGcmCodec(new Map([['k1', randomBytes(32)]]), 'k1');
const SECRET_EMAIL = 'zed.secret-admin@example.com';

async function withServer(options: Partial<CodecServerOptions>, body: (url: string) => Promise<void>): Promise<void> {
  const server = await startCodecServer({ codec, port: 0, origins: ['http://localhost:8233'], ...options });
  try {
    await body(server.url);
  } finally {
    await server.stop();
  }
}

async function encryptedBody(): Promise<string> {
  const encoded = await codec.encode([{ metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(SECRET_EMAIL)) }]);
  return JSON.stringify({
    payloads: encoded.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(p.data!).toString('base64') })),
  });
}

function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  return fetch(`${url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('codec server against hostile input', () => {
  test('decodes a valid request', async () => {
    await withServer({}, async (url) => {
      const response = await post(url, await encryptedBody());
      expect(response.status).toBe(200);
      const decoded = (await response.json()) as { payloads: Array<{ data: string }> };
      expect(Buffer.from(decoded.payloads[0].data, 'base64').toString()).toBe(JSON.stringify(SECRET_EMAIL));
    });
  });

  test('a body past the configured size gets 413, declared or streamed', async () => {
    await withServer({ maxBodyBytes: 2048 }, async (url) => {
      expect((await post(url, Buffer.alloc(4096, 'a'))).status).toBe(413);
      // Chunked, with no Content-Length: the limit is enforced while reading.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < 8; i++) req.write(Buffer.alloc(1024, 'b'));
        req.end();
      });
      expect(status).toBe(413);
      expect((await post(url, await encryptedBody())).status).toBe(200);
    });
  });

  test('malformed payloads get a 400 that does not echo them', async () => {
    await withServer({}, async (url) => {
      const hostile = [
        `{"payloads": "${SECRET_EMAIL}"`,
        JSON.stringify({ payloads: [{ data: `${SECRET_EMAIL}!!` }] }),
        JSON.stringify({ nope: SECRET_EMAIL }),
        JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': Buffer.from('k1').toString('base64') }, data: Buffer.from(SECRET_EMAIL).toString('base64') }] }),
      ];
      for (const body of hostile) {
        const response = await post(url, body);
        expect(response.status).toBe(400);
        const text = await response.text();
        expect(text).not.toContain(SECRET_EMAIL);
        expect(text).not.toContain(Buffer.from(SECRET_EMAIL).toString('base64'));
      }
    });
  });

  test('with a token, only the exact bearer token is accepted', async () => {
    await withServer({ token: 's3cret-token' }, async (url) => {
      const body = await encryptedBody();
      expect((await post(url, body)).status).toBe(401);
      expect((await post(url, body, { authorization: 'Bearer s3cret-tokeX' })).status).toBe(401);
      expect((await post(url, body, { authorization: 'Bearer s3cret-token-and-more' })).status).toBe(401);
      expect((await post(url, body, { authorization: 'Bearer s3cret-token' })).status).toBe(200);
    });
  });

  test('can require the Authorization header the web UI forwards', async () => {
    await withServer({ requireAuthorization: true }, async (url) => {
      const body = await encryptedBody();
      expect((await post(url, body)).status).toBe(401);
      expect((await post(url, body, { authorization: 'Bearer eyJhbGciOi.forwarded.by-the-ui' })).status).toBe(200);
    });
    await withServer({}, async (url) => {
      expect((await post(url, await encryptedBody())).status).toBe(200);
    });
  });
});
