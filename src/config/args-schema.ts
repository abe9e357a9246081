import { z } from 'zod';
import { SEVERITIES, severityRank } from '../detection/types';
import { TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../detection/summary';

/**
 * The workflow's input, as a Schedule passes it: fully resolved settings and references to secrets
 * (environment variable names), never the secrets themselves. Validated by the workflow and by every activity.
 */
const positiveMs = z.number().int().positive();
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as DD_API_KEY');
const ruleId = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, _ . or -').max(64, 'must be at most 64 characters');

export const TierSchema = z.object({ count: z.number().int().min(1), severity: z.enum(SEVERITIES) }).strict();

const MatchClauseSchema = z.object({ all: z.array(z.object({ path: z.string().min(1), values: z.array(z.string()).min(1) }).strict()) }).strict();

const DAY_MS = 86_400_000;
const learningMs = z.number().int().min(0).max(90 * DAY_MS, 'must be at most 90 days');
const forgetAfterMs = z.number().int().min(3_600_000, 'must be at least 1 hour').max(365 * DAY_MS, 'must be at most 365 days');

/** A rule's detection method (catalog v3) and its options, resolved. */
export const RuleMethodSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('threshold') }).strict(),
  z.object({ kind: z.literal('new_value'), field: z.string().regex(/^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$/, 'must be an attribute path'), learningMs, forgetAfterMs }).strict(),
  z.object({
    kind: z.literal('impossible_travel'), minKm: z.number().positive().max(20_040), minKmh: z.number().positive().max(1_000_000), learningMs, forgetAfterMs,
  }).strict(),
  z.object({ kind: z.literal('multi_rule'), withinMs: z.number().int().min(60_000).max(DAY_MS), minRules: z.number().int().min(2).max(20) }).strict(),
], { error: 'method.kind must be one of threshold, new_value, impossible_travel, multi_rule' });

export const RuleSpecSchema = z
  .object({
    id: ruleId,
    description: z.string(),
    enabled: z.boolean(),
    anyOf: z.array(MatchClauseSchema),
    combines: z.array(z.string().min(1)).min(1).optional(),
    windowMs: positiveMs,
    tiers: z.array(TierSchema).min(1),
    runbook: z.object({ text: z.string().min(1).optional(), url: z.string().url().optional() }).strict().optional(),
    // Optional: schedules created before catalog v3 pass rules without it (threshold).
    method: RuleMethodSchema.optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    for (let i = 1; i < rule.tiers.length; i++) {
      if (rule.tiers[i].count <= rule.tiers[i - 1].count) {
        ctx.addIssue({ code: 'custom', path: ['tiers', i, 'count'], message: `tier counts must increase (got ${rule.tiers[i - 1].count} then ${rule.tiers[i].count})` });
      }
      if (severityRank(rule.tiers[i].severity) < severityRank(rule.tiers[i - 1].severity)) {
        ctx.addIssue({ code: 'custom', path: ['tiers', i, 'severity'], message: `a higher tier cannot have a lower severity (${rule.tiers[i - 1].severity} then ${rule.tiers[i].severity})` });
      }
    }
    const derived = rule.method !== undefined && rule.method.kind !== 'threshold';
    if (derived && rule.combines) {
      ctx.addIssue({ code: 'custom', path: ['combines'], message: `method ${rule.method!.kind} takes no combine` });
    }
    if (!derived && !rule.combines && rule.anyOf.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['anyOf'], message: 'a rule needs a match (or `combine` for a combined rule)' });
    }
  });

const templateText = z.string().min(1).superRefine((text, ctx) => {
  const unknown = unknownPlaceholders(text);
  if (unknown.length) {
    ctx.addIssue({ code: 'custom', message: `unknown placeholder ${unknown.map((n) => `{{${n}}}`).join(', ')}; allowed: ${TEMPLATE_PLACEHOLDERS.map((n) => `{{${n}}}`).join(' ')}` });
  }
});

