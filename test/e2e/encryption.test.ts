import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { startCodecServer } from '../../src/codec/codec-server';
import { codecFromEnv, dataConverterFromEnv } from '../../src/codec/data-converter';
import { ConfigError } from '../../src/config/errors';
import { applySchedule } from '../../src/schedule';
import { ACTIONS, burst } from '../../sim/audit-events';
import { historyBytes } from '../support/history';
import { triggerAndWait, withStackAndWorker, type Stack } from '../support/stack';

const MIN = 60_000;
const key = randomBytes(32).toString('base64');
const env = { AUDIT_SPIKE_ENCRYPTION_KEY: key, AUDIT_SPIKE_ENCRYPTION_KEY_ID: 'k2026' };

describe('payload encryption (on)', () => {
  let stack: Stack;

  withStackAndWorker((started) => (stack = started), { dataConverter: dataConverterFromEnv(env)! });

  test('actor emails and summaries are ciphertext in history; holders of the key read them; the codec endpoint decodes', async () => {
    const actor = { id: 'u-zed', email: 'zed.secret-admin@example.com' };
    stack.datadog.addEvents(burst(actor, ACTIONS.apiKeyCreate, 4, Date.now() - 3 * MIN, 2 * MIN));
    const config = stack.config('schedule:\n  ingestionDelay: 1s\n', 'enc');
    await applySchedule(stack.client, config);
    const result = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(result.incidents.map((incident) => incident.actor)).toEqual(['zed.secret-admin@example.com']);
    expect(stack.pagerduty.incidents).toHaveLength(1);

    const handle = stack.client.workflow.getHandle((await stack.client.schedule.getHandle(config.schedule.scheduleId).describe()).info.recentActions[0].action.workflow.workflowId);
    const bytes = await historyBytes(handle);
    expect(bytes.includes('binary/encrypted')).toBe(true);
    expect(bytes.includes('zed.secret-admin')).toBe(false);
    expect(bytes.includes('api_key_create')).toBe(false);

    // Without the key, a client sees only ciphertext.
    const blind = new Client({ connection: stack.client.connection });
    await expect(blind.workflow.getHandle(handle.workflowId).result()).rejects.toThrow();

    const codec = codecFromEnv(env)!;
    const server = await startCodecServer({ codec, port: 0, origins: ['http://localhost:8233'] });
    try {
      const encoded = await codec.encode([{ metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') }, data: Buffer.from('"zed.secret-admin@example.com"') }]);
      const body = { payloads: encoded.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(p.data!).toString('base64') })) };
      const response = await fetch(`${server.url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://localhost:8233', 'x-namespace': 'default' }, body: JSON.stringify(body) });
      expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      const decoded = (await response.json()) as { payloads: Array<{ data: string }> };
      expect(Buffer.from(decoded.payloads[0].data, 'base64').toString()).toBe('"zed.secret-admin@example.com"');
    } finally {
      await server.stop();
    }
  });

  test('keys rotate: payloads under an old key still decrypt; a bad key is a configuration error', async () => {
    const old = randomBytes(32);
    const before = new AesGcmCodec(new Map([['old', old]]), 'old');
    const sealed = await before.encode([{ metadata: {}, data: Buffer.from('x') }]);
    const rotated = codecFromEnv({ ...env, AUDIT_SPIKE_ENCRYPTION_OLD_KEYS: `old=${old.toString('base64')}` })!;
    expect(Buffer.from((await rotated.decode(sealed))[0].data!).toString()).toBe('x');
    expect(() => codecFromEnv({ AUDIT_SPIKE_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(ConfigError);
    expect(() => codecFromEnv({ AUDIT_SPIKE_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(/32 random bytes/);
    expect(codecFromEnv({})).toBeUndefined();
  });
});
