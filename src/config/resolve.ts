import { DEFAULT_TEMPLATES } from '../detection/summary';
import type { ActorField, MatchClause, MethodKind, RuleMethod, RuleSpec } from '../detection/types';
import { AuditSpikeArgsSchema, type AuditSpikeArgs } from './args-schema';
import { DEFAULT_RULES, defaultRuleTests } from './default-rules';
import { ConfigError } from './errors';
import { defaultMethod } from './resolve-methods';
import { METHOD_OPTIONS, type ActorFieldFile, type FileConfig, type FileRule } from './file-schema';
import { formatPath, formatProblem, problemsFromZod, type Locate, type PathKey, type Problem } from './issues';
import type { RuleTest } from './rule-tests-schema';

export interface ScheduleSpec {
  scheduleId: string;
  taskQueue: string;
  intervalMs: number;
  catchupWindowMs: number;
  paused: boolean;
}

/** A rule's example events and expected outcomes, kept out of the schedule's arguments. */
export interface RuleTests {
  ruleId: string;
  /** Where the tests were written, e.g. `detection.rules[3]`. */
  where: string;
  tests: RuleTest[];
}

export interface ResolvedConfig {
  args: AuditSpikeArgs;
  schedule: ScheduleSpec;
  ruleTests: RuleTests[];
}

export const DEFAULT_ACTOR_FIELDS: ActorField[] = [
  { path: 'usr.email', kind: 'email', prefix: '' },
  { path: 'usr.id', kind: 'id', prefix: '' },
  { path: 'metadata.api_key.id', kind: 'api_key', prefix: 'api_key:' },
];

const DEFAULT_PREFIX: Record<ActorField['kind'], string> = { email: '', id: '', service_account: 'service_account:', api_key: 'api_key:' };

function clauseOf(map: Record<string, string | string[]>): MatchClause {
  return { all: Object.entries(map).map(([path, value]) => ({ path, values: Array.isArray(value) ? value : [value] })) };
}

const TEN_MINUTES_MS = 10 * 60_000;

const METHOD_OPTION_KEYS = { field: 'field', learning: 'learningMs', forgetAfter: 'forgetAfterMs', minKm: 'minKm', minKmh: 'minKmh', within: 'withinMs', minRules: 'minRules' } as const;

/**
 * The rule's method after the file's entry: its `method` (else the method it had, else threshold) with the entry's
 * options over the method's own (or the defaults when the method changes). Options of another method are problems.
 */
function resolveMethod(entry: FileRule, current: RuleMethod | undefined, path: PathKey[], where: string, problems: Problem[]): RuleMethod | undefined {
  const kind: MethodKind = entry.method ?? current?.kind ?? 'threshold';
  const base: RuleMethod = current && current.kind === kind ? { ...current } : defaultMethod(kind);
  const allowed = METHOD_OPTIONS[kind];
  let changed = entry.method !== undefined;
  for (const [option, key] of Object.entries(METHOD_OPTION_KEYS) as Array<[keyof typeof METHOD_OPTION_KEYS, string]>) {
    const value = entry[option];
    if (value === undefined) continue;
    if (!allowed.includes(option)) {
      // With an explicit method the schema has said so already.
      if (entry.method === undefined) {
        problems.push({ path: [...path, option], shownAs: `${where}.${option}`, message: `${option} applies only to method ${(Object.keys(METHOD_OPTIONS) as MethodKind[]).filter((k) => METHOD_OPTIONS[k].includes(option)).join(' or ')}; this rule's method is ${kind}${allowed.length ? `, which takes ${allowed.join(', ')}` : ' (set method: to use it)'}` });
      }
      continue;
    }
    (base as unknown as Record<string, unknown>)[key] = value;
    changed = true;
  }
  if (!changed) return current;
  return kind === 'threshold' && current === undefined ? undefined : base;
}

/** Where a resolved rule came from: a default (no file path) or `detection.rules[i]`. */
interface RuleOrigin {
  path?: PathKey[];
  label: string;
}

