import { z } from 'zod';
import { parseDuration } from '../detection/duration';
import { DEFAULT_MAX_RESULT_BYTES } from '../detection/state-budget';
import { METHOD_KINDS, SEVERITIES, type MethodKind } from '../detection/types';
import { RuleTestSchema } from './rule-tests-schema';
import { strictObject } from './strict-object';

/** What a person writes in audit-spike.yaml. Friendly forms (durations as `10m`, match maps) resolve into AuditSpikeArgs. */
export const duration = z.union([
  z.number().int().min(0),
  z.string().refine((text) => parseDuration(text) !== undefined, { message: 'must be a duration such as 90s, 10m, 1h or 7d' }),
], { error: 'must be a duration such as 90s, 10m, 1h or 7d (or a number of milliseconds)' }).transform((value) => (typeof value === 'number' ? value : parseDuration(value)!));

const matchValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);
/** `{ "evt.name": "Access Management", "asset.type": [role, user] }`: every key must match one of its values. */
export const MatchMapSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$/, 'must be an attribute path such as asset.type or usr.email'),
  z.union([matchValue, z.array(matchValue).min(1)], { error: 'must be a value (text, number, true/false) or a list of values; * is a wildcard' }),
).refine((map) => Object.keys(map).length > 0, { message: 'needs at least one attribute, such as asset.type: role' });

export const TierFileSchema = strictObject({
  count: z.number().int().min(1),
  severity: z.enum(SEVERITIES),
});

/** What the on-call should do when the rule pages: a short text (check, contain, restore) and/or a link to a longer one. */
export const RunbookFileSchema = strictObject({
  text: z.string().min(1).max(2000, 'must be at most 2000 characters; link a longer runbook with url').optional(),
  url: z.string().url('must be a URL such as https://wiki.example.com/runbooks/role-grant').optional(),
}).refine((runbook) => runbook.text !== undefined || runbook.url !== undefined, { message: 'needs text, url or both' });

/** Which options each detection method takes (catalog v3); the others are refused with what is allowed. */
export const METHOD_OPTIONS: Record<MethodKind, readonly string[]> = {
  threshold: [],
  new_value: ['field', 'learning', 'forgetAfter'],
  impossible_travel: ['minKm', 'minKmh', 'learning', 'forgetAfter'],
  multi_rule: ['within', 'minRules'],
};
const ALL_METHOD_OPTIONS = ['field', 'learning', 'forgetAfter', 'minKm', 'minKmh', 'within', 'minRules'] as const;

const DAY_MS = 86_400_000;
const attributePathText = z.string().regex(/^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$/, 'must be an attribute path such as network.client.geoip.country.iso_code, network.client.geoip.as.number or http.useragent');

export const FileRuleSchema = strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, _ . or -').max(64, 'must be at most 64 characters'),
  description: z.string().optional(),
  enabled: z.boolean().optional(),
  match: MatchMapSchema.optional(),
  matchAny: z.array(MatchMapSchema).min(1).optional(),
  combine: z.array(z.string().min(1)).min(1).optional(),
  window: duration.optional(),
  tiers: z.array(TierFileSchema).min(1).optional(),
  runbook: RunbookFileSchema.optional(),
  /** How the rule decides (catalog v3): threshold (default), new_value, impossible_travel or multi_rule. */
  method: z.enum(METHOD_KINDS, { error: `must be one of ${METHOD_KINDS.join(', ')}` }).optional(),
  /** new_value: the attribute whose values are learned per person. */
  field: attributePathText.optional(),
  /** new_value, impossible_travel: the warm-up (a person's rules fire once their first learning-set event is this old). */
  learning: duration.refine((ms) => ms <= 90 * DAY_MS, { message: 'must be at most 90d (the longest Audit Trail retention)' }).optional(),
  /** new_value, impossible_travel: a value not seen for this long leaves the baseline. */
  forgetAfter: duration.refine((ms) => ms >= 3_600_000 && ms <= 365 * DAY_MS, { message: 'must be between 1h and 365d' }).optional(),
  /** impossible_travel: the least great-circle distance, in km, between two located events. */
  minKm: z.number({ error: 'must be a number of kilometres such as 500' }).positive('must be more than 0 km').max(20_040, 'must be at most 20040 km (half the Earth\'s circumference)').optional(),
  /** impossible_travel: the least speed, in km/h. */
  minKmh: z.number({ error: 'must be a speed in km/h such as 1000' }).positive('must be more than 0 km/h').max(1_000_000, 'must be at most 1000000 km/h').optional(),
  /** multi_rule: the span over which the actor's distinct crossed rules are counted. */
  within: duration.refine((ms) => ms >= 60_000 && ms <= DAY_MS, { message: 'must be between 1m and 24h' }).optional(),
  /** multi_rule: how many distinct rules crossed within the span (the one being crossed included) fire the rule. */
  minRules: z.number({ error: 'must be a whole number of rules such as 3' }).int('must be a whole number of rules such as 3').min(2, 'must be at least 2 (the rule being crossed and one other)').max(20, 'must be at most 20').optional(),
  /** Example events with the expected outcome, run by `audit-spike rules test`. */
  tests: z.array(RuleTestSchema).optional(),
}).refine((rule) => [rule.match, rule.matchAny, rule.combine].filter(Boolean).length <= 1, {
  message: 'use only one of match, matchAny or combine',
}).superRefine((rule, ctx) => {
  // Options of another method are refused where they are written; a default rule's own method is checked on resolve.
  if (rule.method === undefined) return;
  const allowed = METHOD_OPTIONS[rule.method];
  for (const option of ALL_METHOD_OPTIONS) {
    if (rule[option] === undefined || allowed.includes(option)) continue;
    const owners = (Object.keys(METHOD_OPTIONS) as MethodKind[]).filter((kind) => METHOD_OPTIONS[kind].includes(option));
    ctx.addIssue({
      code: 'custom', path: [option],
      message: `${option} applies only to method ${owners.join(' or ')}; method ${rule.method} takes ${allowed.length ? allowed.join(', ') : 'no options'}`,
    });
  }
  if (rule.method === 'multi_rule' || rule.method === 'impossible_travel') {
    for (const key of ['match', 'matchAny', 'combine'] as const) {
      if (rule[key] !== undefined && (rule.method === 'multi_rule' || key === 'combine')) {
        ctx.addIssue({ code: 'custom', path: [key], message: `method ${rule.method} takes no ${key}: it fires on ${rule.method === 'multi_rule' ? "the actor's crossings of other rules" : "a person's located events"}` });
      }
    }
  }
  if (rule.method === 'new_value' && rule.combine !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['combine'], message: 'method new_value takes no combine: it fires on sensitive events (narrow them with match)' });
  }
});

