import { parseFlags, UsageError } from './cli';
import { codecFromEnv } from './codec/data-converter';
import { startCodecServer } from './codec/codec-server';

/** `audit-spike codec-server`: Temporal's remote codec endpoint for the web UI, with the key from the environment. */
export async function runCodecServerCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { values } = parseFlags(args, {
    port: { type: 'string', default: '8888' },
    host: { type: 'string', default: '127.0.0.1' },
    origin: { type: 'string', multiple: true, default: ['http://localhost:8233', 'http://127.0.0.1:8233'] },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number (0-65535), got ${values.port}`);
  const codec = codecFromEnv(env);
  if (!codec) throw new UsageError('AUDIT_SPIKE_ENCRYPTION_KEY is not set: the codec server needs the same key as the workers');
  const server = await startCodecServer({ codec, port, host: values.host!, origins: values.origin as string[], ...(env.AUDIT_SPIKE_CODEC_TOKEN ? { token: env.AUDIT_SPIKE_CODEC_TOKEN } : {}) });
  process.stderr.write(`audit-spike codec server at ${server.url} (POST /encode, /decode) for ${(values.origin as string[]).join(', ')}; Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return 0;
}