/** Resolved rules and, for each, where the person defined it (for error messages). */
function resolveRules(config: FileConfig, problems: Problem[]): { rules: RuleSpec[]; origins: RuleOrigin[]; tests: RuleTests[] } {
  const rules = config.detection.defaultRules ? DEFAULT_RULES.map((rule) => structuredClone(rule)) : [];
  const origins: RuleOrigin[] = rules.map((rule) => ({ label: `default rule "${rule.id}"` }));
  const tests: RuleTests[] = [];
  // A default's own tests test its definition: they are dropped when the file redefines what the rule matches or counts.
  const redefined = new Set(config.detection.rules
    .filter((entry) => entry.match || entry.matchAny || entry.combine || entry.window !== undefined || entry.tiers || entry.method ||
      entry.field || entry.learning !== undefined || entry.forgetAfter !== undefined || entry.minKm !== undefined || entry.minKmh !== undefined ||
      entry.within !== undefined || entry.minRules !== undefined)
    .map((entry) => entry.id));
  for (const rule of rules) {
    if (!redefined.has(rule.id)) tests.push({ ruleId: rule.id, where: 'default rule', tests: defaultRuleTests(rule.id) });
  }
  config.detection.rules.forEach((fileEntry: FileRule, index) => {
    let entry = fileEntry;
    const path = ['detection', 'rules', index];
    const where = `${formatPath(path)} (id "${entry.id}")`;
    if (entry.tests?.length) tests.push({ ruleId: entry.id, where: formatPath(path), tests: entry.tests });
    const existingIndex = rules.findIndex((rule) => rule.id === entry.id);
    const existing = rules[existingIndex];
    const anyOf = entry.match ? [clauseOf(entry.match)] : entry.matchAny ? entry.matchAny.map(clauseOf) : undefined;
    if (existing) {
      if (origins[existingIndex].path) {
        problems.push({ path: [...path, 'id'], shownAs: `${where}.id`, message: `rule "${entry.id}" is already defined at ${formatPath(origins[existingIndex].path!)}; merge the two entries` });
        return;
      }
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
      if (entry.runbook) existing.runbook = entry.runbook;
      const method = resolveMethod(entry, existing.method, path, where, problems);
      if (method) existing.method = method;
      else delete existing.method;
      origins[existingIndex] = { path, label: where };
      return;
    }
    const method = resolveMethod(entry, undefined, path, where, problems);
    const derived = method !== undefined && method.kind !== 'threshold';
    if (derived) {
      // A derived rule fires from its method: one firing pages, within the default 10-minute window, unless told otherwise.
      entry = { ...entry, window: entry.window ?? TEN_MINUTES_MS, tiers: entry.tiers ?? [{ count: 1, severity: method.kind === 'multi_rule' ? 'critical' : 'warning' }] };
    }
    const missing = [!anyOf && !entry.combine && !derived ? 'match (or matchAny, or combine)' : '', entry.window === undefined ? 'window' : '', entry.tiers ? '' : 'tiers']
      .filter(Boolean);
    if (missing.length) {
      const known = rules.map((rule) => rule.id).join(', ');
      problems.push({ path, shownAs: where, message: `a new rule needs ${missing.join(', ')} (or use the id of a rule to override: ${known})` });
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
      ...(entry.runbook ? { runbook: entry.runbook } : {}),
      ...(method ? { method } : {}),
    });
    origins.push({ path, label: where });
  });
  return { rules, origins, tests };
}

function resolveActorField(field: ActorFieldFile): ActorField {
  const when = field.when === undefined ? undefined : (Array.isArray(field.when) ? field.when : [field.when]).map(clauseOf);
  return { path: field.path, kind: field.kind, prefix: field.prefix ?? DEFAULT_PREFIX[field.kind], ...(when ? { when } : {}) };
}

/** The Datadog web app for a site: datadoghq.com → https://app.datadoghq.com, us3.datadoghq.com → https://us3.datadoghq.com. */
export function appUrlForSite(site: string | undefined): string {
  if (!site || site === 'datadoghq.com') return 'https://app.datadoghq.com';
  if (site === 'datadoghq.eu') return 'https://app.datadoghq.eu';
  return `https://${site}`;
}

function fail(source: string, problems: Problem[], locate?: Locate): never {
  throw new ConfigError(source, problems.map((problem) => formatProblem(problem, locate)));
}

