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

  async function startAndWaitForPage(): Promise<{ reset: boolean; titles: string[] }> {
    stack = await startDevStack({ env, dataDir, temporalPort: TEST_TEMPORAL_PORT, headless: true, workflowBundle: await workflowBundle(), log: (line) => lines.push(line) });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !stack.pagerduty!.incidents.length) await new Promise((resolve) => setTimeout(resolve, 250));
    const titles = stack.pagerduty!.incidents.map((incident) => incident.title);
    const { reset } = stack;
    await stack.stop();
    stack = undefined;
    return { reset, titles };
  }

  test('a second start on the same data directory pages the sample\'s burst again', async () => {
    const first = await startAndWaitForPage();
    expect(first.reset).toBe(false);
    expect(first.titles).toEqual([expect.stringMatching(/^\[critical\] mallory@example\.com/)]);

    const second = await startAndWaitForPage();
    expect(second.titles).toEqual([expect.stringMatching(/^\[critical\] mallory@example\.com/)]);
    expect(second.reset).toBe(true);
    expect(lines.join('\n')).toContain('started afresh');
  }, 240_000);
});
