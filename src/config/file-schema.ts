import { z } from 'zod';
import { parseDuration } from '../detection/duration';
import { SEVERITIES } from '../detection/types';

/** What a person writes in audit-spike.yaml. Friendly forms (durations as `10m`, match maps) resolve into AuditSpikeArgs. */
export const duration = z.union([
  z.number().int().min(0),
  z.string().refine((text) => parseDuration(text) !== undefined, { message: 'must be a duration such as 90s, 10m, 1h or 7d' }),
]).transform((value) => (typeof value === 'number' ? value : parseDuration(value)!));

const matchValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);
/** `{ "evt.name": "Access Management", "asset.type": [role, user] }`: every key must match one of its values. */
export const MatchMapSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$/, 'must be an attribute path such as asset.type or usr.email'),
  z.union([matchValue, z.array(matchValue).min(1)]),
);

export const FileRuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, _ . or -'),
    description: z.string().optional(),
    enabled: z.boolean().optional(),
    match: MatchMapSchema.optional(),
    matchAny: z.array(MatchMapSchema).min(1).optional(),
    combine: z.array(z.string().min(1)).min(1).optional(),
    window: duration.optional(),
    tiers: z.array(z.object({ count: z.number().int().min(1), severity: z.enum(SEVERITIES) }).strict()).min(1).optional(),
    tests: z.array(z.unknown()).optional(),
  })
  .strict()
  .refine((rule) => [rule.match, rule.matchAny, rule.combine].filter(Boolean).length <= 1, {
    message: 'use only one of match, matchAny or combine',
  });

const timestamp = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a timestamp; use ISO 8601 such as 2026-11-24T22:00:00Z` });
    return z.NEVER;
  }
  return ms;
});

export const FileConfigSchema = z
  .object({
    org: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, _ . or -').default('default'),
    datadog: z
      .object({
        site: z.string().min(1).optional(),
        baseUrl: z.string().url().optional(),
        apiKeyEnv: z.string().default('DD_API_KEY'),
        appKeyEnv: z.string().default('DD_APP_KEY'),
        query: z.string().default(''),
        pageLimit: z.number().int().min(1).max(1000).default(1000),
        requestTimeout: duration.default(30_000),
        appUrl: z.string().url().optional(),
      })
      .strict()
      .prefault({}),
    pagerduty: z
      .object({
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
      })
      .strict()
      .prefault({}),
    schedule: z
      .object({
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
      })
      .strict()
      .prefault({}),
    detection: z
      .object({
        defaultRules: z.boolean().default(true),
        rules: z.array(FileRuleSchema).default([]),
        actorFields: z
          .array(z.object({ path: z.string().min(1), kind: z.enum(['email', 'id', 'api_key']), prefix: z.string().optional() }).strict())
          .min(1)
          .optional(),
        actorNameFields: z.array(z.string().min(1)).optional(),
        readOnlyActions: z.array(z.string()).default(['accessed', 'listed', 'login']),
        suppress: z
          .object({
            actors: z.array(z.string().min(1)).default([]),
            maintenanceWindows: z
              .array(z.object({ from: timestamp, to: timestamp, actors: z.array(z.string()).default([]), reason: z.string().default('maintenance') }).strict())
              .default([]),
          })
          .strict()
          .prefault({}),
        autoResolve: z.boolean().default(false),
        templates: z.object({ title: z.string().optional(), body: z.string().optional() }).strict().default({}),
        limits: z.object({ maxHitsPerRule: z.number().int().default(500), maxHitsTotal: z.number().int().default(5000) }).strict().prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type FileConfig = z.output<typeof FileConfigSchema>;
export type FileRule = z.output<typeof FileRuleSchema>;
