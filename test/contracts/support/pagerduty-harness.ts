import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PagerDutyTarget } from '../../../src/config/args-schema';
import { createOpenOrUpdateIncident, type IncidentInput, type IncidentOutcome } from '../../../src/activities/pagerduty';
import type { IncidentAction } from '../../../src/detection/scan';
import type { IncidentSummary } from '../../../src/detection/summary';
import type { Severity } from '../../../src/detection/types';
import { PagerDutySimulator } from '../../../sim/pagerduty-sim';

/** The strict PagerDuty simulator and the product's real incident activity (pdjs inside), wired as a worker would be. */
export interface PagerDutyHarness {
  sim: PagerDutySimulator;
  events: Extract<PagerDutyTarget, { mode: 'events' }>;
  rest: Extract<PagerDutyTarget, { mode: 'rest' }>;
  send(target: PagerDutyTarget, kind: IncidentAction['kind'], summary: IncidentSummary, notifiedSeverity?: Severity): Promise<IncidentOutcome>;
}

/** Starts a harness for the enclosing describe block; `ready` receives it. */
export function withPagerDutyHarness(ready: (harness: PagerDutyHarness) => void): void {
  let dir: string;
  let sim: PagerDutySimulator | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pd-contract-'));
    sim = await PagerDutySimulator.start({ tlsDir: dir });
    const env = { PAGERDUTY_ROUTING_KEY: sim.routingKeys[0], PAGERDUTY_API_TOKEN: sim.apiToken };
    const activity = createOpenOrUpdateIncident({ env });
    const started = sim;
    ready({
      sim: started,
      events: { mode: 'events', routingKeyEnv: 'PAGERDUTY_ROUTING_KEY', eventsServer: started.eventsServer, caFile: started.caFile, source: 'audit-spike', requestTimeoutMs: 5_000 },
      rest: {
        mode: 'rest', tokenEnv: 'PAGERDUTY_API_TOKEN', apiUrl: started.httpUrl, serviceId: 'PSEC001', escalationPolicyId: 'PSECEP1',
        fromEmail: 'audit-spike@example.com', requestTimeoutMs: 5_000,
      },
      send: (pagerduty, kind, summary, notifiedSeverity) =>
        activity({ pagerduty, action: { kind, summary }, ...(notifiedSeverity ? { notifiedSeverity } : {}) } as IncidentInput),
    });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
}

let burstCount = 0;

/** A burst's summary as the detection core hands it to the activity; `overrides` change any field. */
export function burstSummary(overrides: Partial<IncidentSummary> = {}): IncidentSummary {
  burstCount++;
  return {
    orgId: 'contract',
    actor: 'mallory@example.com',
    actorName: 'Mallory',
    severity: 'error',
    rules: ['role_grant'],
    counts: { role_grant: 4 },
    events: 4,
    firstSeen: '2026-12-01T10:00:00.000Z',
    lastSeen: '2026-12-01T10:04:00.000Z',
    dedupKey: `audit-spike-contract-${burstCount}-${Date.now()}`,
    title: '[error] mallory@example.com (Mallory): 4 sensitive Datadog changes in 4m (role_grant=4)',
    body: 'Actor: mallory@example.com\nActions:\n  role_grant: 4',
    link: 'https://app.datadoghq.com/audit-trail?query=%40usr.email%3A%22mallory%40example.com%22',
    late: false,
    evidence: { ips: [], userAgents: [], authMethods: [], actorTypes: [], assets: {}, samples: [] },
    links: [],
    runbooks: [],
    ...overrides,
  } as unknown as IncidentSummary;
}
