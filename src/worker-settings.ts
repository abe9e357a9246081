import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config/errors';

type Env = Record<string, string | undefined>;

/** The deployment a versioned worker belongs to: Temporal routes runs to a version (deployment name + build id). */
export interface WorkerVersion {
  deploymentName: string;
  buildId: string;
}

export interface WorkerRuntimeSettings {
  /** host:port of the health endpoint (/livez, /readyz); off when unset. */
  healthAddress?: string;
  /** How long SIGTERM waits for in-flight activities before cancelling them (SDK shutdownGraceTime), in ms. */
  shutdownGraceMs: number;
  /** After this the worker gives up on a graceful shutdown (SDK shutdownForceTime), in ms; unset: never. */
  shutdownForceMs?: number;
  /** Worker Versioning: set when enabled (AUDIT_SPIKE_WORKER_VERSIONING, --versioning, or the Worker Controller's env). */
  versioning?: WorkerVersion;
  /**
   * Activities at once (SDK maxConcurrentActivityTaskExecutions): what bounds a worker's memory, since each busy scan
   * holds its pages and its actors under watch (docs/performance.md, "Memory bound").
   */
  maxConcurrentActivities: number;
}

/**
 * V8 flags every deployed worker runs with (the image's entrypoint, the Kubernetes base, `npm run worker`, `npm start`,
 * and the bench's worker): they only take effect on node's command line or in NODE_OPTIONS, never at run time.
 *
 * `--max-semi-space-size=2`: V8 grows its young generation to 2 × 16 MB under a scan's allocation rate, and the page
 * bodies kept as bytes die there or get promoted with it; capped at 2 × 2 MB, a busy run of 200,000 events grows the
 * worker by about 54 MB instead of 75 (median of 3, `npm run bench`), at the same run / pagination ratio (0.92).
 */
export const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** A busy scan of 30,000 actors under watch needs about 50 MB of heap: 8 fit a 1 GiB container, 4 a 512 MiB one. */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 8;

/** The default drain: Kubernetes' default terminationGracePeriodSeconds is 30 s, so a plain SIGTERM drains within it. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;
export const DEFAULT_DEPLOYMENT_NAME = 'audit-spike';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const DurationSchema = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'must be a duration such as 500ms, 25s or 2m').transform((text) => {
  const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text)!;
  return Math.round(Number(amount) * UNITS[unit!]!);
});
const HostPortSchema = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:8080');
// Deployment names and build ids: printable, no spaces (the Worker Controller's deployment names read "name/namespace").
const NameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\-+/]{0,254}$/, 'must be letters, digits, ".", "_", "-", "+" or "/" (no spaces), at most 255');
const FlagSchema = z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** The product's version from package.json: the default build id of a versioned worker. */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'audit-spike' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

/**
 * The worker's own settings from its environment (besides Temporal's TEMPORAL_*, telemetry and encryption):
 *   AUDIT_SPIKE_HEALTH_ADDRESS          host:port of /livez and /readyz (off when unset)
 *   AUDIT_SPIKE_SHUTDOWN_GRACE_TIME     drain on SIGTERM before cancelling activities (default 25s)
 *   AUDIT_SPIKE_SHUTDOWN_FORCE_TIME     give up on a graceful shutdown after this (default: never)
 *   AUDIT_SPIKE_WORKER_VERSIONING       true: Worker Versioning on (also --versioning)
 *   AUDIT_SPIKE_DEPLOYMENT_NAME         the Worker Deployment (default audit-spike; TEMPORAL_DEPLOYMENT_NAME as set by
 *                                       the Temporal Worker Controller is honoured, and turns versioning on)
 *   AUDIT_SPIKE_BUILD_ID                the build id (default: the package version; TEMPORAL_WORKER_BUILD_ID honoured)
 *   AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES  activities (scans, pages) at once (default 8; 4 in a 512 MiB container)
 */
