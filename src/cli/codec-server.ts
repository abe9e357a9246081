import { DEFAULT_MAX_BODY_BYTES, startCodecServer } from '../codec/codec-server';
import { codecFromEnv } from '../codec/data-converter';
import { UsageError, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike codec-server [--port 8888] [--host 127.0.0.1] [--origin URL ...] [--require-authorization] [--max-body-bytes N]

Temporal's remote codec endpoint (POST /encode, /decode) so the web UI can show encrypted payloads. The key comes
from AUDIT_SPIKE_ENCRYPTION_KEY (the workers' key); AUDIT_SPIKE_CODEC_TOKEN, when set, is required as a bearer token
(compared in constant time).

Flags:
  --port N                  port to listen on (default: 8888)
  --host HOST               address to bind (default: 127.0.0.1)
  --origin URL              web UI origin allowed by CORS, repeatable (default: http://localhost:8233 and http://127.0.0.1:8233)
  --require-authorization   refuse requests without the Authorization header the web UI forwards (codec "pass access token")
  --max-body-bytes N        answer 413 to larger bodies (default: ${DEFAULT_MAX_BODY_BYTES})

Example:
  AUDIT_SPIKE_ENCRYPTION_KEY=... audit-spike codec-server --port 8888`;

/** `audit-spike codec-server`: Temporal's remote codec endpoint for the web UI, with the key from the environment. */
async function runCodecServerCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { values } = parseFlags(args, {
    port: { type: 'string', default: '8888' },
    host: { type: 'string', default: '127.0.0.1' },
    origin: { type: 'string', multiple: true, default: ['http://localhost:8233', 'http://127.0.0.1:8233'] },
    'require-authorization': { type: 'boolean', default: false },
    'max-body-bytes': { type: 'string', default: String(DEFAULT_MAX_BODY_BYTES) },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number (0-65535), got ${values.port}`);
  const maxBodyBytes = Number(values['max-body-bytes']);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) throw new UsageError(`--max-body-bytes must be a whole number of bytes, at least 1024, got ${values['max-body-bytes']}`);
  const codec = codecFromEnv(env);
  if (!codec) throw new UsageError('AUDIT_SPIKE_ENCRYPTION_KEY is not set: the codec server needs the same key as the workers');
  const server = await startCodecServer({ codec, port, host: values.host!, origins: values.origin as string[], maxBodyBytes, requireAuthorization: values['require-authorization']!, ...(env.AUDIT_SPIKE_CODEC_TOKEN ? { token: env.AUDIT_SPIKE_CODEC_TOKEN } : {}) });
  process.stderr.write(`audit-spike codec server at ${server.url} (POST /encode, /decode) for ${(values.origin as string[]).join(', ')}; Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return 0;
}

export const codecServerCommand: CliCommand = {
  name: 'codec-server',
  summary: 'decrypt payloads for the web UI (AUDIT_SPIKE_ENCRYPTION_KEY)',
  help: HELP,
  run: (args) => runCodecServerCommand(args),
};
