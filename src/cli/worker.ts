import { parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike worker

Runs a worker until SIGINT or SIGTERM. Everything comes from the environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE   where Temporal is (default: localhost:7233, default)
  AUDIT_SPIKE_TASK_QUEUE                                                                    task queue (default: audit-spike)
  DD_API_KEY, DD_APP_KEY, PAGERDUTY_ROUTING_KEY, PAGERDUTY_API_TOKEN                        secrets, by the names the config gives
  AUDIT_SPIKE_ENCRYPTION_KEY                                                                payload encryption (optional)
  AUDIT_SPIKE_METRICS_ADDRESS                                                               Prometheus metrics (optional)

It takes no flags.

Example:
  TEMPORAL_ADDRESS=temporal.internal:7233 DD_API_KEY=... DD_APP_KEY=... PAGERDUTY_ROUTING_KEY=... audit-spike worker`;

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'run a worker (Temporal settings from TEMPORAL_* / profiles)',
  help: HELP,
  async run(args) {
    parseFlags(args, {});
    const { runWorker } = await import('../worker');
    await runWorker();
    return 0;
  },
};
