import { DEFAULT_TEMPLATES } from '../detection/summary';
import type { MatchClause, RuleSpec } from '../detection/types';
import { AuditSpikeArgsSchema, describeIssues, type AuditSpikeArgs } from './args-schema';
import { DEFAULT_RULES } from './default-rules';
import { ConfigError } from './errors';
import type { FileConfig, FileRule } from './file-schema';

export interface ScheduleSpec {
  scheduleId: string;
  taskQueue: string;
  intervalMs: number;
  catchupWindowMs: number;
  paused: boolean;
}

export interface ResolvedConfig {
  args: AuditSpikeArgs;
  schedule: ScheduleSpec;
}

export const DEFAULT_ACTOR_FIELDS = [
  { path: 'usr.email', kind: 'email' as const, prefix: '' },
  { path: 'usr.id', kind: 'id' as const, prefix: '' },
  { path: 'metadata.api_key.id', kind: 'api_key' as const, prefix: 'api_key:' },
];

function clauseOf(map: Record<string, string | string[]>): MatchClause {
  return { all: Object.entries(map).map(([path, value]) => ({ path, values: Array.isArray(value) ? value : [value] })) };
}

/** Resolved rules and, for each, where the person defined it (for error messages). */
function resolveRules(config: FileConfig, problems: string[]): { rules: RuleSpec[]; origins: string[] } {
  const rules = config.detection.defaultRules ? DEFAULT_RULES.map((rule) => structuredClone(rule)) : [];
  const origins = rules.map((rule) => `default rule "${rule.id}"`);
  config.detection.rules.forEach((entry: FileRule, index) => {
    const where = `detection.rules[${index}] (id "${entry.id}")`;
    const existingIndex = rules.findIndex((rule) => rule.id === entry.id);
    const existing = rules[existingIndex];
    const anyOf = entry.match ? [clauseOf(entry.match)] : entry.matchAny ? entry.matchAny.map(clauseOf) : undefined;
    if (existing) {
      if (entry.description !== undefined) existing.description = entry.description;
      if (entry.enabled !== undefined) existing.enabled = entry.enabled;
      if (anyOf) {
        existing.anyOf = anyOf;
        delete existing.combines;
      }
      if (entry.combine) {
        existing.combines = entry.combine;
        existing.anyOf = [];
      }
      if (entry.window !== undefined) existing.windowMs = entry.window;
      if (entry.tiers) existing.tiers = entry.tiers;
      origins[existingIndex] = where;
      return;
    }
    const missing = [!anyOf && !entry.combine ? 'match (or matchAny, or combine)' : '', entry.window === undefined ? 'window' : '', entry.tiers ? '' : 'tiers']
      .filter(Boolean);
    if (missing.length) {
      const known = rules.map((rule) => rule.id).join(', ');
      problems.push(`${where}: a new rule needs ${missing.join(', ')} (or use the id of a rule to override: ${known})`);
      return;
    }
    rules.push({
      id: entry.id,
      description: entry.description ?? entry.id,
      enabled: entry.enabled ?? true,
      anyOf: anyOf ?? [],
      ...(entry.combine ? { combines: entry.combine } : {}),
      windowMs: entry.window!,
      tiers: entry.tiers!,
    });
    origins.push(where);
  });
  return { rules, origins };
}

/** The Datadog web app for a site: datadoghq.com → https://app.datadoghq.com, us3.datadoghq.com → https://us3.datadoghq.com. */
export function appUrlForSite(site: string | undefined): string {
  if (!site || site === 'datadoghq.com') return 'https://app.datadoghq.com';
  if (site === 'datadoghq.eu') return 'https://app.datadoghq.eu';
  return `https://${site}`;
}

