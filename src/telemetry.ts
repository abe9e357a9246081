import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { z } from 'zod';
import { ConfigError } from './config/errors';

type Env = Record<string, string | undefined>;

const LogLevelSchema = z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']);
const HostPortSchema = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464');

/** One JSON object per line: time, level, message and the SDK's metadata (workflow and run ids, our window and org). */
export function jsonLogLine(entry: LogEntry): string {
  const { sdkComponent, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
  return JSON.stringify({
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level.toLowerCase(),
    message: entry.message,
    ...(sdkComponent ? { component: sdkComponent } : {}),
    ...meta,
  });
}

export interface TelemetrySettings {
  metricsAddress?: string;
  logLevel: z.infer<typeof LogLevelSchema>;
  logFormat: 'json' | 'text';
}

export function telemetrySettings(env: Env): TelemetrySettings {
  const parsed = z
    .object({
      AUDIT_SPIKE_METRICS_ADDRESS: HostPortSchema.optional(),
      AUDIT_SPIKE_LOG_LEVEL: LogLevelSchema.default('INFO'),
      AUDIT_SPIKE_LOG_FORMAT: z.enum(['json', 'text']).default('json'),
    })
    .safeParse({
      AUDIT_SPIKE_METRICS_ADDRESS: env.AUDIT_SPIKE_METRICS_ADDRESS || undefined,
      AUDIT_SPIKE_LOG_LEVEL: env.AUDIT_SPIKE_LOG_LEVEL?.toUpperCase() || undefined,
      AUDIT_SPIKE_LOG_FORMAT: env.AUDIT_SPIKE_LOG_FORMAT || undefined,
    });
  if (!parsed.success) {
    throw new ConfigError('the worker environment', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return {
    ...(parsed.data.AUDIT_SPIKE_METRICS_ADDRESS ? { metricsAddress: parsed.data.AUDIT_SPIKE_METRICS_ADDRESS } : {}),
    logLevel: parsed.data.AUDIT_SPIKE_LOG_LEVEL,
    logFormat: parsed.data.AUDIT_SPIKE_LOG_FORMAT,
  };
}

/**
 * Installs the SDK runtime once per process: structured JSON logs on stderr, and, with AUDIT_SPIKE_METRICS_ADDRESS, the
 * SDK's own Prometheus exporter (worker, workflow and activity metrics, plus audit-spike's counters, all prefixed).
 */
export function installTelemetry(env: Env): TelemetrySettings {
  const settings = telemetrySettings(env);
  const logger = settings.logFormat === 'json'
    ? new DefaultLogger(settings.logLevel, (entry) => process.stderr.write(`${jsonLogLine(entry)}\n`))
    : new DefaultLogger(settings.logLevel);
  Runtime.install({
    logger,
    ...(settings.metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: settings.metricsAddress } } } } : {}),
  });
  return settings;
}
