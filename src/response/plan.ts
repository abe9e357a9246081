import { z } from 'zod';
import type { DatadogTarget, PagerDutyTarget, ResponseSettings } from '../config/args-schema';
import { DatadogTargetSchema, PagerDutyTargetSchema } from '../config/args-schema';
import { EVIDENCE_LIMITS, type Evidence } from '../detection/evidence';
import { globMatcher } from '../detection/glob';
import { plural } from '../detection/grammar';
import { actorKindOf, type IncidentLink } from '../detection/links';
import type { IncidentSummary } from '../detection/summary';
import type { ActorField } from '../detection/types';

/**
 * The containment plan of one incident (#17), built from the incident's evidence by a pure function: what audit-spike
 * would do if a person approves it, and what it cannot undo or do at all. No I/O, no clock, no Temporal: the response
 * workflow and the tests build it the same way.
 */

export const STEP_KINDS = ['disable_user', 'revoke_api_key', 'revoke_app_key'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const stepId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:_.@-]{0,200}$/, 'a step id such as disable-user or api-key:<id>');

export const PlanStepSchema = z.object({
  /** What the on-call names with --approve: `disable-user`, `api-key:<id>`, `app-key:<id>`. */
  id: stepId,
  kind: z.enum(STEP_KINDS),
  /** A user: by email (a person) or by Datadog user id (a service account, or an actor named by id). A key: its id. */
  target: z.object({ email: z.string().min(1).optional(), userId: z.string().min(1).optional(), keyId: z.string().min(1).optional(), name: z.string().optional() }).strict(),
  /** One line for the plan: what happens. */
  text: z.string().min(1),
  /** Undo can reverse it (a disabled user is enabled again); a revoked key cannot come back. */
  undoable: z.boolean(),
}).strict();
export type PlanStep = z.infer<typeof PlanStepSchema>;

export const ManualItemSchema = z.object({ rule: z.string(), text: z.string(), href: z.string().optional() }).strict();
export type ManualItem = z.infer<typeof ManualItemSchema>;

/** The response workflow's input: small, secrets by variable name only (the targets are the schedule's). */
export const ContainmentInputSchema = z.object({
  v: z.literal(1),
  orgId: z.string().min(1),
  dedupKey: z.string().min(1).max(255),
  /** REST mode: the PagerDuty incident, for notes. Events mode: unknown until a webhook names it. */
  incidentId: z.string().min(1).optional(),
  actor: z.string().min(1),
  actorName: z.string().optional(),
  actorKind: z.enum(['email', 'id', 'service_account', 'api_key']),
  title: z.string().max(1024),
  steps: z.array(PlanStepSchema).max(64),
  manual: z.array(ManualItemSchema).max(64),
  /** What the plan could not cover (evidence caps), said before anyone approves. */
  notes: z.array(z.string()).max(20),
  ttlMs: z.number().int().positive(),
  datadog: DatadogTargetSchema,
  pagerduty: PagerDutyTargetSchema,
}).strict();
export type ContainmentInput = z.infer<typeof ContainmentInputSchema>;

/** The response workflow of an incident: one per dedup key (which already names the org), whichever run starts it. */
export function responseWorkflowId(dedupKey: string): string {
  return `audit-spike-response-${dedupKey}`;
}

/** Why an actor is never acted on (allowlisted, or never-contain), or undefined. */
export function protectedActorReason(actor: string, suppressActors: readonly string[], neverContain: readonly string[]): string | undefined {
  const text = actor.toLowerCase();
  for (const pattern of suppressActors) if (globMatcher(pattern)(text)) return `actor allowlisted (${pattern})`;
  for (const pattern of neverContain) if (globMatcher(pattern)(text)) return `actor never contained (response.neverContain ${pattern})`;
  return undefined;
}

const KEY_STEP: Record<string, { kind: StepKind; prefix: string; label: string }> = {
  api_key: { kind: 'revoke_api_key', prefix: 'api-key', label: 'API key' },
  application_key: { kind: 'revoke_app_key', prefix: 'app-key', label: 'application key' },
};

function bareActor(actor: string, kind: ActorField['kind'], fields: ActorField[]): string {
  const field = fields.find((f) => f.kind === kind && f.prefix !== '' && actor.startsWith(f.prefix));
  return field ? actor.slice(field.prefix.length) : actor;
}

function linkFor(links: IncidentLink[], rule: string): string | undefined {
  return links.find((link) => link.text.startsWith(`Audit Trail: ${rule} by `))?.href;
}

export interface PlanContext {
  summary: Pick<IncidentSummary, 'orgId' | 'actor' | 'actorName' | 'dedupKey' | 'title' | 'counts' | 'evidence' | 'links'>;
  actorFields: ActorField[];
  response: Pick<ResponseSettings, 'ttlMs' | 'revokeKeysFrom'>;
  datadog: DatadogTarget;
  pagerduty: PagerDutyTarget;
  incidentId?: string;
}

/**
 * The plan for one incident: disable the actor (a person or a service account: the users API, undoable), or revoke it
 * when the actor is an API key; revoke every API and application key the burst created (the assets of the
 * `revokeKeysFrom` rules; never undoable); list the other rules' assets as what a person must restore, with the rule's
 * Audit Trail link. Undefined when there is nothing to act on (the unknown actor).
 */
