import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export interface TemporalSettings {
  /** `connectTimeout` bounds how long a client waits for an unreachable server (workers' native connections ignore it). */
  connectionOptions: NativeConnectionOptions & { connectTimeout?: string };
  namespace: string;
  /** The address in use, and where it came from: `TEMPORAL_ADDRESS`, an envconfig profile (and its file), or the default. */
  address: string;
  addressFrom: string;
}

/** A client gives up on an unreachable Temporal after this long (the gRPC client's own default is 10 s), so a CLI command says so within 5 s. */
export const CLI_CONNECT_TIMEOUT = '2s';

function profileFile(env: Record<string, string | undefined>): string {
  if (env.TEMPORAL_CONFIG_FILE) return env.TEMPORAL_CONFIG_FILE;
  const base = env.XDG_CONFIG_HOME ?? (process.platform === 'darwin' ? join(homedir(), 'Library', 'Application Support') : join(homedir(), '.config'));
  return join(base, 'temporalio', 'temporal.toml');
}

/**
 * Where Temporal is, from the standard Temporal environment configuration: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the TOML profiles file (TEMPORAL_CONFIG_FILE). Defaults to the
 * local dev server. The same settings serve the worker and the client, so moving to Temporal Cloud is configuration only.
 */
export function temporalSettings(env: Record<string, string | undefined> = process.env): TemporalSettings {
  const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const config = loadClientConnectConfig({ overrideEnvVars, ...(env.TEMPORAL_PROFILE ? { profile: env.TEMPORAL_PROFILE } : {}) });
  const address = config.connectionOptions.address ?? 'localhost:7233';
  const addressFrom = env.TEMPORAL_ADDRESS
    ? 'TEMPORAL_ADDRESS'
    : config.connectionOptions.address
      ? `envconfig profile "${env.TEMPORAL_PROFILE ?? 'default'}" in ${profileFile(env)}`
      : 'the default (no TEMPORAL_ADDRESS, no envconfig profile)';
  return {
    connectionOptions: { connectTimeout: CLI_CONNECT_TIMEOUT, ...config.connectionOptions, address },
    namespace: config.namespace ?? 'default',
    address,
    addressFrom,
  };
}

/** True for the errors of a Temporal server that cannot be reached (refused, unresolvable, timed out, unavailable). */
export function isTemporalUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TemporalUnreachableError') return true;
  if (error.message === 'Failed to connect before the deadline') return true;
  if (error.name === 'TransportError' && /connect|dns|resolve|refused|timed out/i.test(error.message)) return true;
  // gRPC status 14 UNAVAILABLE: the server went away after the connection was made.
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return error.name === 'ServiceError' && code === 14;
}

/** One line for a person: the address tried, where it came from, and how to get a Temporal. */
export function temporalUnreachableMessage(env: Record<string, string | undefined> = process.env): string {
  let where: string;
  try {
    const settings = temporalSettings(env);
    where = `${settings.address} (from ${settings.addressFrom})`;
  } catch (error) {
    where = `the address of the Temporal settings (which cannot be read: ${(error as Error).message.split('\n')[0]})`;
  }
  return `cannot reach Temporal at ${where}. Start the local dev stack with \`npm start\` (or \`audit-spike dev\`), ` +
    'or point TEMPORAL_ADDRESS (or TEMPORAL_PROFILE) at a running server.';
}

export const DEFAULT_TASK_QUEUE = 'audit-spike';

/** A Temporal that did not answer the reachability probe; its message is the one line a person sees. */
export class TemporalUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalUnreachableError';
  }
}

/** `host:port` or `[v6]:port` → host and port; undefined for anything else (then no probe is made). */
function hostAndPort(address: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address.trim());
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65_536 ? { host: match[1], port } : undefined;
}

/**
 * Before a command loads its (heavy) modules and lets gRPC retry until its deadline: one TCP connection to the Temporal
 * address. Refused, unresolvable or silent for `timeoutMs` → TemporalUnreachableError with the one-line message.
 */
export async function probeTemporal(env: Record<string, string | undefined> = process.env, timeoutMs = 2_000): Promise<void> {
  let target: { host: string; port: number } | undefined;
  try {
    target = hostAndPort(temporalSettings(env).address);
  } catch {
    return; // Settings that cannot be read: the command itself says why.
  }
  if (!target) return;
  const { createConnection } = await import('node:net');
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: target.host, port: target.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (!reachable) throw new TemporalUnreachableError(temporalUnreachableMessage(env));
}
