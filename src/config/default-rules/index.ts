import type { RuleSpec } from '../../detection/types';
import { RuleTestSchema, type RuleTest } from '../rule-tests-schema';
import { ACCESS_RULES } from './access';
import { BEHAVIOUR_RULES } from './behaviour';
import { KEY_RULES } from './keys';
import type { DefaultRule } from './rule';
import { SHARING_RULES } from './sharing';
import { TAMPERING_RULES } from './tampering';

const ORDER = [
  // The catalog v1 (stable ids), then v2 (design.md "Default rule catalog v2").
  'role_grant', 'api_key_create', 'app_key_create', 'monitor_delete', 'user_invite', 'org_auth_change', 'audit_defense_evasion',
  'audit_trail_disabled', 'security_notification_change', 'public_dashboard_share', 'admin_role_grant', 'support_user_write',
  'datadog_security_notification', 'sds_change', 'log_archive_change', 'restriction_policy_change', 'api_key_delete',
  // v3 (design.md "Default rule catalog v3"): what a threshold cannot see.
  'new_country_sensitive', 'impossible_travel', 'multi_rule',
];

const ALL: DefaultRule[] = [...ACCESS_RULES, ...KEY_RULES, ...TAMPERING_RULES, ...SHARING_RULES, ...BEHAVIOUR_RULES]
  .sort((a, b) => ORDER.indexOf(a.rule.id) - ORDER.indexOf(b.rule.id));

/** The default catalog (stable ids), matching the terms of Datadog's Audit Trail events reference. */
export const DEFAULT_RULES: RuleSpec[] = ALL.map((entry) => entry.rule);

let parsedTests: Map<string, RuleTest[]> | undefined;

/** Each default rule's tests, validated as a person's `tests:` are (parsed once, on first use). */
export function defaultRuleTests(ruleId: string): RuleTest[] {
  parsedTests ??= new Map(ALL.map((entry) => [entry.rule.id, entry.tests.map((test) => RuleTestSchema.parse(test))]));
  return parsedTests.get(ruleId) ?? [];
}