/** Turns the friendly file form into the schedule's arguments; `locate` adds line numbers to error messages. */
export function resolveConfig(config: FileConfig, source = 'config', locate?: Locate): ResolvedConfig {
  const problems: Problem[] = [];
  const { rules, origins, tests } = resolveRules(config, problems);
  const { datadog, pagerduty, schedule, detection, response } = config;
  if (datadog.site && datadog.baseUrl) problems.push({ path: ['datadog', 'baseUrl'], message: 'set either site or baseUrl, not both' });
  if (pagerduty.mode === 'rest') {
    if (!pagerduty.serviceId) problems.push({ path: ['pagerduty', 'serviceId'], message: 'required when mode is rest (the PagerDuty service to open incidents on)' });
    if (!pagerduty.fromEmail) problems.push({ path: ['pagerduty', 'fromEmail'], message: 'required when mode is rest (PagerDuty needs a From header with a user\'s email)' });
  }
  if (schedule.interval < 60_000) problems.push({ path: ['schedule', 'interval'], message: `must be at least 1m (got ${schedule.interval} ms)` });
  detection.suppress.actors.forEach((entry, index) => {
    if (typeof entry === 'string') return;
    const known = rules.map((rule) => rule.id);
    for (const ruleId of entry.rules ?? []) {
      if (!known.includes(ruleId)) {
        problems.push({ path: ['detection', 'suppress', 'actors', index, 'rules'], message: `unknown rule "${ruleId}"; allowed: ${known.join(', ')}` });
      }
    }
  });
  if (response.enabled) {
    const known = rules.map((rule) => rule.id);
    response.revokeKeysFrom.forEach((ruleId, index) => {
      if (!known.includes(ruleId)) problems.push({ path: ['response', 'revokeKeysFrom', index], message: `unknown rule "${ruleId}"; allowed: ${known.join(', ')}` });
    });
  }
  if (problems.length) fail(source, problems, locate);

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
      actorFields: detection.actorFields?.map(resolveActorField) ?? DEFAULT_ACTOR_FIELDS,
      actorNameFields: detection.actorNameFields ?? ['usr.name'],
      readOnlyActions: detection.readOnlyActions,
      suppress: {
        actors: detection.suppress.actors.filter((entry): entry is string => typeof entry === 'string'),
        maintenanceWindows: detection.suppress.maintenanceWindows.map((w) => ({ fromMs: w.from, toMs: w.to, actors: w.actors, reason: w.reason })),
        exemptions: detection.suppress.actors.filter((entry) => typeof entry !== 'string').map((entry) => ({
          actor: entry.actor,
          rules: entry.rules ?? [],
          ...(entry.expires !== undefined ? { expiresMs: entry.expires } : {}),
          ...(entry.reason ? { reason: entry.reason } : {}),
        })),
      },
      autoResolve: detection.autoResolve,
      ...(detection.seedBaselines ? { seedBaselines: true } : {}),
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
      heartbeatTimeoutMs: datadog.heartbeatTimeout,
      retentionMs: datadog.retention,
    },
    pagerduty: pagerdutyTarget,
    // Only an org that turned containment on carries its settings (older schedules and the rest run as before).
    ...(response.enabled ? { response: {
      enabled: response.enabled,
      ttlMs: response.ttl,
      webhookSecretEnv: response.webhookSecretEnv,
      approveAction: response.approveAction,
      webhookToleranceMs: response.webhookTolerance,
      neverContain: response.neverContain,
      revokeKeysFrom: response.revokeKeysFrom,
      pagerdutyTokenEnv: response.pagerdutyTokenEnv,
      pagerdutyApiUrl: response.pagerdutyApiUrl,
    } } : {}),
  };
  const parsed = AuditSpikeArgsSchema.safeParse(candidate, { reportInput: true });
  if (!parsed.success) fail(source, problemsFromZod(parsed.error).map((problem) => toFileProblem(problem, origins)), locate);
  return {
    args: parsed.data,
    schedule: {
      scheduleId: schedule.id ?? `audit-spike-${config.org}`,
      taskQueue: schedule.taskQueue,
      intervalMs: schedule.interval,
      catchupWindowMs: schedule.catchupWindow,
      paused: schedule.paused,
    },
    ruleTests: tests,
  };
}

/** Names in the schedule's arguments that the file spells differently. */
function fileKey(section: PathKey | undefined, key: PathKey): PathKey {
  if (typeof key !== 'string') return key;
  if (section === 'cadence' || section === 'datadog' || section === 'pagerduty' || section === 'maintenanceWindows' || section === 'response') return key.replace(/Ms$/, '');
  if (key === 'windowMs') return 'window';
  if (key === 'combines') return 'combine';
  return key;
}

/** Maps a path in the schedule's arguments back to where the person wrote it. */
function toFileProblem(problem: Problem, origins: RuleOrigin[]): Problem {
  const [head, ...rest] = problem.path;
  if (head === 'orgId') return { ...problem, path: ['org', ...rest] };
  if (head === 'cadence') return { ...problem, path: ['schedule', ...rest.map((key) => fileKey('cadence', key))] };
  if (head === 'detection' && rest[0] === 'appUrl') return { ...problem, path: ['datadog', 'appUrl'] };
  if (head === 'detection' && rest[0] === 'rules' && typeof rest[1] === 'number') {
    const origin = origins[rest[1]];
    const tail = rest.slice(2).map((key) => fileKey('rule', key));
    const tailText = tail.length ? formatPath(tail).replace(/^(?!\[)/, '.') : '';
    // A default rule has no place in the file; the message names it instead of a line.
    return { path: origin?.path ? [...origin.path, ...tail] : [], shownAs: `${origin?.label ?? formatPath(problem.path)}${tailText}`, message: problem.message };
  }
  if (head === 'detection' && rest[0] === 'suppress') return { ...problem, path: [head, ...rest.map((key) => fileKey('maintenanceWindows', key))] };
  if (head === 'datadog' || head === 'pagerduty' || head === 'response') return { ...problem, path: [head, ...rest.map((key) => fileKey(head, key))] };
  return problem;
}
