import type { DataConverter } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../config/errors';
import { AesGcmCodec } from './aes-gcm-codec';

type Env = Record<string, string | undefined>;

const Base64Key = z
  .string()
  .transform((text) => Buffer.from(text, 'base64'))
  .refine((key) => key.length === 32, 'must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)');

/**
 * Payload encryption is off unless AUDIT_SPIKE_ENCRYPTION_KEY is set (base64 of 32 bytes). Rotation: put the new key
 * there with a new AUDIT_SPIKE_ENCRYPTION_KEY_ID, and the old ones in AUDIT_SPIKE_ENCRYPTION_OLD_KEYS as `id=base64,...`.
 */
export function codecFromEnv(env: Env): AesGcmCodec | undefined {
  if (!env.AUDIT_SPIKE_ENCRYPTION_KEY) return undefined;
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  const activeKeyId = env.AUDIT_SPIKE_ENCRYPTION_KEY_ID || 'default';
  const active = Base64Key.safeParse(env.AUDIT_SPIKE_ENCRYPTION_KEY);
  if (active.success) keys.set(activeKeyId, active.data);
  else problems.push(`AUDIT_SPIKE_ENCRYPTION_KEY: ${active.error.issues[0].message}`);
  for (const entry of (env.AUDIT_SPIKE_ENCRYPTION_OLD_KEYS ?? '').split(',').filter((part) => part.trim())) {
    const [id, value] = entry.split('=', 2).map((part) => part?.trim());
    const old = Base64Key.safeParse(value ?? '');
    if (!id || !old.success) problems.push(`AUDIT_SPIKE_ENCRYPTION_OLD_KEYS: "${id ?? entry}" must be id=base64-of-32-bytes`);
    else keys.set(id, old.data);
  }
  if (problems.length) throw new ConfigError('the environment', problems);
  return new AesGcmCodec(keys, activeKeyId);
}

/** The data converter every client and worker of one deployment must share. */
export function dataConverterFromEnv(env: Env): DataConverter | undefined {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