export function buildContainmentPlan(context: PlanContext): ContainmentInput | undefined {
  const { summary, actorFields, response } = context;
  const kind = actorKindOf(summary.actor, actorFields);
  if (kind === undefined) return undefined;
  const bare = bareActor(summary.actor, kind, actorFields);
  const steps: PlanStep[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const add = (step: PlanStep) => {
    if (seen.has(step.id) || steps.length >= 64) return;
    seen.add(step.id);
    steps.push(step);
  };

  if (kind === 'email' || (kind === 'id' && bare.includes('@'))) {
    add({ id: 'disable-user', kind: 'disable_user', target: { email: bare.toLowerCase() }, text: `disable the Datadog user ${bare.toLowerCase()} (undo re-enables it)`, undoable: true });
  } else if (kind === 'id' || kind === 'service_account') {
    const what = kind === 'service_account' ? 'service account' : 'user';
    add({ id: 'disable-user', kind: 'disable_user', target: { userId: bare }, text: `disable the Datadog ${what} ${bare} (undo re-enables it)`, undoable: true });
  } else {
    add({ id: `api-key:${bare}`, kind: 'revoke_api_key', target: { keyId: bare }, text: `revoke the API key ${bare} that did this (cannot be undone)`, undoable: false });
  }

  const evidence: Evidence = summary.evidence;
  const manual: ManualItem[] = [];
  for (const [rule, assets] of Object.entries(evidence.assets)) {
    const revokes = response.revokeKeysFrom.includes(rule);
    let keys = 0;
    const untouched: typeof assets = [];
    for (const asset of assets) {
      const keyStep = KEY_STEP[asset.type.toLowerCase()];
      if (revokes && keyStep && asset.id) {
        keys++;
        add({
          id: `${keyStep.prefix}:${asset.id}`,
          kind: keyStep.kind,
          target: { keyId: asset.id, ...(asset.name ? { name: asset.name } : {}) },
          text: `revoke the ${keyStep.label} ${asset.id}${asset.name ? ` ("${asset.name}")` : ''} created in the burst (cannot be undone)`,
          undoable: false,
        });
      } else {
        untouched.push(asset);
      }
    }
    if (untouched.length) {
      // One line per rule: what was touched (the first few), and where to see all of it.
      const shown = untouched.slice(0, 5).map((a) => `${a.name ?? a.id ?? '(unnamed)'}${a.id && a.name ? ` (${a.id})` : ''}${a.count > 1 ? ` ×${a.count}` : ''}`);
      const more = untouched.length > shown.length ? ` and ${untouched.length - shown.length} more` : '';
      const types = [...new Set(untouched.map((a) => a.type))].join('/');
      const href = linkFor(summary.links, rule);
      manual.push({ rule, text: `${rule}: ${untouched.length} ${types}${untouched.length > 1 ? 's' : ''}: ${shown.join(', ')}${more}; restore by hand if needed`, ...(href ? { href } : {}) });
    }
    const counted = summary.counts[rule] ?? 0;
    if (revokes && (assets.length >= EVIDENCE_LIMITS.assetsPerRule || counted > assets.reduce((sum, a) => sum + a.count, 0))) {
      const href = linkFor(summary.links, rule);
      notes.push(`${rule}: the burst counted ${plural(counted, 'event')} but the evidence names ${plural(keys, 'key')} (it keeps at most ${EVIDENCE_LIMITS.assetsPerRule} per rule, and events read before the burst crossed its threshold are not in it): check the rest by hand${href ? ` at ${href}` : ''}`);
    }
  }
  if (Object.keys(evidence.assets).length >= EVIDENCE_LIMITS.assetRules) {
    notes.push(`the evidence keeps the assets of at most ${EVIDENCE_LIMITS.assetRules} rules: check the Audit Trail for what else this actor changed`);
  }
  if (steps.some((step) => !step.undoable)) notes.push('revoked keys cannot come back: whoever relies on them needs new keys');

  return {
    v: 1,
    orgId: summary.orgId,
    dedupKey: summary.dedupKey,
    ...(context.incidentId ? { incidentId: context.incidentId } : {}),
    actor: summary.actor,
    ...(summary.actorName ? { actorName: summary.actorName.slice(0, 200) } : {}),
    actorKind: kind,
    title: summary.title.slice(0, 1024),
    steps,
    manual,
    notes: notes.slice(0, 20),
    ttlMs: response.ttlMs,
    datadog: context.datadog,
    pagerduty: context.pagerduty,
  };
}

/** The plan as lines a person reads (CLI, web UI, PagerDuty note). */
export function planLines(input: Pick<ContainmentInput, 'steps' | 'manual' | 'notes'>): string[] {
  return [
    ...input.steps.map((step) => `- [${step.id}] ${step.text}`),
    ...(input.manual.length ? ['Not undone automatically (a person restores these):', ...input.manual.map((item) => `- ${item.text}${item.href ? ` ${item.href}` : ''}`)] : []),
    ...input.notes.map((note) => `Note: ${note}`),
  ];
}
