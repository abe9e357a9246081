import type { Client } from '@temporalio/client';
import type { DatadogTarget, AuditSpikeArgs } from '../config/args-schema';
import { Detector } from '../detection/detector';
import { createContainmentActivities } from './containment';
import { createDatadogAuditClient, type DatadogAuditClient } from './datadog-client';
import { loadCarriedState } from './carried-state-store';
import { temporalBaselineStore } from './baseline-store';
import { createFindLatestRunResult } from './latest-run-result';
import type { StateRef } from '../workflows/run-result';
import type { ArgsRef } from '../workflows/run-args-ref';
import { loadRunArgs } from './run-args-store';
import { recordIncident, recordScan } from './metrics';
import { createOpenOrUpdateIncident } from './pagerduty';
import { createScanAuditEvents } from './scan-audit-events';
import { createCheckSearchAttributes } from './search-attributes';
import type { Environment } from './secrets';

export interface ActivityDeps {
  /** Where secrets come from: the worker's environment. */
  env: Environment;
  /** Replaces how Datadog clients are built (tests, benchmarks); by default the real client from the environment. */
  datadogClientFactory?: (target: DatadogTarget, env: Environment) => DatadogAuditClient;
  /** Lets a run recover the newest result when its Schedule did not pass one (manual trigger). */
  temporalClient?: Client;
}

/** The activities, with clients built once per worker and reused by every run. */
export function createActivities(deps: ActivityDeps) {
  const datadogClients = new Map<string, DatadogAuditClient>();
  const detectors = new Map<string, Detector>();
  const build = deps.datadogClientFactory ?? createDatadogAuditClient;
  const client = deps.temporalClient;
  const scan = createScanAuditEvents({
      ...(client ? { loadState: (ref: StateRef) => loadCarriedState(client, ref), loadArgs: (ref: ArgsRef) => loadRunArgs(client, ref), baselines: temporalBaselineStore(client) } : {}),
      datadogFor(orgId, target) {
        const key = `${orgId}|${JSON.stringify(target)}`;
        let found = datadogClients.get(key);
        if (!found) {
          found = build(target, deps.env);
          datadogClients.set(key, found);
        }
        return found;
      },
      detectorFor(detection: AuditSpikeArgs['detection'], latenessMs) {
        const key = `${latenessMs}|${JSON.stringify(detection)}`;
        let found = detectors.get(key);
        if (!found) {
          if (detectors.size > 32) detectors.clear();
          found = new Detector(detection, latenessMs);
          detectors.set(key, found);
        }
        return found;
      },
  });
  const incident = createOpenOrUpdateIncident({ env: deps.env });
  // Named functions, so activity types read well in the Temporal UI.
  return {
    async scanAuditEvents(input: Parameters<typeof scan>[0]) {
      const output = await scan(input);
      recordScan(input.orgId, output);
      return output;
    },
    async openOrUpdateIncident(input: Parameters<typeof incident>[0]) {
      const outcome = await incident(input);
      recordIncident(input.action.summary.orgId, outcome);
      return outcome;
    },
    checkSearchAttributes: createCheckSearchAttributes({ ...(deps.temporalClient ? { temporalClient: deps.temporalClient } : {}) }),
    findLatestRunResult: createFindLatestRunResult({ ...(deps.temporalClient ? { temporalClient: deps.temporalClient } : {}) }),
    // Contain on approval (#17): the Datadog steps of a plan and the note on the incident.
    ...createContainmentActivities({ env: deps.env }),
  };
}

export type AuditSpikeActivities = ReturnType<typeof createActivities>;
