import { ConfigError } from '../../src/config/errors';
import { parseFleetText } from '../../src/config/fleet';

describe('a config watching several orgs', () => {
  test('shared keys apply to every org; each org overrides what differs', () => {
    const fleet = parseFleetText(
      ['schedule: { interval: 10m }', 'datadog: { pageLimit: 500 }', 'orgs:', '  - org: us', '  - org: eu', '    datadog: { site: datadoghq.eu, apiKeyEnv: DD_EU_API_KEY }'].join('\n'),
      'fleet.yaml',
    );
    expect(fleet.map((c) => [c.schedule.scheduleId, c.schedule.intervalMs, c.args.datadog.pageLimit, c.args.datadog.site, c.args.datadog.apiKeyEnv])).toEqual([
      ['audit-spike-us', 600_000, 500, undefined, 'DD_API_KEY'],
      ['audit-spike-eu', 600_000, 500, 'datadoghq.eu', 'DD_EU_API_KEY'],
    ]);
  });

  test('a file without orgs is one org', () => {
    expect(parseFleetText('org: solo', 'f.yaml').map((c) => c.args.orgId)).toEqual(['solo']);
  });

  test.each([
    ['orgs: []', /orgs.*non-empty list/],
    ['orgs:\n  - datadog: {}', /each with an "org" name/],
    ['org: x\norgs:\n  - org: a', /give each org its name under orgs\[\]/],
    ['orgs:\n  - org: a\n  - org: a', /schedule id "audit-spike-a" is also used by orgs\[0\]/],
    ['orgs:\n  - org: a\n  - org: b\n    datadog: { pageLimit: 5000 }', /orgs\[1\], org "b".*pageLimit/s],
  ])('%s is refused with a message that says where and why', (text, message) => {
    let error: unknown;
    try {
      parseFleetText(text, 'fleet.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