export function workerRuntimeSettings(env: Env, flags: { versioning?: boolean } = {}): WorkerRuntimeSettings {
  const value = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const parsed = z
    .object({
      AUDIT_SPIKE_HEALTH_ADDRESS: HostPortSchema.optional(),
      AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: DurationSchema.optional(),
      AUDIT_SPIKE_SHUTDOWN_FORCE_TIME: DurationSchema.optional(),
      AUDIT_SPIKE_WORKER_VERSIONING: FlagSchema.optional(),
      AUDIT_SPIKE_DEPLOYMENT_NAME: NameSchema.optional(),
      AUDIT_SPIKE_BUILD_ID: NameSchema.optional(),
      AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES: z.string().regex(/^[1-9]\d{0,3}$/, 'must be a whole number from 1 to 9999').transform(Number).optional(),
      TEMPORAL_DEPLOYMENT_NAME: NameSchema.optional(),
      TEMPORAL_WORKER_BUILD_ID: NameSchema.optional(),
    })
    .safeParse({
      AUDIT_SPIKE_HEALTH_ADDRESS: value('AUDIT_SPIKE_HEALTH_ADDRESS'),
      AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: value('AUDIT_SPIKE_SHUTDOWN_GRACE_TIME'),
      AUDIT_SPIKE_SHUTDOWN_FORCE_TIME: value('AUDIT_SPIKE_SHUTDOWN_FORCE_TIME'),
      AUDIT_SPIKE_WORKER_VERSIONING: value('AUDIT_SPIKE_WORKER_VERSIONING')?.toLowerCase(),
      AUDIT_SPIKE_DEPLOYMENT_NAME: value('AUDIT_SPIKE_DEPLOYMENT_NAME'),
      AUDIT_SPIKE_BUILD_ID: value('AUDIT_SPIKE_BUILD_ID'),
      AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES: value('AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES'),
      TEMPORAL_DEPLOYMENT_NAME: value('TEMPORAL_DEPLOYMENT_NAME'),
      TEMPORAL_WORKER_BUILD_ID: value('TEMPORAL_WORKER_BUILD_ID'),
    });
  if (!parsed.success) {
    throw new ConfigError('the worker environment', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const grace = e.AUDIT_SPIKE_SHUTDOWN_GRACE_TIME ?? DEFAULT_SHUTDOWN_GRACE_MS;
  if (e.AUDIT_SPIKE_SHUTDOWN_FORCE_TIME !== undefined && e.AUDIT_SPIKE_SHUTDOWN_FORCE_TIME <= grace) {
    throw new ConfigError('the worker environment', [`AUDIT_SPIKE_SHUTDOWN_FORCE_TIME (${e.AUDIT_SPIKE_SHUTDOWN_FORCE_TIME} ms) must be longer than AUDIT_SPIKE_SHUTDOWN_GRACE_TIME (${grace} ms)`]);
  }
  // The Temporal Worker Controller injects both of these into the pods it manages; a worker under it must be versioned.
  const controller = Boolean(e.TEMPORAL_DEPLOYMENT_NAME && e.TEMPORAL_WORKER_BUILD_ID);
  const versioned = flags.versioning ?? e.AUDIT_SPIKE_WORKER_VERSIONING ?? controller;
  return {
    ...(e.AUDIT_SPIKE_HEALTH_ADDRESS ? { healthAddress: e.AUDIT_SPIKE_HEALTH_ADDRESS } : {}),
    shutdownGraceMs: grace,
    maxConcurrentActivities: e.AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES ?? DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    ...(e.AUDIT_SPIKE_SHUTDOWN_FORCE_TIME !== undefined ? { shutdownForceMs: e.AUDIT_SPIKE_SHUTDOWN_FORCE_TIME } : {}),
    ...(versioned
      ? {
          versioning: {
            deploymentName: e.AUDIT_SPIKE_DEPLOYMENT_NAME ?? e.TEMPORAL_DEPLOYMENT_NAME ?? DEFAULT_DEPLOYMENT_NAME,
            buildId: e.AUDIT_SPIKE_BUILD_ID ?? e.TEMPORAL_WORKER_BUILD_ID ?? packageVersion(),
          },
        }
      : {}),
  };
}
