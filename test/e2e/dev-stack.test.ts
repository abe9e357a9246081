import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startDevStack, type DevStack } from '../../sim/dev-stack';
import { TEST_TEMPORAL_PORT, workflowBundle } from '../support/stack';

/**
 * `npm start` twice on the same `.data/` (#26): the Temporal history survives, the simulators do not. Each start must
 * page the sample's compromised admin again; before, the second start's run took the new sample's burst for the
 * continuation of the one already paged, and paged nothing.
 *
 * And each start shows the careful attacker caught (catalog v3, #23): the sample's events carry geoip, the first run
 * seeds the baselines from the simulated Audit Trail's past, and pages a role grant from Romania (new_country_sensitive)
 * and New York → Singapore in 40 minutes (impossible_travel), with their evidence. The baselines the first start taught
 * (Romania, Singapore) must not hide the second start's attackers: the dev stack ends them with its Schedule.
 */
describe('the dev stack pages every time it starts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-spike-dev-'));
  const env = {
    PATH: process.env.PATH,
    SIM_DATADOG_PORT: '0', SIM_PAGERDUTY_HTTPS_PORT: '0', SIM_PAGERDUTY_HTTP_PORT: '0', AUDIT_SPIKE_WEBHOOKS_PORT: '0',
  };
  let stack: DevStack | undefined;
  const lines: string[] = [];

  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Installed already by another file in this process.
    }
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  interface Page { title: string; severity?: string; rules: string[]; evidence: Evidence }
  interface Evidence {
    countries?: string[];
    newValues?: Array<{ rule: string; field: string; value: string; seenBefore: string[] }>;
    travel?: { from: { country: string; city?: string; timestamp: string }; to: { country: string; city?: string; timestamp: string }; km: number; kmh: number };
  }

  /** Starts the stack, waits for its three pages (the burst and the two careful attackers), stops it. */
  async function startAndWaitForPages(): Promise<{ reset: boolean; pages: Page[] }> {
    const bundle = await workflowBundle();
    const started = Date.now();
    stack = await startDevStack({ env, dataDir, temporalPort: TEST_TEMPORAL_PORT, headless: true, workflowBundle: bundle, log: (line) => lines.push(line) });
    const up = Date.now();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && stack.pagerduty!.incidents.length < 3) await new Promise((resolve) => setTimeout(resolve, 250));
    // eslint-disable-next-line no-console
    console.log(`dev stack: up in ${up - started} ms (Temporal dev server, simulators, worker, Schedule), its ${stack.pagerduty!.incidents.length} pages ${Date.now() - up} ms later`);
    // A little longer: a fourth page would be a wrong one.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const pages = stack.pagerduty!.incidents.map((incident) => {
      const payload = incident.alerts[0]?.payload as { custom_details?: { rules_crossed?: string[]; evidence?: Evidence } } | undefined;
      return { title: incident.title, severity: incident.severity, rules: payload?.custom_details?.rules_crossed ?? [], evidence: payload?.custom_details?.evidence ?? {} };
    }).sort((a, b) => a.title.localeCompare(b.title));
    const { reset } = stack;
    await stack.stop();
    stack = undefined;
    return { reset, pages };
  }

  /** The sample's burst (critical), and its careful attackers (catalog v3, warning): a role grant from Romania, New York → Singapore. */
  function expectTheSamplesPages(pages: Page[]): void {
    expect(pages.map((page) => [page.severity, page.title.split(' ').slice(0, 2).join(' ')])).toEqual([
      ['critical', '[critical] mallory@example.com'],
      ['warning', '[warning] gus6@example.com'],
      ['warning', '[warning] hana7@example.com'],
    ]);
    const [, romania, travel] = pages;
    expect(romania.rules).toContain('new_country_sensitive');
    expect(romania.title).toContain('from Romania (seen before: United States)');
    expect(romania.evidence.countries).toEqual(['RO']);
    expect(romania.evidence.newValues).toEqual([{ rule: 'new_country_sensitive', field: 'network.client.geoip.country.iso_code', value: 'RO', seenBefore: ['US'] }]);
    expect(travel.rules).toEqual(['impossible_travel']);
    expect(travel.title).toMatch(/New York → Singapore, 15,3\d\d km in 40 min/);
    expect(travel.evidence.countries).toEqual(['SG']);
    expect(travel.evidence.travel).toMatchObject({ from: { country: 'US', city: 'New York' }, to: { country: 'SG', city: 'Singapore' } });
    expect(travel.evidence.travel!.km).toBeGreaterThan(15_000);
    expect(travel.evidence.travel!.km).toBeLessThan(15_600);
    expect(travel.evidence.travel!.kmh).toBeGreaterThan(20_000);
    expect(Date.parse(travel.evidence.travel!.to.timestamp) - Date.parse(travel.evidence.travel!.from.timestamp)).toBe(40 * 60_000);
  }

  test('a second start on the same data directory pages the sample\'s burst and its careful attackers again', async () => {
    const first = await startAndWaitForPages();
    expect(first.reset).toBe(false);
    expectTheSamplesPages(first.pages);
    // What the dev stack prints: each page, as it prints the burst's.
    expect(lines.filter((line) => line.startsWith('PAGED'))).toHaveLength(3);

    const second = await startAndWaitForPages();
    expectTheSamplesPages(second.pages);
    expect(second.reset).toBe(true);
    expect(lines.join('\n')).toContain('started afresh');
    expect(lines.join('\n')).toMatch(/Baselines of org \S+: 8 shard workflows ended/);
  }, 300_000);
});
