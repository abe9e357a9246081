import { parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike worker [--versioning]

Runs a worker until SIGINT or SIGTERM. SIGTERM stops polling and lets in-flight activities finish for the grace time;
one still running then is cancelled and resumes elsewhere from its last checkpoint. Everything comes from the environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE   where Temporal is (default: localhost:7233, default)
  AUDIT_SPIKE_TASK_QUEUE                                                                    task queue (default: audit-spike)
  DD_API_KEY, DD_APP_KEY, PAGERDUTY_ROUTING_KEY, PAGERDUTY_API_TOKEN                        secrets, by the names the config gives
  AUDIT_SPIKE_ENCRYPTION_KEY                                                                payload encryption (optional)
  AUDIT_SPIKE_METRICS_ADDRESS                                                               Prometheus metrics, host:port (optional)
  AUDIT_SPIKE_HEALTH_ADDRESS                                                                GET /livez and /readyz, host:port (optional)
  AUDIT_SPIKE_SHUTDOWN_GRACE_TIME                                                           drain time on SIGTERM (default: 25s)
  AUDIT_SPIKE_SHUTDOWN_FORCE_TIME                                                           give up draining after this (default: never)
  AUDIT_SPIKE_WORKER_VERSIONING=true                                                        Worker Versioning, as --versioning
  AUDIT_SPIKE_DEPLOYMENT_NAME, AUDIT_SPIKE_BUILD_ID                                         the version (default: audit-spike, the package version;
                                                                                            TEMPORAL_DEPLOYMENT_NAME / TEMPORAL_WORKER_BUILD_ID,
                                                                                            as the Temporal Worker Controller sets them, also work)

Flags:
  --versioning   poll as one version of a Worker Deployment (off by default; see "Upgrading" in the README)

Example:
  TEMPORAL_ADDRESS=temporal.internal:7233 DD_API_KEY=... DD_APP_KEY=... PAGERDUTY_ROUTING_KEY=... audit-spike worker
  AUDIT_SPIKE_BUILD_ID=2026-12-06.1 AUDIT_SPIKE_HEALTH_ADDRESS=0.0.0.0:8080 audit-spike worker --versioning`;

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'run a worker (Temporal settings from TEMPORAL_* / profiles)',
  help: HELP,
  async run(args) {
    const { values } = parseFlags(args, { versioning: { type: 'boolean' } });
    const { runWorker } = await import('../worker');
    await runWorker(process.env, values.versioning ? { versioning: true } : {});
    return 0;
  },
};