export const DetectionSettingsSchema = z
  .object({
    rules: z.array(RuleSpecSchema).min(1),
    actorFields: z.array(z.object({
      path: z.string().min(1),
      kind: z.enum(['email', 'id', 'service_account', 'api_key']),
      prefix: z.string(),
      when: z.array(MatchClauseSchema.refine((clause) => clause.all.length > 0, 'needs at least one condition')).min(1).optional(),
    }).strict()).min(1),
    actorNameFields: z.array(z.string().min(1)),
    readOnlyActions: z.array(z.string()),
    suppress: z.object({
      actors: z.array(z.string().min(1)),
      maintenanceWindows: z.array(z.object({ fromMs: z.number().int(), toMs: z.number().int(), actors: z.array(z.string()), reason: z.string() }).strict()),
      // Optional: schedules created before exemptions existed pass arguments without it.
      exemptions: z.array(z.object({
        actor: z.string().min(1), rules: z.array(ruleId), expiresMs: z.number().int().optional(), reason: z.string().optional(),
      }).strict()).optional(),
    }).strict(),
    autoResolve: z.boolean(),
    // Optional: schedules created before catalog v3 pass arguments without it (then false).
    seedBaselines: z.boolean().optional(),
    templates: z.object({ title: templateText, body: templateText }).strict(),
    appUrl: z.string().url(),
    limits: z.object({
      maxHitsPerRule: z.number().int().min(10).max(10_000),
      maxHitsTotal: z.number().int().min(100).max(50_000),
      // Optional: schedules created before it existed pass arguments without it (then DEFAULT_MAX_RESULT_BYTES).
      maxResultBytes: z.number().int()
        .min(65_536, 'must be at least 65536 (64 KiB): below that a busy run would shed most of what it carries')
        .max(1_572_864, 'must be at most 1572864 (1.5 MiB): Temporal refuses a result over 2 MiB, and the run would fail')
        .optional(),
    }).strict(),
  })
  .strict()
  .superRefine((settings, ctx) => {
    const ids = new Set<string>();
    settings.rules.forEach((rule, i) => {
      if (ids.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
      ids.add(rule.id);
      const top = rule.tiers[rule.tiers.length - 1].count;
      if (top >= settings.limits.maxHitsPerRule) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'tiers'], message: `the highest tier (${top}) must be below limits.maxHitsPerRule (${settings.limits.maxHitsPerRule})` });
      }
    });
    const combined = new Set(settings.rules.filter((rule) => rule.combines).map((rule) => rule.id));
    const base = [...ids].filter((id) => !combined.has(id));
    settings.rules.forEach((rule, i) => {
      for (const target of rule.combines ?? []) {
        if (target === '*') continue;
        if (!ids.has(target)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'combine'], message: `combines unknown rule "${target}"; allowed: "*" or one of ${base.join(', ')}` });
        else if (combined.has(target)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'combine'], message: `combines "${target}", itself a combined rule; list base rules (${base.join(', ')}) or "*"` });
      }
    });
  });

export const CadenceSchema = z
  .object({
    intervalMs: positiveMs,
    ingestionDelayMs: z.number().int().min(0),
    latenessMs: z.number().int().min(0),
    lookbackMs: positiveMs,
    maxChunkMs: positiveMs,
    maxChunksPerRun: z.number().int().min(1).max(500),
    maxCatchUpMs: positiveMs,
  })
  .strict();

export const DatadogTargetSchema = z
  .object({
    site: z.string().min(1).optional(),
    baseUrl: z.string().url().optional(),
    apiKeyEnv: envName,
    appKeyEnv: envName,
    query: z.string(),
    pageLimit: z.number().int().min(1).max(1000),
    requestTimeoutMs: positiveMs,
    /** How long a scan may go without a heartbeat before Temporal retries it on another worker (a crashed worker). */
    heartbeatTimeoutMs: positiveMs.optional(),
    /** The org's Audit Trail retention: older events are gone (Datadog: 7 days by default, 3 to 90). Absent in older schedules: 7 days. */
    retentionMs: z.number().int().min(3 * 86_400_000).max(90 * 86_400_000).optional(),
  })
  .strict();

export const PagerDutyTargetSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('events'),
    routingKeyEnv: envName,
    /** Host[:port] of the Events API; pdjs always uses https. */
    eventsServer: z.string().min(1),
    caFile: z.string().min(1).optional(),
    source: z.string().min(1),
    requestTimeoutMs: positiveMs,
  }).strict(),
  z.object({
    mode: z.literal('rest'),
    tokenEnv: envName,
    apiUrl: z.string().url(),
    serviceId: z.string().min(1),
    escalationPolicyId: z.string().min(1).optional(),
    fromEmail: z.string().email(),
    caFile: z.string().min(1).optional(),
    requestTimeoutMs: positiveMs,
  }).strict(),
]);

/** Contain on approval (#17): settings only, every secret by variable name. Absent in older schedules: off. */
export const ResponseSettingsSchema = z
  .object({
    enabled: z.boolean(),
    ttlMs: z.number().int().min(10 * 60_000).max(30 * 86_400_000),
    webhookSecretEnv: envName,
    approveAction: z.string().min(1).max(200),
    webhookToleranceMs: z.number().int().min(30_000).max(3_600_000),
    neverContain: z.array(z.string().min(1)),
    revokeKeysFrom: z.array(ruleId).min(1),
    pagerdutyTokenEnv: envName,
    pagerdutyApiUrl: z.string().url(),
  })
  .strict();

export const AuditSpikeArgsSchema = z
  .object({
    v: z.literal(1),
    orgId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, _ . or -'),
    cadence: CadenceSchema,
    detection: DetectionSettingsSchema,
    datadog: DatadogTargetSchema,
    pagerduty: PagerDutyTargetSchema,
    response: ResponseSettingsSchema.optional(),
  })
  .strict();

export type ResponseSettings = z.infer<typeof ResponseSettingsSchema>;
export type AuditSpikeArgs = z.infer<typeof AuditSpikeArgsSchema>;
export type DatadogTarget = z.infer<typeof DatadogTargetSchema>;
export type PagerDutyTarget = z.infer<typeof PagerDutyTargetSchema>;

/** One line per problem: `path.to.field: what was wrong`. */
export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
    return `${prefix}${path || '(root)'}: ${issue.message}`;
  });
}
