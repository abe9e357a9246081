import { parseConfigText } from '../../src/config/load';
import { Detector } from '../../src/detection/detector';
import { Scan } from '../../src/detection/scan';
import { emptyState } from '../../src/detection/state';
import type { IncidentSummary } from '../../src/detection/summary';
import type { AuditEventLike } from '../../src/detection/types';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T12:07:00.000Z');
const MIN = 60_000;

function event(i: number, inner: Record<string, unknown>, usr: Record<string, unknown> | undefined, metadata?: Record<string, unknown>): AuditEventLike {
  return {
    id: `AQAA-l-${i}`, type: 'audit',
    attributes: {
      timestamp: new Date(T0 + i * 10_000).toISOString(), message: `event ${i}`,
      attributes: { ...(usr ? { usr } : {}), ...(metadata ? { metadata } : {}), network: { client: { ip: '203.0.113.77' } }, ...inner },
    },
  };
}

const keyCreate = { evt: { name: 'Authentication' }, action: 'created', asset: { type: 'api_key', id: 'k-1', name: 'ci' } };
const appKeyCreate = { evt: { name: 'Access Management' }, action: 'created', asset: { type: 'application_key', id: 'ak-1', name: 'sa key' } };
const monitorDelete = { evt: { name: 'Monitor' }, action: 'deleted', asset: { type: 'monitor', id: 'm-1', name: 'CPU high' } };

function summaries(events: AuditEventLike[], yaml = ''): IncidentSummary[] {
  const args = argsFrom(yaml);
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const window = { readFrom: T0 - 10 * MIN, from: T0 - 10 * MIN, to: T0 + 20 * MIN };
  const scan = Scan.start(detector, { orgId: 'acme', window, runAt: window.to, lateAfterMs: 60 * MIN }, emptyState(window.from));
  for (const e of events) scan.add(e);
  return scan.finish().actions.map((action) => action.summary);
}

const queryOf = (href: string) => decodeURIComponent(new URL(href).searchParams.get('query')!);

describe('links', () => {
  test('a user: the actor\'s events, one query per rule crossed (actor and the rule\'s terms), user management, the keys pages', () => {
    const usr = { email: 'Mallory@Example.com', id: 'u-1', name: 'Mallory' };
    const [summary] = summaries([
      ...[0, 1, 2].map((i) => event(i, keyCreate, usr)),
      ...[3, 4, 5].map((i) => event(i, appKeyCreate, usr)),
    ], 'datadog:\n  appUrl: https://dd.example.eu\n');
    expect(summary.links.map((link) => link.text)).toEqual([
      'Audit Trail: every event by mallory@example.com',
      'Audit Trail: api_key_create by mallory@example.com',
      'Audit Trail: app_key_create by mallory@example.com',
      'Datadog user management: mallory@example.com',
      'Datadog API keys (revoke the keys involved)',
      'Datadog application keys (revoke the keys involved)',
    ]);
    expect(summary.links.every((link) => link.href.startsWith('https://dd.example.eu/'))).toBe(true);
    expect(queryOf(summary.links[1].href)).toBe('@usr.email:"mallory@example.com" (@asset.type:api_key AND @action:created)');
    expect(queryOf(summary.links[2].href)).toBe('@usr.email:"mallory@example.com" (@asset.type:application_key AND @action:created)');
    expect(summary.links[3].href).toBe('https://dd.example.eu/organization-settings/users?filter=mallory%40example.com');
    expect(summary.links[4].href).toBe('https://dd.example.eu/organization-settings/api-keys');
    expect(summary.links[5].href).toBe('https://dd.example.eu/organization-settings/application-keys');
    expect(summary.links[0].href).toBe(summary.link);
  });

  test('an API key actor: no user management link, the API keys page; a monitor rule: no keys page', () => {
    const [byKey] = summaries([0, 1, 2].map((i) => event(i, keyCreate, undefined, { api_key: { id: 'a1b2c3' } })));
    expect(byKey.actor).toBe('api_key:a1b2c3');
    expect(byKey.links.map((link) => link.text)).toEqual([
      'Audit Trail: every event by api_key:a1b2c3',
      'Audit Trail: api_key_create by api_key:a1b2c3',
      'Datadog API keys (revoke the keys involved)',
    ]);
    expect(queryOf(byKey.links[1].href)).toBe('@metadata.api_key.id:a1b2c3 (@asset.type:api_key AND @action:created)');
    const [monitors] = summaries([event(0, monitorDelete, { email: 'ops@example.com' })]);
    expect(monitors.links.map((link) => link.text)).toEqual([
      'Audit Trail: every event by ops@example.com', 'Audit Trail: monitor_delete by ops@example.com', 'Datadog user management: ops@example.com',
    ]);
    expect(queryOf(monitors.links[1].href)).toBe('@usr.email:"ops@example.com" (@evt.name:Monitor AND @asset.type:monitor AND @action:deleted)');
  });

  test('a combined rule links to the terms of the rules it combines', () => {
    const yaml = 'detection:\n  rules:\n    - { id: keys_any, combine: [api_key_create, app_key_create], window: 10m, tiers: [{ count: 2, severity: error }] }\n';
    const [summary] = summaries([event(0, keyCreate, { email: 'a@example.com' }), event(1, appKeyCreate, { email: 'a@example.com' })], yaml);
    const link = summary.links.find((l) => l.text.startsWith('Audit Trail: keys_any'))!;
    expect(queryOf(link.href)).toBe('@usr.email:"a@example.com" ((@asset.type:api_key AND @action:created) OR (@asset.type:application_key AND @action:created))');
  });
});

