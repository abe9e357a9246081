export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function higherSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

export interface Tier {
  count: number;
  severity: Severity;
}

/** One attribute test: the value at `path` (dot-separated, under attributes.attributes) equals one of `values`, case-insensitively; `*` in a value is a wildcard. */
export interface MatchCondition {
  path: string;
  values: string[];
}

/** All conditions must hold. */
export interface MatchClause {
  all: MatchCondition[];
}

export interface RuleSpec {
  id: string;
  description: string;
  enabled: boolean;
  /** The event matches when any clause holds. Empty for combined rules. */
  anyOf: MatchClause[];
  /** A combined rule counts events that matched any of these rule ids (`*` = every non-combined rule). */
  combines?: string[];
  windowMs: number;
  /** Ascending by count. The lowest tier is the threshold. */
  tiers: Tier[];
  /** What the on-call should check, how to contain and restore; shown in the page for the rules crossed. */
  runbook?: Runbook;
  /**
   * How the rule decides (catalog v3, src/detection/methods/): absent or `threshold` is the sliding-window count above;
   * `new_value`, `impossible_travel` and `multi_rule` fire from a person's baseline or the actor's other rules, and
   * each firing counts as one matched event of the rule (so `tiers` of `[{count: 1, severity}]` page at once).
   */
  method?: RuleMethod;
}

export const METHOD_KINDS = ['threshold', 'new_value', 'impossible_travel', 'multi_rule'] as const;
export type MethodKind = (typeof METHOD_KINDS)[number];

/** A method's options, resolved (durations in ms). */
export type RuleMethod =
  | { kind: 'threshold' }
  | {
      kind: 'new_value';
      /** The attribute path (under attributes.attributes) whose values are learned per person. */
      field: string;
      /** Warm-up: the rule fires only once the person's first learning-set event is at least this old. */
      learningMs: number;
      /** A value not seen for this long leaves the baseline. */
      forgetAfterMs: number;
    }
  | { kind: 'impossible_travel'; minKm: number; minKmh: number; learningMs: number; forgetAfterMs: number }
  | {
      kind: 'multi_rule';
      /** The span in which the actor's distinct crossed rules are counted. */
      withinMs: number;
      /** Distinct rules crossed within the span, the one being crossed included, for the rule to fire. */
      minRules: number;
    };

export interface Runbook {
  text?: string;
  url?: string;
}

/** How an actor field's value becomes an actor id: emails are lower-cased; ids (users, service accounts, API keys) are kept as they are. */
export type ActorKind = 'email' | 'id' | 'service_account' | 'api_key';

export interface ActorField {
  path: string;
  kind: ActorKind;
  /** Prepended to the value to build the actor id, e.g. `api_key:`. */
  prefix: string;
  /** The field names the actor only for events matching one of these (e.g. service accounts, recognised by their email domain). */
  when?: MatchClause[];
}

export interface MaintenanceWindow {
  fromMs: number;
  toMs: number;
  /** Empty means every actor. Entries may use `*` wildcards. */
  actors: string[];
  reason: string;
}

/** An actor exempted from some rules (or all), possibly until a time: e.g. Terraform from monitor_delete until a date. */
export interface ActorExemption {
  /** An exact actor id or a `*` pattern. */
  actor: string;
  /** Empty means every rule. */
  rules: string[];
  /** Epoch ms from which the exemption no longer applies (compared with the run's scheduled time). */
  expiresMs?: number;
  reason?: string;
}

export interface SuppressionSettings {
  /** Exact actor ids or `*` patterns whose bursts are counted but never paged. */
  actors: string[];
  maintenanceWindows: MaintenanceWindow[];
  /** Absent in the arguments of schedules created before exemptions existed. */
  exemptions?: ActorExemption[];
}

export interface Templates {
  title: string;
  body: string;
}

export interface DetectionSettings {
  rules: RuleSpec[];
  actorFields: ActorField[];
  actorNameFields: string[];
  /** Events whose `action` is one of these only read, and never count. */
  readOnlyActions: string[];
  suppress: SuppressionSettings;
  /** Resolve the PagerDuty incident once a burst has been quiet for its window. */
  autoResolve: boolean;
  /** Catalog v3: seed an org's first baselines from the Audit Trail's past within its retention. */
  seedBaselines?: boolean;
  templates: Templates;
  /** Base URL of the Datadog web app, for links in summaries, e.g. https://app.datadoghq.com */
  appUrl: string;
  limits: {
    /** Kept event references per actor and rule (must exceed the highest tier). */
    maxHitsPerRule: number;
    /** Kept event references across all actors and rules: bounds the carried state. */
    maxHitsTotal: number;
    /**
     * Bytes a run's result (and its scan's) may take as it crosses Temporal, which refuses payloads over 2 MiB; past
     * it the least useful carried state is shed, and the run says so. Absent: DEFAULT_MAX_RESULT_BYTES (512 KiB).
     */
    maxResultBytes?: number;
  };
}

/** The audit event as the v2 API returns one element of `data[]` (or as the client deserializes it). */
export interface AuditEventLike {
  id?: unknown;
  type?: unknown;
  attributes?: {
    timestamp?: unknown;
    service?: unknown;
    message?: unknown;
    tags?: unknown;
    attributes?: unknown;
  };
}
