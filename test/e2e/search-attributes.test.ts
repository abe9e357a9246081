import { MockActivityEnvironment } from '@temporalio/testing';
import { applySchedule } from '../../src/schedule';
import { createCheckSearchAttributes } from '../../src/activities/search-attributes';
import { AUDIT_SPIKE_EVENTS_READ, AUDIT_SPIKE_ORG, AUDIT_SPIKE_PAGED, AUDIT_SPIKE_SEVERITY } from '../../src/workflows/search-attributes';
import { ACTIONS, burst } from '../../sim/audit-events';
import { startStack, triggerAndWait, withStackAndWorker, type Stack } from '../support/stack';

const MIN = 60_000;
const yaml = 'schedule:\n  ingestionDelay: 5s\n  lookback: 15m\n';

async function listIds(stack: Stack, query: string, expected: number): Promise<string[]> {
  // Visibility is eventually consistent: poll until the expected number of runs is listed.
  const deadline = Date.now() + 20_000;
  let ids: string[] = [];
  while (Date.now() < deadline) {
    ids = [];
    for await (const run of stack.client.workflow.list({ query })) ids.push(run.workflowId);
    if (ids.length >= expected) return ids;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return ids;
}

describe('runs are searchable by the AuditSpike* search attributes', () => {
  let stack: Stack;
  withStackAndWorker((started) => (stack = started));

  test('a paging run is found by AuditSpikePaged = true with its severity; a quiet run is not', async () => {
    const quiet = stack.config(yaml, 'sa-quiet');
    await applySchedule(stack.client, quiet);
    await triggerAndWait(stack.client, quiet.schedule.scheduleId);

    const now = Date.now();
    stack.datadog.addEvents(burst({ id: 'u-m', email: 'mallory@example.com' }, ACTIONS.roleGrant, 11, now - 8 * MIN, 5 * MIN));
    const paging = stack.config(yaml, 'sa-paging');
    await applySchedule(stack.client, paging);
    const result = await triggerAndWait(stack.client, paging.schedule.scheduleId);
    expect(result.incidents.map((i) => [i.kind, i.severity])).toEqual([['trigger', 'critical']]);

    const pagedRuns = await listIds(stack, 'AuditSpikePaged = true', 1);
    expect(pagedRuns).toHaveLength(1);
    expect(pagedRuns[0]).toContain(paging.schedule.scheduleId);
    expect(await listIds(stack, `AuditSpikeSeverity = "critical" AND AuditSpikeOrg = "sa-paging"`, 1)).toEqual(pagedRuns);
    const quietRuns = await listIds(stack, 'AuditSpikePaged = false AND AuditSpikeOrg = "sa-quiet"', 1);
    expect(quietRuns).toHaveLength(1);

    const description = await stack.client.workflow.getHandle(pagedRuns[0]).describe();
    expect(description.typedSearchAttributes.get(AUDIT_SPIKE_ORG)).toBe('sa-paging');
    expect(description.typedSearchAttributes.get(AUDIT_SPIKE_PAGED)).toBe(true);
    expect(description.typedSearchAttributes.get(AUDIT_SPIKE_SEVERITY)).toBe('critical');
    expect(description.typedSearchAttributes.get(AUDIT_SPIKE_EVENTS_READ)).toBe(result.counts.read);
  });
});

describe('a namespace without the search attributes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ searchAttributes: false });
    await stack.startWorker();
  }, 120_000);
  afterAll(async () => stack?.stop(), 60_000);

  test('runs still complete and page; the worker says once what to register', async () => {
    const now = Date.now();
    stack.datadog.addEvents(burst({ id: 'u-m', email: 'mallory@example.com' }, ACTIONS.apiKeyCreate, 3, now - 6 * MIN, 2 * MIN));
    const config = stack.config(yaml, 'no-sa');
    await applySchedule(stack.client, config);
    const result = await triggerAndWait(stack.client, config.schedule.scheduleId);
    expect(result.incidents.map((i) => i.kind)).toEqual(['trigger']);
    expect(stack.pagerduty.incidents).toHaveLength(1);

    const warnings: string[] = [];
    const check = createCheckSearchAttributes({ temporalClient: stack.client, warn: (message) => warnings.push(message) });
    const env = new MockActivityEnvironment({ workflowNamespace: 'default' } as never);
    const first = await env.run(check);
    const second = await env.run(check);
    expect(first).toEqual({ available: false, missing: ['AuditSpikeOrg', 'AuditSpikePaged', 'AuditSpikeSeverity', 'AuditSpikeEventsRead'] });
    expect(second).toEqual(first);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('temporal operator search-attribute create --namespace default --name AuditSpikePaged --type Bool');
  });
});
