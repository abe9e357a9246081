import { TEN_MINUTES, clause, events, type DefaultRule } from './rule';

export const TAMPERING_RULES: DefaultRule[] = [
  {
    rule: {
      id: 'monitor_delete',
      description: 'A monitor deleted',
      enabled: true,
      anyOf: [clause({ 'evt.name': 'Monitor', 'asset.type': 'monitor', action: 'deleted' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }, { count: 5, severity: 'error' }, { count: 20, severity: 'critical' }],
      runbook: { text: 'Check: which monitors are gone (evidence assets) and whether a change (Terraform, a clean-up) explains it. Contain: disable the actor if not. Restore: re-create the monitors from Terraform or Monitors > Deleted (restorable for 7 days).' },
    },
    tests: [
      { name: 'one deletion pages at warning', events: [events({ 'evt.name': 'Monitor', 'asset.type': 'monitor', action: 'deleted', 'asset.name': 'CPU high' })], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'five deletions page at error', events: [events({ 'evt.name': 'Monitor', 'asset.type': 'monitor', action: 'deleted' }, 5)], expect: { pages: true, severity: 'error', count: 5 } },
      { name: 'monitors created, modified or resolved stay quiet', events: [
        events({ 'evt.name': 'Monitor', 'asset.type': 'monitor', action: 'created' }, 5),
        events({ 'evt.name': 'Monitor', 'asset.type': 'monitor', action: 'modified' }, 5),
        events({ 'evt.name': 'Monitor', 'asset.type': 'monitor', action: 'resolved' }, 5),
      ], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'audit_defense_evasion',
      description: 'A detection rule, log pipeline, archive or audit trail setting deleted or disabled',
      enabled: true,
      anyOf: [
        clause({ 'asset.type': 'security_rule', action: 'deleted' }),
        clause({ 'asset.type': ['pipeline', 'archive'], action: 'deleted' }),
        clause({ 'asset.type': 'audit_logs_settings', action: 'modified' }),
      ],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'error' }],
      runbook: { text: 'Check: which detection rule, pipeline, archive or audit setting changed (evidence assets). Contain: disable the actor and revoke their keys. Restore: re-create the rule, pipeline or archive and re-enable the setting.' },
    },
    tests: [
      { name: 'a detection rule deleted pages at error', events: [events({ 'evt.name': 'Security Monitoring', 'asset.type': 'security_rule', action: 'deleted' })], expect: { pages: true, severity: 'error', count: 1 } },
      { name: 'detection rules and signals modified stay quiet', events: [
        events({ 'evt.name': 'Security Monitoring', 'asset.type': 'security_rule', action: 'modified' }, 5),
        events({ 'evt.name': 'Security Monitoring', 'asset.type': 'security_signal', action: 'modified' }, 5),
      ], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'audit_trail_disabled',
      description: 'Audit Trail turned off (Cloud SIEM def-000-atd)',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'audit_trail_state', 'asset.new_value.enabled': 'false' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'critical' }],
      runbook: { text: 'Check: Organization Settings > Audit Trail is off, and what the actor did just before. Contain: turn Audit Trail back on at once, disable the actor and revoke their keys. Restore: review the gap in the audit trail with the other evidence (login history, key usage).' },
    },
    tests: [
      { name: 'audit trail switched off pages at critical', events: [events({ 'evt.name': 'Organization Management', 'asset.type': 'audit_trail_state', action: 'modified', 'asset.new_value.enabled': false })], expect: { pages: true, severity: 'critical', count: 1 } },
      { name: 'the string "false" counts too', events: [events({ 'evt.name': 'Organization Management', 'asset.type': 'audit_trail_state', action: 'modified', 'asset.new_value.enabled': 'false' })], expect: { pages: true, severity: 'critical', count: 1 } },
      { name: 'audit trail switched on stays quiet', events: [events({ 'evt.name': 'Organization Management', 'asset.type': 'audit_trail_state', action: 'modified', 'asset.new_value.enabled': true })], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'security_notification_change',
      description: 'A security notification rule changed or deleted (Cloud SIEM def-000-nsm)',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'notification_profile', action: ['modified', 'deleted'] })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'error' }],
      runbook: { text: 'Check: which notification rule changed and where its alerts now go. Contain: restore the recipients and disable the actor if the change is not theirs. Restore: re-create a deleted rule from Security > Notification Rules.' },
    },
    tests: [
      { name: 'a notification rule deleted pages at error', events: [events({ 'evt.name': 'Security Monitoring', 'asset.type': 'notification_profile', action: 'deleted' })], expect: { pages: true, severity: 'error', count: 1 } },
      { name: 'a notification rule created stays quiet', events: [events({ 'evt.name': 'Security Monitoring', 'asset.type': 'notification_profile', action: 'created' })], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'datadog_security_notification',
      description: 'Datadog\'s own Security Notification: a leaked key, an unusual login, a login method override, a throwaway-email invite',
      enabled: true,
      anyOf: [clause({ 'evt.name': 'Security Notification' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'error' }],
      runbook: { text: 'Check: the notification\'s message (samples): which key leaked or which login was unusual. Contain: revoke a leaked key, disable a user whose login is not theirs. Restore: rotate the keys and review the user\'s recent actions.' },
    },
    tests: [
      { name: 'a leaked key notification pages at error', events: [events({ 'evt.name': 'Security Notification', 'asset.type': 'api_key', 'asset.name': 'leaked key' })], expect: { pages: true, severity: 'error', count: 1 } },
      { name: 'an ordinary login stays quiet', events: [events({ 'evt.name': 'Authentication', 'asset.type': 'user', action: 'login' }, 5)], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'sds_change',
      description: 'A Sensitive Data Scanner scanning group or rule changed or deleted',
      enabled: true,
      anyOf: [clause({ 'asset.type': ['sensitive_data_scanner_scanning_group', 'sensitive_data_scanner_rule'], action: ['modified', 'deleted'] })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }],
      runbook: { text: 'Check: which scanning group or rule changed and whether credentials or personal data now reach logs unredacted. Contain: restore the group or rule. Restore: scrub what was ingested unredacted meanwhile.' },
    },
    tests: [
      { name: 'a scanning rule disabled pages at warning', events: [events({ 'evt.name': 'Sensitive Data Scanner', 'asset.type': 'sensitive_data_scanner_rule', action: 'modified' })], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'a scanning group created stays quiet', events: [events({ 'evt.name': 'Sensitive Data Scanner', 'asset.type': 'sensitive_data_scanner_scanning_group', action: 'created' })], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'log_archive_change',
      description: 'A log archive modified (re-pointed to another bucket)',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'archive', action: 'modified' })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }],
      runbook: { text: 'Check: the archive\'s destination bucket and account now. Contain: point it back at your own bucket and disable the actor if the change is not theirs. Restore: check which logs went to the other destination.' },
    },
    tests: [
      { name: 'an archive re-pointed pages at warning', events: [events({ 'evt.name': 'Log Management', 'asset.type': 'archive', action: 'modified' })], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'a log index modified stays quiet', events: [events({ 'evt.name': 'Log Management', 'asset.type': 'index', action: 'modified' }, 5)], expect: { pages: false } },
    ],
  },
];
