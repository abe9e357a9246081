import { applySchedule } from '../../src/schedule';
import { ACTIONS, burst } from '../../sim/audit-events';
import { tellPlanItsIncident } from '../../sim/dev-stack';
import { triggerAndWait, withStackAndWorker, type Stack } from '../support/stack';
import { runCliInProcess } from '../support/cli';

const MIN = 60_000;

/**
 * #26: `respond` takes the PagerDuty incident id that `npm start` prints, with no --config; after `--undo` the plan says
 * it was undone, by whom and when, and what stays revoked (it used to read "awaiting approval" and name the approver).
 */
describe('respond by incident id, and the plan after undo', () => {
  let stack: Stack;
  const saved = { ...process.env };
  withStackAndWorker((started) => (stack = started));
  beforeAll(() => {
    process.env.TEMPORAL_ADDRESS = stack.server.address;
    process.env.TEMPORAL_NAMESPACE = 'default';
    delete process.env.TEMPORAL_PROFILE;
  });
  afterAll(() => {
    process.env = saved;
  });

  test('the incident id finds the plan; approve, undo, and the view tells what stays revoked', async () => {
    const mallory = { id: 'u-mal', email: 'Mallory@Example.com', name: 'Mallory' };
    const start = Date.now() - 9 * MIN;
    const apiKeys = burst(mallory, ACTIONS.apiKeyCreate, 3, start + MIN, 2 * MIN);
    stack.datadog.addEvents([...burst(mallory, ACTIONS.roleGrant, 11, start, 6 * MIN), ...apiKeys]);
    const config = stack.config(['schedule:', '  ingestionDelay: 5s', '  lookback: 15m', 'response:', '  enabled: true', `  pagerdutyApiUrl: ${stack.pagerduty.httpUrl}`].join('\n'), 'respond-by-id');
    await applySchedule(stack.client, config);
    const run = await triggerAndWait(stack.client, config.schedule.scheduleId);
    const { dedupKey } = run.incidents[0];
    const incidentId = stack.pagerduty.incidents.find((i) => i.dedupKey === dedupKey)!.id;
    // Events mode (the dev stack's) never learns the incident's id: the dev stack tells the plan, as it does here.
    expect(await tellPlanItsIncident(stack.client, dedupKey, incidentId)).toBe(true);

    // The plan starts right after the page: wait until it answers by incident id.
    let shown = await runCliInProcess(['respond', incidentId]);
    for (let i = 0; i < 50 && shown.code !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      shown = await runCliInProcess(['respond', incidentId]);
    }
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`${dedupKey}, PagerDuty ${incidentId}): awaiting approval`);
    expect(shown.stdout).toContain(`Approve with: audit-spike respond ${incidentId} --all`);

    const approved = await runCliInProcess(['respond', incidentId, '--all', '--by', 'ada@example.com']);
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    const undo = await runCliInProcess(['respond', incidentId, '--undo', '--by', 'oncall@example.com']);
    expect(undo.stderr).toBe('');
    expect(undo.stdout).toContain('Undone by oncall@example.com');

    const after = await runCliInProcess(['respond', incidentId]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(': undone; approvable until');
    expect(after.stdout).not.toContain('awaiting approval');
    expect(after.stdout).toMatch(/Undone: \[disable-user\] by oncall@example\.com at \d{4}-\d{2}-\d{2}T/);
    const apiKeyIds = apiKeys.map((e) => (e.attributes.attributes.asset as { id: string }).id);
    expect(after.stdout).toContain(`Still revoked (cannot be undone): ${apiKeyIds.map((id) => `api-key:${id}`).join(', ')}`);

    const unknown = await runCliInProcess(['respond', 'QNOSUCH1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no open containment plan names the PagerDuty incident QNOSUCH1');
  }, 120_000);
});