/** An actor field applies when the event matches `when` (one map, or a list of maps of which any may match). */
const ActorFieldFileSchema = strictObject({
  path: z.string().regex(/^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$/, 'must be an attribute path such as usr.email or metadata.api_key.id'),
  kind: z.enum(['email', 'id', 'service_account', 'api_key']),
  prefix: z.string().optional(),
  when: z.union([MatchMapSchema, z.array(MatchMapSchema).min(1)]).optional(),
});

const timestamp = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a timestamp; use ISO 8601 such as 2026-11-24T22:00:00Z` });
    return z.NEVER;
  }
  return ms;
});

const MaintenanceWindowFileSchema = strictObject({
  from: timestamp,
  to: timestamp,
  /** Empty: every actor. Entries may use * wildcards. */
  actors: z.array(z.string().min(1)).default([]),
  reason: z.string().min(1).default('maintenance'),
}).superRefine((window, ctx) => {
  if (window.to <= window.from) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: `must be after from (${new Date(window.from).toISOString()}); a maintenance window is [from, to)` });
  }
});

/** An actor exempted from some rules (or every rule), until a time: `{ actor: terraform@…, rules: [monitor_delete], expires: 2027-01-31 }`. */
const ExemptionFileSchema = strictObject({
  actor: z.string().min(1),
  rules: z.array(z.string().min(1)).min(1).optional(),
  expires: timestamp.optional(),
  reason: z.string().min(1).optional(),
});

/** `suppress.actors` entries: a pattern allowlisted for good, or an exemption with rules and an expiry. */
const SuppressedActorFileSchema = z.unknown().transform((value, ctx): string | z.output<typeof ExemptionFileSchema> => {
  if (typeof value === 'string' && value.length > 0) return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an actor id or pattern such as "*@ci.example.com", or { actor, rules?, expires?, reason? }' });
    return z.NEVER;
  }
  const parsed = ExemptionFileSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  return parsed.data;
});

const DatadogFileSchema = strictObject({
  site: z.string().min(1).optional(),
  baseUrl: z.string().url().optional(),
  apiKeyEnv: z.string().default('DD_API_KEY'),
  appKeyEnv: z.string().default('DD_APP_KEY'),
  query: z.string().default(''),
  pageLimit: z.number().int().min(1).max(1000).default(1000),
  requestTimeout: duration.default(30_000),
  heartbeatTimeout: duration.default(60_000),
  /** The org's Audit Trail retention ("seven days… between three and 90 days", docs.datadoghq.com/account_management/audit_trail/). */
  retention: duration.default(7 * 86_400_000).refine((ms) => ms >= 3 * 86_400_000 && ms <= 90 * 86_400_000, {
    message: 'must be between 3d and 90d: the retention set for Audit Trail in your Datadog org (Organization Settings → Audit Trail; default 7d)',
  }),
  appUrl: z.string().url().optional(),
});

const PagerDutyFileSchema = strictObject({
  mode: z.enum(['events', 'rest']).default('events'),
  routingKeyEnv: z.string().default('PAGERDUTY_ROUTING_KEY'),
  eventsServer: z.string().default('events.pagerduty.com'),
  source: z.string().default('audit-spike'),
  tokenEnv: z.string().default('PAGERDUTY_API_TOKEN'),
  apiUrl: z.string().url().default('https://api.pagerduty.com'),
  serviceId: z.string().optional(),
  escalationPolicyId: z.string().optional(),
  fromEmail: z.string().optional(),
  caFile: z.string().optional(),
  requestTimeout: duration.default(15_000),
});

const ScheduleFileSchema = strictObject({
  id: z.string().min(1).optional(),
  taskQueue: z.string().min(1).default('audit-spike'),
  interval: duration.default(5 * 60_000),
  ingestionDelay: duration.default(60_000),
  lateness: duration.default(5 * 60_000),
  lookback: duration.default(15 * 60_000),
  maxChunk: duration.default(30 * 60_000),
  maxChunksPerRun: z.number().int().min(1).max(500).default(48),
  maxCatchUp: duration.default(7 * 86_400_000),
  catchupWindow: duration.default(10 * 60_000),
  paused: z.boolean().default(false),
});

const DetectionFileSchema = strictObject({
  defaultRules: z.boolean().default(true),
  rules: z.array(FileRuleSchema).default([]),
  actorFields: z.array(ActorFieldFileSchema).min(1).optional(),
  actorNameFields: z.array(z.string().min(1)).optional(),
  readOnlyActions: z.array(z.string()).default(['accessed', 'listed', 'login']),
  suppress: strictObject({
    actors: z.array(SuppressedActorFileSchema).default([]),
    maintenanceWindows: z.array(MaintenanceWindowFileSchema).default([]),
  }).prefault({}),
  autoResolve: z.boolean().default(false),
  /**
   * Catalog v3: on an org's first scan with baseline rules, seed the persons' baselines from the Audit Trail's past
   * within its retention (one read of the learning set) instead of starting them empty.
   */
  seedBaselines: z.boolean().default(false),
  templates: strictObject({ title: z.string().optional(), body: z.string().optional() }).prefault({}),
  limits: strictObject({ maxHitsPerRule: z.number().int().default(500), maxHitsTotal: z.number().int().default(5000), maxResultBytes: z.number().int().default(DEFAULT_MAX_RESULT_BYTES) }).prefault({}),
});

/**
 * Contain on approval (#17): a plan per incident (disable the actor, revoke the keys the burst minted) that does
 * nothing until a person approves it. Off unless enabled, per org.
 */
const ResponseFileSchema = strictObject({
  enabled: z.boolean().default(false),
  /** How long a plan can be approved (and a disabled user re-enabled with undo) after its incident opened. */
  ttl: duration.default(24 * 3_600_000).refine((ms) => ms >= 10 * 60_000 && ms <= 30 * 86_400_000, {
    message: 'must be between 10m and 30d: how long the on-call may approve the plan (and undo) after the incident opens',
  }),
  /** The environment variable holding the PagerDuty webhook subscription's signing secret (read by `audit-spike webhooks`). */
  webhookSecretEnv: z.string().default('PAGERDUTY_WEBHOOK_SECRET'),
  /** The name of the PagerDuty action (incident workflow) that approves the plan; webhooks of other actions are ignored. */
  approveAction: z.string().min(1).default('Contain with audit-spike'),
  /** How old a signed webhook may be (PagerDuty retries deliveries for up to 48 h: a late retry is refused). */
  webhookTolerance: duration.default(5 * 60_000).refine((ms) => ms >= 30_000 && ms <= 3_600_000, { message: 'must be between 30s and 1h' }),
  /** Actors never acted on (ids or * patterns), besides detection.suppress.actors and audit-spike's own identity. */
  neverContain: z.array(z.string().min(1)).default([]),
  /** Rules whose api_key / application_key assets are revoked by the plan. */
  revokeKeysFrom: z.array(z.string().min(1)).min(1).default(['api_key_create', 'app_key_create']),
  /** Events mode only: a REST API token (by variable name) lets the webhook receiver find the incident's dedup key. */
  pagerdutyTokenEnv: z.string().default('PAGERDUTY_API_TOKEN'),
  pagerdutyApiUrl: z.string().url().default('https://api.pagerduty.com'),
});

export const FileConfigSchema = strictObject({
  org: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, _ . or -').default('default'),
  datadog: DatadogFileSchema.prefault({}),
  pagerduty: PagerDutyFileSchema.prefault({}),
  schedule: ScheduleFileSchema.prefault({}),
  detection: DetectionFileSchema.prefault({}),
  response: ResponseFileSchema.prefault({}),
});

export type FileConfig = z.output<typeof FileConfigSchema>;
export type FileRule = z.output<typeof FileRuleSchema>;
export type ActorFieldFile = z.output<typeof ActorFieldFileSchema>;
