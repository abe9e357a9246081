import { AuditSpikeArgsSchema } from '../../src/config/args-schema';
import { compactScheduleArgs, definitionDigest, expandScheduleArgs, isDefaultRef, type ScheduleArgs } from '../../src/config/schedule-args';
import { DEFAULT_RULES } from '../../src/config/default-rules';
import { DEFAULT_TEMPLATES } from '../../src/detection/summary';
import { argsFrom } from '../support/settings';

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
/** Through JSON, as Temporal stores and hands back a Schedule's arguments. */
const stored = (args: ScheduleArgs): ScheduleArgs => JSON.parse(JSON.stringify(args));
const expandedAndParsed = (args: unknown) => AuditSpikeArgsSchema.parse(expandScheduleArgs(args).args);

describe("a Schedule's arguments name this release's defaults by reference (#24: a quiet run's history)", () => {
  test('a config that overrides nothing stores the catalog and templates as two references, and comes back equal', () => {
    const full = argsFrom('');
    const compact = stored(compactScheduleArgs(full));
    expect(compact.detection.rules).toEqual([expect.stringMatching(/^\*@[0-9a-f]{16}$/)]);
    expect(compact.detection.templates).toMatch(/^default@[0-9a-f]{16}$/);
    const { args, warnings } = expandScheduleArgs(compact);
    expect(warnings).toEqual([]);
    expect(AuditSpikeArgsSchema.parse(args)).toEqual(full);
    // 14.3 KB with catalog v3 written out; what is left is the org's own settings.
    expect(bytes(full)).toBeGreaterThan(12_000);
    expect(bytes(compact)).toBeLessThan(1_500);
  });

  test('a new rule after the catalog: the catalog by one reference, the new rule in full', () => {
    const full = argsFrom(['detection:', '  rules:', '    - id: my_rule', '      match: { evt.name: Dashboard }', '      window: 5m', '      tiers: [{ count: 2, severity: warning }]'].join('\n'));
    const compact = stored(compactScheduleArgs(full));
    expect(compact.detection.rules).toHaveLength(2);
    expect(compact.detection.rules[1]).toMatchObject({ id: 'my_rule' });
    expect(expandedAndParsed(compact)).toEqual(full);
  });

  test('a default rule the config changes in any way (tiers, enabled, description) stays in full in its place; the others by id', () => {
    const full = argsFrom([
      'detection:',
      '  rules:',
      '    - id: role_grant',
      '      tiers: [{ count: 4, severity: error }]',
      '    - id: monitor_delete',
      '      enabled: false',
      '    - id: api_key_create',
      '      description: keys',
      '  templates:',
      '    title: "{{actorLabel}}: {{changes}}"',
    ].join('\n'));
    const compact = stored(compactScheduleArgs(full));
    const ids = compact.detection.rules.map((rule) => (typeof rule === 'string' ? rule.split('@')[0] : rule.id));
    expect(ids).toEqual(full.detection.rules.map((rule) => rule.id));
    const inFull = compact.detection.rules.flatMap((rule) => (isDefaultRef(rule) ? [] : [rule.id]));
    expect(inFull.sort()).toEqual(['api_key_create', 'monitor_delete', 'role_grant']);
    expect(compact.detection.templates).toEqual(full.detection.templates);
    expect(expandedAndParsed(compact)).toEqual(full);
  });

  test('the digest follows the definition, not the order its keys were written in', () => {
    const rule = DEFAULT_RULES[0];
    const reordered = Object.fromEntries(Object.entries(rule).reverse());
    expect(definitionDigest(reordered)).toBe(definitionDigest(rule));
    expect(definitionDigest({ ...rule, tiers: [{ count: 99, severity: 'critical' }] })).not.toBe(definitionDigest(rule));
  });

  test('references from another release: changed defaults run as this worker has them, an unknown rule is left out, and each says so', () => {
    const compact = stored(compactScheduleArgs(argsFrom('detection:\n  rules:\n    - id: role_grant\n      tiers: [{ count: 4, severity: error }]\n')));
    const rules = compact.detection.rules.map((rule) => (typeof rule === 'string' && rule.startsWith('api_key_create@') ? 'api_key_create@0123456789abcdef' : rule));
    rules.push('rule_from_a_newer_release@fedcba9876543210');
    const { args, warnings } = expandScheduleArgs({ ...compact, detection: { ...compact.detection, rules, templates: 'default@00000000000000aa' } });
    const parsed = AuditSpikeArgsSchema.parse(args);
    expect(parsed.detection.rules.map((rule) => rule.id)).toEqual(DEFAULT_RULES.map((rule) => rule.id));
    expect(parsed.detection.templates).toEqual(DEFAULT_TEMPLATES);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/default rule "api_key_create" changed since the Schedule was applied \(0123456789abcdef there, [0-9a-f]{16} in this worker\).*schedule apply/);
    expect(warnings[1]).toMatch(/"rule_from_a_newer_release", which this worker's release does not have: it did not run/);
    expect(warnings[2]).toMatch(/default incident templates changed since the Schedule was applied/);
    const catalog = expandScheduleArgs({ ...compact, detection: { ...compact.detection, rules: ['*@0123456789abcdef'] } });
    expect(AuditSpikeArgsSchema.parse(catalog.args).detection.rules.map((rule) => rule.id)).toEqual(DEFAULT_RULES.map((rule) => rule.id));
    expect(catalog.warnings).toEqual([expect.stringMatching(/the default rule catalog changed since the Schedule was applied/)]);
  });

  test('arguments without references (a Schedule applied before, a recorded history) are returned as they are; a malformed one fails validation', () => {
    const full = argsFrom('');
    expect(expandScheduleArgs(full).args).toBe(full);
    expect(isDefaultRef('role_grant@abc')).toBe(false);
    expect(isDefaultRef({ id: 'role_grant', catalog: '0123456789abcdef' })).toBe(false);
    const bad = { ...full, detection: { ...full.detection, rules: ['role_grant@nope'] } };
    expect(AuditSpikeArgsSchema.safeParse(expandScheduleArgs(bad).args).success).toBe(false);
  });
});
