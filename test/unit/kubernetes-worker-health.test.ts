import { ConfigError } from '../../src/config/errors';
import { liveness, readiness, startHealthServer, type HealthWorker } from '../../src/health/server';
import { DEFAULT_MAX_CONCURRENT_ACTIVITIES, DEFAULT_SHUTDOWN_GRACE_MS, packageVersion, workerRuntimeSettings } from '../../src/worker-settings';

/** #25: what the Kubernetes probes and the drain rely on, without a server: the worker's settings and its health answers. */

function fakeWorker(state: string, pollers: { workflow?: string; activity?: string } = {}): HealthWorker {
  return {
    getState: () => state,
    getStatus: () => ({ workflowPollerState: pollers.workflow ?? 'POLLING', activityPollerState: pollers.activity ?? 'POLLING', numInFlightActivities: 1, numInFlightWorkflowActivations: 0 }),
  };
}

describe('worker runtime settings', () => {
  test('defaults: no health endpoint, a 25 s drain, unversioned', () => {
    expect(workerRuntimeSettings({})).toEqual({ shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS, maxConcurrentActivities: DEFAULT_MAX_CONCURRENT_ACTIVITIES });
    expect(DEFAULT_SHUTDOWN_GRACE_MS).toBeLessThan(30_000); // inside Kubernetes' default terminationGracePeriodSeconds
  });

  test('durations, the health address and versioning from the environment', () => {
    expect(workerRuntimeSettings({
      AUDIT_SPIKE_HEALTH_ADDRESS: '0.0.0.0:8080', AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: '1m', AUDIT_SPIKE_SHUTDOWN_FORCE_TIME: '75s',
      AUDIT_SPIKE_WORKER_VERSIONING: 'true', AUDIT_SPIKE_BUILD_ID: 'abc123', AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES: '4',
    })).toEqual({ healthAddress: '0.0.0.0:8080', shutdownGraceMs: 60_000, shutdownForceMs: 75_000, maxConcurrentActivities: 4, versioning: { deploymentName: 'audit-spike', buildId: 'abc123' } });
    // The build id defaults to the package version; --versioning turns it on like the variable.
    expect(workerRuntimeSettings({}, { versioning: true }).versioning).toEqual({ deploymentName: 'audit-spike', buildId: packageVersion() });
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    // The Temporal Worker Controller's variables: versioned, with its names.
    expect(workerRuntimeSettings({ TEMPORAL_DEPLOYMENT_NAME: 'audit-spike/security', TEMPORAL_WORKER_BUILD_ID: '5f7c9d' }).versioning)
      .toEqual({ deploymentName: 'audit-spike/security', buildId: '5f7c9d' });
    expect(workerRuntimeSettings({ TEMPORAL_DEPLOYMENT_NAME: 'x', TEMPORAL_WORKER_BUILD_ID: 'y', AUDIT_SPIKE_WORKER_VERSIONING: 'false' }).versioning).toBeUndefined();
  });

  test('bad values are refused with what is allowed', () => {
    expect(() => workerRuntimeSettings({ AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: '60' })).toThrow(/AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: must be a duration/);
    expect(() => workerRuntimeSettings({ AUDIT_SPIKE_HEALTH_ADDRESS: '8080' })).toThrow(ConfigError);
    expect(() => workerRuntimeSettings({ AUDIT_SPIKE_SHUTDOWN_GRACE_TIME: '60s', AUDIT_SPIKE_SHUTDOWN_FORCE_TIME: '30s' })).toThrow(/must be longer than/);
    expect(() => workerRuntimeSettings({ AUDIT_SPIKE_WORKER_VERSIONING: 'maybe' })).toThrow(/AUDIT_SPIKE_WORKER_VERSIONING/);
    expect(() => workerRuntimeSettings({ AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES: '0' })).toThrow(/AUDIT_SPIKE_MAX_CONCURRENT_ACTIVITIES: must be a whole number from 1/);
    expect(() => workerRuntimeSettings({ AUDIT_SPIKE_WORKER_VERSIONING: 'true', AUDIT_SPIKE_BUILD_ID: 'has space' })).toThrow(/AUDIT_SPIKE_BUILD_ID/);
  });
});

describe('health answers', () => {
  test('liveness: alive while starting, running or draining; dead once failed or stopped, or a poller failed', () => {
    expect(liveness(undefined).status).toBe('ok');
    for (const state of ['RUNNING', 'DRAINING', 'DRAINED', 'STOPPING']) expect([state, liveness(fakeWorker(state)).status]).toEqual([state, 'ok']);
    for (const state of ['FAILED', 'STOPPED']) expect([state, liveness(fakeWorker(state)).status]).toEqual([state, 'unavailable']);
    expect(liveness(fakeWorker('RUNNING', { activity: 'FAILED' })).reasons).toEqual(['activity poller failed']);
  });

  test('readiness: only a running worker that reaches Temporal', () => {
    expect(readiness(fakeWorker('RUNNING'), true).status).toBe('ok');
    expect(readiness(undefined, true).reasons).toEqual(['worker not created yet (clients not built)']);
    expect(readiness(fakeWorker('DRAINING'), true).reasons).toEqual(['worker is DRAINING']);
    expect(readiness(fakeWorker('RUNNING'), false).reasons).toEqual(['Temporal is not reachable']);
  });

  test('the HTTP endpoint: 200/503 with JSON, a cached Temporal check, 404 elsewhere', async () => {
    let worker: HealthWorker | undefined;
    let reachable = true;
    let checks = 0;
    const server = await startHealthServer({ address: '127.0.0.1:0', worker: () => worker, temporalReachable: async () => { checks++; return reachable; }, cacheMs: 60_000 });
    try {
      const get = async (path: string) => {
        const response = await fetch(`${server.url}${path}`);
        return { status: response.status, body: await response.text() };
      };
      expect((await get('/livez')).status).toBe(200);
      expect((await get('/readyz')).status).toBe(503);
      worker = fakeWorker('RUNNING');
      const ready = await get('/readyz');
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'ok', state: 'RUNNING', inFlightActivities: 1 });
      reachable = false; // cached: one check per cacheMs, not one per probe
      expect((await get('/readyz')).status).toBe(200);
      expect(checks).toBe(1);
      worker = fakeWorker('FAILED');
      expect((await get('/livez')).status).toBe(503);
      expect((await get('/metrics')).status).toBe(404);
      expect((await fetch(`${server.url}/livez`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.stop();
    }
  });
});
