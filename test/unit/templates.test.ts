import { DEFAULT_RULES } from '../../src/config/default-rules';
import { dryRunEvents } from '../../src/replay/dry-run';
import { DEFAULT_TEMPLATES, TEMPLATE_PLACEHOLDERS, renderTemplate, unknownPlaceholders } from '../../src/detection/summary';
import { replay, timeOrder } from '../../src/replay/engine';
import { Detector } from '../../src/detection/detector';
import { Scan } from '../../src/detection/scan';
import { emptyState } from '../../src/detection/state';
import { ACTIONS, burst } from '../../sim/audit-events';
import { argsFrom } from '../support/settings';

const T0 = Date.parse('2026-11-24T10:02:00.000Z');
const MIN = 60_000;
const mallory = { id: 'u1', email: 'Mallory@Example.com', name: 'Mallory' };
/** Grants of an ordinary role: the Datadog Admin Role would also cross admin_role_grant. */
const grant = { ...ACTIONS.roleGrant, assetName: 'Billing Admins' };
const events = [...burst(mallory, grant, 11, T0, 6 * MIN), ...burst(mallory, ACTIONS.apiKeyCreate, 3, T0 + 4 * MIN, 3 * MIN)];

function firstSummary(yaml = '') {
  const args = argsFrom(yaml);
  const detector = new Detector(args.detection, args.cadence.latenessMs);
  const window = { readFrom: T0 - 60 * MIN, from: T0 - 60 * MIN, to: T0 + 60 * MIN };
  const scan = Scan.start(detector, { orgId: 'acme', window, runAt: window.to, lateAfterMs: 24 * 60 * MIN }, emptyState(window.from));
  for (const event of events) scan.add(event);
  return scan.finish().actions[0].summary;
}

test('the default title and body say who, what, how many, when, and link to the Audit Trail', () => {
  const summary = firstSummary();
  expect(summary.title).toBe('[critical] mallory@example.com (Mallory): 14 sensitive Datadog changes in 7m (role_grant=11, api_key_create=3)');
  expect(summary.body.split('\n')).toEqual([
    'Actor: mallory@example.com (Mallory)',
    'Datadog org: acme',
    'Severity: critical (thresholds crossed: role_grant, api_key_create)',
    'Actions:',
    '  role_grant: 11',
    '  api_key_create: 3',
    'First seen: 2026-11-24T10:02:00.000Z',
    'Last seen: 2026-11-24T10:09:00.000Z',
    `Audit Trail: ${summary.link}`,
    'Evidence:',
    '  Source IPs: 203.0.113.5',
    ...summary.body.split('\n').slice(11, summary.body.split('\n').indexOf('Runbook:')),
    'Runbook:',
    `  role_grant: ${DEFAULT_RULES.find((r) => r.id === 'role_grant')!.runbook!.text}`,
    `  api_key_create: ${DEFAULT_RULES.find((r) => r.id === 'api_key_create')!.runbook!.text}`,
    'Links:',
    ...summary.links.map((link) => `  ${link.text}: ${link.href}`),
  ]);
  expect(summary.body).toContain('    role_grant: role "Billing Admins" (role-');
  expect(summary.body).toMatch(/ and 6 more\n/);
  expect(summary.links.map((link) => link.text)).toEqual([
    'Audit Trail: every event by mallory@example.com',
    'Audit Trail: role_grant by mallory@example.com',
    'Audit Trail: api_key_create by mallory@example.com',
    'Datadog user management: mallory@example.com',
    'Datadog API keys (revoke the keys involved)',
  ]);
  expect(summary.link).toMatch(/^https:\/\/app\.datadoghq\.com\/audit-trail\?query=.*&from_ts=\d+&to_ts=\d+&live=false$/);
});

test('custom templates use every placeholder', () => {
  const title = TEMPLATE_PLACEHOLDERS.map((name) => `${name}={{${name}}}`).join('|');
  const summary = firstSummary(`detection:\n  templates:\n    title: "${title}"\n    body: "{{ actor }} in {{org}}: {{countLines}}"\n`);
  expect(summary.title).toContain('actor=mallory@example.com|actorName=Mallory|actorLabel=mallory@example.com (Mallory)|org=acme|severity=critical');
  expect(summary.title).toContain('|events=14|firstSeen=2026-11-24T10:02:00.000Z|lastSeen=2026-11-24T10:09:00.000Z|duration=7m|link=https://');
  expect(summary.title).toContain(`|late=|dedupKey=${summary.dedupKey}`);
  expect(summary.body).toBe('mallory@example.com in acme:   role_grant: 11\n  api_key_create: 3');
});

test('titles are cut to what PagerDuty accepts', () => {
  const summary = firstSummary(`detection:\n  templates:\n    title: "${'{{countLines}}{{link}}'.repeat(40)}"\n`);
  expect(summary.title.length).toBe(1024);
});

test('dry-run titles come from the config templates', () => {
  const output = dryRunEvents(events, 0, argsFrom('detection:\n  templates:\n    title: "SEC {{severity}} {{actor}} {{counts}}"\n'));
  expect(output.incidents.map((i) => i.title)).toEqual(['SEC critical mallory@example.com role_grant=11, api_key_create=3']);
  expect(replay(timeOrder(events).ordered, argsFrom()).incidents[0].title).toContain('[critical]');
});

test('unknown placeholders are found in any spelling; known ones render, with spaces allowed', () => {
  expect(unknownPlaceholders(DEFAULT_TEMPLATES.title)).toEqual([]);
  expect(unknownPlaceholders(DEFAULT_TEMPLATES.body)).toEqual([]);
  expect(unknownPlaceholders('{{actor}} {{ Actor }} {{actor.name}} {{}} {{count}}')).toEqual(['Actor', 'actor.name', '', 'count']);
  expect(renderTemplate('{{ actor }}/{{severity}}', { actor: 'a', severity: 'error' })).toBe('a/error');
});

test('rendering keeps every literal part: placeholders at either end, adjacent, repeated, or none at all', () => {
  const values = { actor: 'a', severity: 'error', events: '3' };
  expect(renderTemplate('{{actor}}', values)).toBe('a');
  expect(renderTemplate('{{actor}}{{severity}}', values)).toBe('aerror');
  expect(renderTemplate('x {{events}} y {{events}} z', values)).toBe('x 3 y 3 z');
  expect(renderTemplate('no placeholders', values)).toBe('no placeholders');
  expect(renderTemplate('', values)).toBe('');
  expect(renderTemplate('[{{ late }}]', values)).toBe('[]');
  // The same template again (now split and cached) renders the new values.
  expect(renderTemplate('{{actor}}', { actor: 'b' })).toBe('b');
});
