import { z } from 'zod';
import { parseDuration } from '../detection/duration';
import { eventTimestamp } from '../detection/event-fields';
import { SEVERITIES, type AuditEventLike } from '../detection/types';
import { strictObject } from './strict-object';

/** Compact test events without an ISO `at` are placed relative to this instant. */
export const RULE_TEST_START = Date.parse('2026-01-01T00:00:00.000Z');

const attributePath = z.string().regex(/^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$/, 'must be an attribute path such as asset.type or usr.email');
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** `at`: an offset from the test's start (`0s`, `90s`, `5m`) or an ISO 8601 time. */
const at = z.union([z.number().int().min(0), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return RULE_TEST_START + value;
  const offset = parseDuration(value);
  if (offset !== undefined) return RULE_TEST_START + offset;
  const absolute = Date.parse(value);
  if (Number.isFinite(absolute) && /^\d{4}-\d{2}-\d{2}/.test(value)) return absolute;
  ctx.addIssue({ code: 'custom', message: `must be an offset from the test's start such as 0s, 90s or 5m, or an ISO time such as 2026-11-24T10:00:00Z (got ${JSON.stringify(value)})` });
  return z.NEVER;
});

const every = z.union([z.number().int().min(0), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration such as 1s, 30s or 2m (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
  return ms;
});

/** The short form: who, what (attribute paths and values), when, how many times. */
export const CompactTestEventSchema = strictObject({
  at: at.optional(),
  actor: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  attributes: z.record(attributePath, z.union([scalar, z.array(scalar)])),
  repeat: z.number().int().min(1).max(1000).default(1),
  every: every.default(1000),
});

/** The long form: an element of `data[]` exactly as the v2 audit events API returns it. */
export const ApiTestEventSchema = z.looseObject({
  id: z.string().min(1).optional(),
  type: z.literal('audit'),
  attributes: z.looseObject({
    timestamp: z.union([z.string(), z.number()]),
    attributes: z.record(z.string(), z.unknown()),
  }),
}).superRefine((event, ctx) => {
  if (Number.isNaN(eventTimestamp(event as AuditEventLike))) {
    ctx.addIssue({ code: 'custom', path: ['attributes', 'timestamp'], message: 'must be an ISO 8601 time such as 2026-11-24T10:01:02.123Z or epoch milliseconds' });
  }
});

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    node = (node[segment] = next !== null && typeof next === 'object' && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  node[segments[segments.length - 1]] = value;
}

/** `mallory@example.com` → usr.email, `api_key:<id>` → metadata.api_key.id, anything else → usr.id (Datadog's own fields). */
function actorAttributes(actor: string | undefined, name: string | undefined): Record<string, unknown> {
  const inner: Record<string, unknown> = {};
  if (actor?.startsWith('api_key:')) setPath(inner, 'metadata.api_key.id', actor.slice('api_key:'.length));
  else if (actor?.includes('@')) setPath(inner, 'usr.email', actor);
  else if (actor) setPath(inner, 'usr.id', actor);
  if (name) setPath(inner, 'usr.name', name);
  return inner;
}

type CompactTestEvent = z.output<typeof CompactTestEventSchema>;

/** Expands a compact entry into API-shaped events (`repeat` of them, `every` apart). */
export function expandCompactEvent(entry: CompactTestEvent, label: string): AuditEventLike[] {
  const start = entry.at ?? RULE_TEST_START;
  return Array.from({ length: entry.repeat }, (_, i) => {
    const inner = actorAttributes(entry.actor, entry.name);
    for (const [path, value] of Object.entries(entry.attributes)) setPath(inner, path, value);
    return {
      id: `${label}-${i + 1}`,
      type: 'audit',
      attributes: { timestamp: new Date(start + i * entry.every).toISOString(), service: 'datadog', tags: ['source:audit'], attributes: inner },
    };
  });
}

/** Either form; the long form is recognised by its `type: audit`. */
type TestEvent = { api: AuditEventLike } | { compact: CompactTestEvent };
const TestEventSchema = z.unknown().transform((value, ctx): TestEvent => {
  const isApiEvent = value !== null && typeof value === 'object' && 'type' in value;
  const parsed = (isApiEvent ? ApiTestEventSchema : CompactTestEventSchema).safeParse(value, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  return isApiEvent ? { api: parsed.data as AuditEventLike } : { compact: parsed.data as CompactTestEvent };
});

export const RuleTestExpectSchema = strictObject({
  pages: z.boolean(),
  severity: z.enum(SEVERITIES).optional(),
  count: z.number().int().min(0).optional(),
}).superRefine((expect, ctx) => {
  if (!expect.pages && (expect.severity !== undefined || expect.count !== undefined)) {
    ctx.addIssue({ code: 'custom', message: 'severity and count only apply when pages is true' });
  }
});

export const RuleTestSchema = strictObject({
  name: z.string().min(1),
  events: z.array(TestEventSchema).min(1),
  expect: RuleTestExpectSchema,
}).transform((test) => {
  const slug = test.name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
  const events: AuditEventLike[] = [];
  test.events.forEach((entry, i) => {
    if ('api' in entry) events.push(entry.api);
    else events.push(...expandCompactEvent(entry.compact, `test-${slug}-${i + 1}`));
  });
  return { name: test.name, events, expect: test.expect };
});

export type RuleTest = z.output<typeof RuleTestSchema>;
export type RuleTestExpectation = RuleTest['expect'];