export function resolveConfig(config: FileConfig, source = 'config'): ResolvedConfig {
  const problems: string[] = [];
  const { rules, origins } = resolveRules(config, problems);
  const { datadog, pagerduty, schedule, detection } = config;
  if (datadog.site && datadog.baseUrl) problems.push('datadog: set either site or baseUrl, not both');
  if (pagerduty.mode === 'rest') {
    if (!pagerduty.serviceId) problems.push('pagerduty.serviceId: required when mode is rest (the PagerDuty service to open incidents on)');
    if (!pagerduty.fromEmail) problems.push('pagerduty.fromEmail: required when mode is rest (PagerDuty needs a From header with a user\'s email)');
  }
  if (schedule.interval < 60_000) problems.push('schedule.interval: must be at least 1m');
  if (problems.length) throw new ConfigError(source, problems);

  const pagerdutyTarget = pagerduty.mode === 'events'
    ? {
        mode: 'events' as const,
        routingKeyEnv: pagerduty.routingKeyEnv,
        eventsServer: pagerduty.eventsServer,
        source: pagerduty.source,
        requestTimeoutMs: pagerduty.requestTimeout,
        ...(pagerduty.caFile ? { caFile: pagerduty.caFile } : {}),
      }
    : {
        mode: 'rest' as const,
        tokenEnv: pagerduty.tokenEnv,
        apiUrl: pagerduty.apiUrl,
        serviceId: pagerduty.serviceId!,
        fromEmail: pagerduty.fromEmail!,
        requestTimeoutMs: pagerduty.requestTimeout,
        ...(pagerduty.escalationPolicyId ? { escalationPolicyId: pagerduty.escalationPolicyId } : {}),
        ...(pagerduty.caFile ? { caFile: pagerduty.caFile } : {}),
      };

  const candidate = {
    v: 1 as const,
    orgId: config.org,
    cadence: {
      intervalMs: schedule.interval,
      ingestionDelayMs: schedule.ingestionDelay,
      latenessMs: schedule.lateness,
      lookbackMs: schedule.lookback,
      maxChunkMs: schedule.maxChunk,
      maxChunksPerRun: schedule.maxChunksPerRun,
      maxCatchUpMs: schedule.maxCatchUp,
    },
    detection: {
      rules,
      actorFields: detection.actorFields?.map((field) => ({ ...field, prefix: field.prefix ?? (field.kind === 'api_key' ? 'api_key:' : '') })) ?? DEFAULT_ACTOR_FIELDS,
      actorNameFields: detection.actorNameFields ?? ['usr.name'],
      readOnlyActions: detection.readOnlyActions,
      suppress: {
        actors: detection.suppress.actors,
        maintenanceWindows: detection.suppress.maintenanceWindows.map((w) => ({ fromMs: w.from, toMs: w.to, actors: w.actors, reason: w.reason })),
      },
      autoResolve: detection.autoResolve,
      templates: { title: detection.templates.title ?? DEFAULT_TEMPLATES.title, body: detection.templates.body ?? DEFAULT_TEMPLATES.body },
      appUrl: datadog.appUrl ?? appUrlForSite(datadog.site),
      limits: detection.limits,
    },
    datadog: {
      ...(datadog.site ? { site: datadog.site } : {}),
      ...(datadog.baseUrl ? { baseUrl: datadog.baseUrl } : {}),
      apiKeyEnv: datadog.apiKeyEnv,
      appKeyEnv: datadog.appKeyEnv,
      query: datadog.query,
      pageLimit: datadog.pageLimit,
      requestTimeoutMs: datadog.requestTimeout,
    },
    pagerduty: pagerdutyTarget,
  };
  const parsed = AuditSpikeArgsSchema.safeParse(candidate);
  if (!parsed.success) throw new ConfigError(source, describeIssues(parsed.error).map((line) => toFilePath(line, origins)));
  return {
    args: parsed.data,
    schedule: {
      scheduleId: schedule.id ?? `audit-spike-${config.org}`,
      taskQueue: schedule.taskQueue,
      intervalMs: schedule.interval,
      catchupWindowMs: schedule.catchupWindow,
      paused: schedule.paused,
    },
  };
}

/** Maps a resolved-args path back to where the person wrote it. */
function toFilePath(line: string, ruleOrigins: string[]): string {
  return line
    .replace(/^detection\.rules\[(\d+)\]\.windowMs/, (_, i: string) => `${ruleOrigins[Number(i)]}.window`)
    .replace(/^detection\.rules\[(\d+)\]/, (_, i: string) => ruleOrigins[Number(i)])
    .replace(/^cadence\.(\w+)Ms/, 'schedule.$1')
    .replace(/^cadence\./, 'schedule.')
    .replace(/^datadog\.requestTimeoutMs/, 'datadog.requestTimeout')
    .replace(/^pagerduty\.requestTimeoutMs/, 'pagerduty.requestTimeout')
    .replace(/^orgId/, 'org');
}
