/** The simulated PagerDuty account: one service, its escalation policy and the users audit-spike's tests need. */

export type Severity = 'critical' | 'error' | 'warning' | 'info';
export type Urgency = 'high' | 'low';
/**
 * A service's incident urgency rule, `incident_urgency_rule.urgency` (api-schema reference/REST/openapiv3.json @ 91a06fb3,
 * IncidentUrgencyType: `low`, `high` or `severity_based`). Only `severity_based` lets an event's severity choose.
 */
export type ServiceUrgency = Urgency | 'severity_based';

export interface SimUser {
  id: string;
  name: string;
  email: string;
  /** Escalation level this user is on call at, on the security policy; absent when not on call. */
  level?: number;
}

export const SERVICE = { id: 'PSEC001', name: 'Datadog audit (security)' };
export const POLICY = { id: 'PSECEP1', name: 'Security on-call' };
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error', 'critical'];

/** Ada is first-level on call, Bo second; the bot user (the compose stack's `fromEmail`) is a known user on call nowhere. */
export const DEFAULT_USERS: readonly SimUser[] = [
  { id: 'PUSR001', name: 'Ada Secure', email: 'ada@example.com', level: 1 },
  { id: 'PUSR002', name: 'Bo Backup', email: 'bo@example.com', level: 2 },
  { id: 'PUSRBOT', name: 'audit-spike', email: 'audit-spike@example.com' },
];

export function urgencyFor(rule: ServiceUrgency, severity: Severity): Urgency {
  if (rule !== 'severity_based') return rule;
  return severity === 'critical' || severity === 'error' ? 'high' : 'low';
}

export function userReference(users: readonly SimUser[], id: string) {
  const user = users.find((u) => u.id === id);
  return { id, type: 'user_reference', summary: user?.name ?? id, self: `https://api.pagerduty.com/users/${id}` };
}

export const serviceReference = () => ({ id: SERVICE.id, type: 'service_reference', summary: SERVICE.name });
export const policyReference = () => ({ id: POLICY.id, type: 'escalation_policy_reference', summary: POLICY.name });

export function userJson(user: SimUser) {
  return { id: user.id, type: 'user', name: user.name, email: user.email, summary: user.name, role: 'user' };
}

export function serviceJson(urgency: ServiceUrgency) {
  return {
    id: SERVICE.id,
    type: 'service',
    name: SERVICE.name,
    summary: SERVICE.name,
    status: 'active',
    escalation_policy: policyReference(),
    incident_urgency_rule: { type: 'constant', urgency },
  };
}

export function policyJson(users: readonly SimUser[]) {
  const levels = [...new Set(users.map((u) => u.level).filter((l): l is number => l !== undefined))].sort((a, b) => a - b);
  return {
    id: POLICY.id,
    type: 'escalation_policy',
    name: POLICY.name,
    summary: POLICY.name,
    services: [serviceReference()],
    escalation_rules: levels.map((level) => ({
      escalation_delay_in_minutes: 30,
      targets: users.filter((user) => user.level === level).map((user) => userReference(users, user.id)),
    })),
  };
}
