import { hash64 } from '../detection/hash';
import { DEFAULT_TEMPLATES } from '../detection/summary';
import type { RuleSpec } from '../detection/types';
import { RuleSpecSchema, type AuditSpikeArgs } from './args-schema';
import { DEFAULT_RULES } from './default-rules';

/**
 * The arguments a Schedule stores, and every run's start event with them: AuditSpikeArgs with what equals this
 * release's defaults named by reference instead of written out (#24: a quiet run's history). The default catalog alone
 * is 22 rules and 12.5 KB of descriptions, runbooks and matches. A reference is `name@digest`, the digest (16 hex
 * digits) of the full definition it stands for:
 * - `*@digest` in `detection.rules`: the whole default catalog, unchanged and in order (a config that overrides no rule);
 * - `<rule id>@digest` in `detection.rules`: one default rule, unchanged (the config overrides others);
 * - `default@digest` as `detection.templates`: the default incident title and body.
 * Anything the config changes stays in full. The worker has the defaults in its code and puts them back before the
 * arguments are validated (expandScheduleArgs), in the workflow and in the scan that reads them from the start event.
 */
export type DefaultRef = `${string}@${string}`;

export type ScheduleArgs = Omit<AuditSpikeArgs, 'detection'> & {
  detection: Omit<AuditSpikeArgs['detection'], 'rules' | 'templates'> & {
    rules: Array<RuleSpec | DefaultRef>;
    templates: AuditSpikeArgs['detection']['templates'] | DefaultRef;
  };
};

const REF = /^(\*|default|[a-z0-9][a-z0-9_.-]*)@([0-9a-f]{16})$/;
const WHOLE_CATALOG = '*';
const DEFAULT_TEMPLATES_NAME = 'default';

/** JSON with keys sorted at every level: equal definitions give equal text whatever order their keys were built in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The digest of a definition (a rule, the catalog, the templates): 16 hex digits. */
export function definitionDigest(definition: unknown): string {
  return hash64(canonicalJson(definition));
}

interface Defaults {
  /** Each default rule as validated: its JSON (a fresh copy per use), canonical form and digest. */
  rules: Map<string, { json: string; canonical: string; digest: string }>;
  ruleIds: string[];
  catalogDigest: string;
  templatesCanonical: string;
  templatesDigest: string;
}

let defaults: Defaults | undefined;

/** This release's defaults (built on first use). */
function releaseDefaults(): Defaults {
  if (defaults) return defaults;
  const parsed = DEFAULT_RULES.map((rule) => RuleSpecSchema.parse(rule));
  defaults = {
    rules: new Map(parsed.map((rule) => [rule.id, { json: JSON.stringify(rule), canonical: canonicalJson(rule), digest: definitionDigest(rule) }])),
    ruleIds: parsed.map((rule) => rule.id),
    catalogDigest: definitionDigest(parsed),
    templatesCanonical: canonicalJson(DEFAULT_TEMPLATES),
    templatesDigest: definitionDigest(DEFAULT_TEMPLATES),
  };
  return defaults;
}

export function isDefaultRef(entry: unknown): entry is DefaultRef {
  return typeof entry === 'string' && REF.test(entry);
}

function parseRef(ref: DefaultRef): { name: string; digest: string } {
  const [, name, digest] = REF.exec(ref)!;
  return { name, digest };
}

/** The arguments a Schedule stores: what equals this release's defaults, by reference. */
export function compactScheduleArgs(args: AuditSpikeArgs): ScheduleArgs {
  const known = releaseDefaults();
  const unchanged = args.detection.rules.map((rule) => known.rules.get(rule.id)?.canonical === canonicalJson(rule));
  const wholeCatalog = known.ruleIds.every((id, i) => args.detection.rules[i]?.id === id && unchanged[i]);
  const rules: Array<RuleSpec | DefaultRef> = wholeCatalog
    ? [`${WHOLE_CATALOG}@${known.catalogDigest}`, ...args.detection.rules.slice(known.ruleIds.length)]
    : args.detection.rules.map((rule, i) => (unchanged[i] ? `${rule.id}@${known.rules.get(rule.id)!.digest}` as DefaultRef : rule));
  const templates = canonicalJson(args.detection.templates) === known.templatesCanonical
    ? `${DEFAULT_TEMPLATES_NAME}@${known.templatesDigest}` as DefaultRef
    : args.detection.templates;
  return { ...args, detection: { ...args.detection, rules, templates } };
}

/**
 * Raw arguments (as a Schedule passed them, not yet validated) with every reference put back in full from this
 * worker's defaults. A reference whose digest differs (a release changed that default since `schedule apply`) takes
 * this worker's definition; a rule this worker does not know (a newer release's, after a rollback) is left out. Either
 * way the warnings say so. Arguments without references come back as they are.
 */
export function expandScheduleArgs(raw: unknown): { args: unknown; warnings: string[] } {
  const detection = (raw as { detection?: { rules?: unknown; templates?: unknown } } | null)?.detection;
  if (!detection || typeof detection !== 'object') return { args: raw, warnings: [] };
  const rules = Array.isArray(detection.rules) ? detection.rules : undefined;
  const refersToRules = rules?.some(isDefaultRef) ?? false;
  const refersToTemplates = isDefaultRef(detection.templates) && parseRef(detection.templates).name === DEFAULT_TEMPLATES_NAME;
  if (!refersToRules && !refersToTemplates) return { args: raw, warnings: [] };
  const known = releaseDefaults();
  const warnings: string[] = [];
  const expanded: { rules?: unknown[]; templates?: unknown } = {};
  if (rules && refersToRules) {
    expanded.rules = rules.flatMap((entry): unknown[] => {
      if (!isDefaultRef(entry)) return [entry];
      const { name, digest } = parseRef(entry);
      if (name === WHOLE_CATALOG) {
        if (digest !== known.catalogDigest) {
          warnings.push(`the default rule catalog changed since the Schedule was applied (${digest} there, ${known.catalogDigest} in this worker): this run used this worker's catalog; run \`audit-spike schedule apply\` to record it`);
        }
        return known.ruleIds.map((id) => JSON.parse(known.rules.get(id)!.json));
      }
      const rule = known.rules.get(name);
      if (!rule) {
        // Not a default here: left for validation to name (a `*` or a reserved name), or a newer release's rule.
        if (name === DEFAULT_TEMPLATES_NAME) return [entry];
        warnings.push(`the Schedule names default rule "${name}", which this worker's release does not have: it did not run; run \`audit-spike schedule apply\` with this release, or deploy the release that has it`);
        return [];
      }
      if (rule.digest !== digest) {
        warnings.push(`default rule "${name}" changed since the Schedule was applied (${digest} there, ${rule.digest} in this worker): this run used this worker's definition; run \`audit-spike schedule apply\` to record it`);
      }
      return [JSON.parse(rule.json)];
    });
  }
  if (refersToTemplates) {
    const { digest } = parseRef(detection.templates as DefaultRef);
    if (digest !== known.templatesDigest) {
      warnings.push(`the default incident templates changed since the Schedule was applied (${digest} there, ${known.templatesDigest} in this worker): this run used this worker's; run \`audit-spike schedule apply\` to record it`);
    }
    expanded.templates = { ...DEFAULT_TEMPLATES };
  }
  return { args: { ...(raw as object), detection: { ...detection, ...expanded } }, warnings };
}
