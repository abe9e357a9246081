import { TEN_MINUTES, clause, events, type DefaultRule } from './rule';

export const SHARING_RULES: DefaultRule[] = [
  {
    rule: {
      id: 'public_dashboard_share',
      description: 'A dashboard shared publicly, or its share link changed (Cloud SIEM def-000-dmp)',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'dashboard_share_link', action: ['created', 'modified'] })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 1, severity: 'warning' }],
      runbook: { text: 'Check: which dashboard is public and what data it shows. Contain: revoke the share link (Dashboards > Shared Dashboards). Restore: share it again with invite-only access if it is needed.' },
    },
    tests: [
      { name: 'a public share link pages at warning', events: [events({ 'evt.name': 'Dashboard', 'asset.type': 'dashboard_share_link', action: 'created' })], expect: { pages: true, severity: 'warning', count: 1 } },
      { name: 'dashboards created, modified or read stay quiet', events: [
        events({ 'evt.name': 'Dashboard', 'asset.type': 'dashboard', action: 'created' }, 5),
        events({ 'evt.name': 'Dashboard', 'asset.type': 'dashboard', action: 'modified' }, 5),
        events({ 'evt.name': 'Dashboard', 'asset.type': 'dashboard', action: 'accessed' }, 5),
      ], expect: { pages: false } },
    ],
  },
  {
    rule: {
      id: 'restriction_policy_change',
      description: 'Restriction policies (who may see or edit a resource) created, changed or deleted',
      enabled: true,
      anyOf: [clause({ 'asset.type': 'restriction_policy', action: ['created', 'modified', 'deleted'] })],
      windowMs: TEN_MINUTES,
      tiers: [{ count: 3, severity: 'warning' }],
      runbook: { text: 'Check: which resources changed hands (evidence assets) and who may now edit them. Contain: restore the previous policies and disable the actor if the change is not theirs.' },
    },
    tests: [
      { name: 'three policy changes page at warning', events: [events({ 'evt.name': 'Access Management', 'asset.type': 'restriction_policy', action: 'modified' }, 3)], expect: { pages: true, severity: 'warning', count: 3 } },
      { name: 'two stay quiet', events: [events({ 'evt.name': 'Access Management', 'asset.type': 'restriction_policy', action: 'modified' }, 2)], expect: { pages: false } },
    ],
  },
];
