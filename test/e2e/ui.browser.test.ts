import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { applySchedule } from '../../src/schedule';
import { ACTIONS, burst } from '../../sim/audit-events';
import { freePort } from '../support/ports';
import { startStack, triggerAndWait, type Stack } from '../support/stack';

const root = join(__dirname, '..', '..');
const MIN = 60_000;

/** Where the screenshot goes: test-results/ unless AUDIT_SPIKE_UI_SCREENSHOT names a file (the docs script does). */
function screenshotPath(): string {
  const chosen = process.env.AUDIT_SPIKE_UI_SCREENSHOT;
  return chosen ? resolve(root, chosen) : join(root, 'test-results', 'ui-bursting-run.png');
}

function fingerprint(path: string): string {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'absent';
}


/** The Temporal web UI, in Debian's Chromium through playwright-core: a quiet run and a bursting run read as reports. */
describe('the Temporal web UI shows runs as reports', () => {
  let stack: Stack;
  let browser: Browser;
  let uiPort: number;

  beforeAll(async () => {
    uiPort = await freePort();
    stack = await startStack({ uiPort });
    await stack.startWorker();
    const executablePath = execFileSync('bash', [join(root, 'scripts', 'setup-browser.sh'), '--quiet'], { encoding: 'utf8' }).trim();
    browser = await chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);

  test('finds the quiet and the bursting run and reads the burst summary on the page', async () => {
    const config = stack.config('schedule:\n  ingestionDelay: 2s\n  lookback: 20m\n', 'ui');
    await applySchedule(stack.client, config);
    const quiet = await triggerAndWait(stack.client, config.schedule.scheduleId);
    const actor = { id: 'u-eve', email: 'eve.admin@example.com', name: 'Eve' };
    stack.datadog.addEvents(burst(actor, ACTIONS.roleGrant, 12, Date.now() - 4 * MIN, 3 * MIN));
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const bursting = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(bursting.incidents.map((incident) => [incident.actor, incident.severity])).toEqual([['eve.admin@example.com', 'critical']]);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const ui = `http://127.0.0.1:${uiPort}/namespaces/default`;
    await page.goto(`${ui}/workflows?query=${encodeURIComponent('TemporalScheduledById = "audit-spike-ui"')}`, { waitUntil: 'networkidle' });
    const runLinks = async () => [...new Set(await page.$$eval('a[href*="/timeline"]', (links) => links.map((link) => link.getAttribute('href')!)))];
    let links = await runLinks();
    for (let i = 0; i < 20 && links.length < 2; i++) {
      await page.waitForTimeout(500);
      await page.reload({ waitUntil: 'networkidle' });
      links = await runLinks();
    }
    expect(links).toHaveLength(2);

    const memoOf = async (href: string) => {
      await page.goto(`http://127.0.0.1:${uiPort}${href}`, { waitUntil: 'networkidle' });
      await page.getByText('Memo', { exact: true }).first().click();
      await page.getByText('burstingActors').first().waitFor({ timeout: 15_000 });
      return page.innerText('main');
    };
    const texts: string[] = [];
    for (const href of links) texts.push(await memoOf(href));
    const burstText = texts.find((text) => text.includes('eve.admin@example.com (critical)'));
    const quietText = texts.find((text) => text.includes('quiet: no actor crossed a threshold'));
    expect(burstText).toBeDefined();
    expect(burstText).toContain(bursting.report);
    expect(quietText).toContain(quiet.report);

    // The runs list filtered by the search attributes, as the README shows it: only the run that paged is left.
    await page.goto(`${ui}/workflows?query=${encodeURIComponent('AuditSpikePaged = true AND AuditSpikeOrg = "ui"')}`, { waitUntil: 'networkidle' });
    let paged = await runLinks();
    for (let i = 0; i < 20 && paged.length < 1; i++) {
      await page.waitForTimeout(500);
      await page.reload({ waitUntil: 'networkidle' });
      paged = await runLinks();
    }
    expect(paged).toEqual([links[texts.indexOf(burstText!)]]);

    // The bursting run, as a person sees it: its rendered details read as a report. Saved for the README.
    await page.goto(`http://127.0.0.1:${uiPort}${paged[0]}`, { waitUntil: 'networkidle' });
    await page.getByText('User Metadata', { exact: true }).first().click();
    // Current details come from a query the worker answers; the UI asks once the tab opens.
    // The UI renders markdown details in sandboxed frames: read every frame's text.
    const renderedText = async () => (await Promise.all(page.frames().map((frame) => frame.innerText('body').catch(() => '')))).join('\n');
    let details = '';
    for (let i = 0; i < 60 && !details.includes('Burst detected'); i++) {
      await page.waitForTimeout(500);
      details = await renderedText();
    }
    expect(details).toContain('Burst detected');
    expect(details).toContain('eve.admin@example.com');
    expect(details).toContain('role_grant=12');
    expect(details).not.toContain('"burstingActors"');
    // Tests write under test-results/; `npm run docs:screenshot` refreshes the README's picture (a tracked file that
    // `npm test` must never rewrite).
    const readmePicture = join(root, 'docs', 'ui-bursting-run.png');
    const before = fingerprint(readmePicture);
    const target = screenshotPath();
    mkdirSync(dirname(target), { recursive: true });
    await page.screenshot({ path: target });
    expect(statSync(target).size).toBeGreaterThan(1000);
    if (target !== readmePicture) expect(fingerprint(readmePicture)).toBe(before);
  }, 180_000);
});