describe('runbooks', () => {
  test('the default rules ship runbooks saying what to check, how to contain and restore', () => {
    const { args } = parseConfigText('', 'defaults');
    for (const rule of args.detection.rules) {
      expect({ id: rule.id, text: rule.runbook?.text }).toEqual({ id: rule.id, text: expect.stringMatching(/Check: .*Contain/s) });
    }
  });

  test('a rule\'s runbook comes from the config, is validated, and shows in the page for the rules crossed', () => {
    const yaml = 'detection:\n  rules:\n    - id: monitor_delete\n      runbook: { text: Ask the SRE channel first., url: "https://wiki.example.com/rb/monitors" }\n';
    const [summary] = summaries([event(0, monitorDelete, { email: 'ops@example.com' })], yaml);
    expect(summary.runbooks).toEqual([{ rule: 'monitor_delete', text: 'Ask the SRE channel first.', url: 'https://wiki.example.com/rb/monitors' }]);
    expect(summary.body).toContain('Runbook:\n  monitor_delete: Ask the SRE channel first. https://wiki.example.com/rb/monitors\n');
    expect(() => parseConfigText('detection:\n  rules:\n    - id: monitor_delete\n      runbook: { url: not a url }\n', 'x'))
      .toThrow('detection.rules[0].runbook.url (line 4): must be a URL such as https://wiki.example.com/runbooks/role-grant');
    expect(() => parseConfigText('detection:\n  rules:\n    - id: monitor_delete\n      runbook: {}\n', 'x')).toThrow('detection.rules[0].runbook (line 4): needs text, url or both');
    expect(() => parseConfigText('detection:\n  rules:\n    - id: monitor_delete\n      runbook: { txt: hi }\n', 'x')).toThrow(/runbook\.txt \(line 4\): unknown key "txt" \(did you mean "text"\?\)/);
  });
});

describe('template placeholders for evidence, runbook and links', () => {
  test('each renders what the incident holds; unknown placeholders stay a config error', () => {
    const body = '{{ips}}|{{userAgents}}|{{authMethods}}|{{actorTypes}}\\n{{assets}}\\n{{samples}}\\n{{runbook}}\\n{{links}}\\n{{evidence}}';
    const usr = { email: 'ops@example.com' };
    const inner = { ...monitorDelete, http: { useragent: 'terraform/1.9' }, auth_method: 'API_KEY', evt: { name: 'Monitor', actor: { type: 'USER' } } };
    const [summary] = summaries([event(0, inner, usr)], `detection:\n  templates:\n    title: "{{changes}} {{span}}: {{ips}}"\n    body: "${body}"\n`);
    expect(summary.title).toBe('1 sensitive Datadog change at 12:07: 203.0.113.77');
    const lines = summary.body.split('\n');
    expect(lines[0]).toBe('203.0.113.77|terraform/1.9|API_KEY|USER');
    expect(lines[1]).toBe('  monitor_delete: monitor "CPU high" (m-1)');
    expect(lines[2]).toBe('  2026-11-24T12:07:00.000Z monitor_delete: event 0 [AQAA-l-0]');
    expect(lines[3]).toMatch(/^ {2}monitor_delete: Check: /);
    expect(lines[4]).toBe(`  Audit Trail: every event by ops@example.com: ${summary.link}`);
    expect(summary.body).toContain('  Source IPs: 203.0.113.77\n  User agents: terraform/1.9\n  Auth methods: API_KEY\n  Actor types: USER\n  Assets:\n    monitor_delete: monitor "CPU high" (m-1)\n  Samples (earliest first):\n');
    expect(() => argsFrom('detection:\n  templates:\n    body: "{{evidence.ips}} {{runbooks}}"\n')).toThrow(/unknown placeholder \{\{evidence\.ips\}\}, \{\{runbooks\}\}; allowed: .*\{\{evidence\}\} .*\{\{runbook\}\}/);
  });
});
