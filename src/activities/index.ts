import type { Client } from '@temporalio/client';
import type { DatadogTarget, AuditSpikeArgs } from '../config/args-schema';
import { Detector } from '../detection/detector';
import { createDatadogAuditClient, type DatadogAuditClient } from './datadog-client';
import { createFindLatestRunResult } from './latest-run-result';
import { createOpenOrUpdateIncident } from './pagerduty';
import { createScanAuditEvents } from './scan-audit-events';
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
  return {
    scanAuditEvents: createScanAuditEvents({
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
    }),
    openOrUpdateIncident: createOpenOrUpdateIncident({ env: deps.env }),
    findLatestRunResult: createFindLatestRunResult({ ...(deps.temporalClient ? { temporalClient: deps.temporalClient } : {}) }),
  };
}

export type AuditSpikeActivities = ReturnType<typeof createActivities>;
