import { startCodecServer } from '../codec/codec-server';
import { codecFromEnv } from '../codec/data-converter';
import { UsageError, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike codec-server [--port 8888] [--host 127.0.0.1] [--origin URL ...]

Temporal's remote codec endpoint (POST /encode, /decode) so the web UI can show encrypted payloads. The key comes
from AUDIT_SPIKE_ENCRYPTION_KEY (the workers' key); AUDIT_SPIKE_CODEC_TOKEN, when set, is required as a bearer token.

Flags:
  --port N       port to listen on (default: 8888)
  --host HOST    address to bind (default: 127.0.0.1)
  --origin URL   web UI origin allowed by CORS, repeatable (default: http://localhost:8233 and http://127.0.0.1:8233)

Example:
  AUDIT_SPIKE_ENCRYPTION_KEY=... audit-spike codec-server --port 8888`;

/** `audit-spike codec-server`: Temporal's remote codec endpoint for the web UI, with the key from the environment. */
async function runCodecServerCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
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

export const codecServerCommand: CliCommand = {
  name: 'codec-server',
  summary: 'decrypt payloads for the web UI (AUDIT_SPIKE_ENCRYPTION_KEY)',
  help: HELP,
  run: (args) => runCodecServerCommand(args),
};
