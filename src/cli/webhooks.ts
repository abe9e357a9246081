import { loadFleet } from '../config/fleet';
import { UsageError, parseFlags, type CliCommand } from './flags';

const HELP = `Usage: audit-spike webhooks [--port 8788] [--host 127.0.0.1] [--config FILE]

Receives PagerDuty v3 webhooks and approves containment plans (see "Contain on approval" in the README). A person runs
the approve action (response.approveAction, default "Contain with audit-spike") on an incident; the signed
incident.workflow.started webhook approves every step of that incident's plan, with that person as the approver.
Requests without a valid X-PagerDuty-Signature, or older than response.webhookTolerance, are refused.

Flags:
  --port N          port to listen on (default: 8788)
  --host HOST       address to bind (default: 127.0.0.1; 0.0.0.0 behind a proxy or in a container)
  --config FILE     YAML or JSON config; orgs with response.enabled are served (default: the built-in defaults)

Environment: the subscription's signing secret in the variable response.webhookSecretEnv names (default
PAGERDUTY_WEBHOOK_SECRET; several secrets comma-separated during a rotation), a PagerDuty REST token to find each
incident's key (pagerduty.tokenEnv in REST mode, response.pagerdutyTokenEnv in Events mode), Temporal from TEMPORAL_*.

Example:
  PAGERDUTY_WEBHOOK_SECRET=... PAGERDUTY_API_TOKEN=... audit-spike webhooks --port 8788 --config audit-spike.yaml`;

/** `audit-spike webhooks`: the PagerDuty webhook receiver that approves containment plans. */
async function runWebhooksCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { values } = parseFlags(args, {
    port: { type: 'string', default: '8788' },
    host: { type: 'string', default: '127.0.0.1' },
    config: { type: 'string' },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number (0-65535), got ${values.port}`);
  const fleet = loadFleet(values.config).filter((config) => config.args.response?.enabled);
  if (fleet.length === 0) throw new UsageError(`no org in ${values.config ?? 'the built-in defaults'} has response.enabled: true; containment is off, so there is nothing to approve`);
  const secretEnvs = [...new Set(fleet.map((config) => config.args.response!.webhookSecretEnv))];
  const secrets = secretEnvs.flatMap((name) => (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const missing = secretEnvs.filter((name) => !env[name]?.trim());
  if (missing.length) throw new UsageError(`the webhook signing secret is read from ${missing.join(', ')}, which is not set (PagerDuty shows it once, when the subscription is created)`);
  const { incidentKeySources, lookupIncident } = await import('../webhooks/incident-key');
  const { startWebhookReceiver } = await import('../webhooks/receiver');
  const { connectClient } = await import('../schedule');
  // A refused or unresolvable address is said at once, in one line (main prints it), not after gRPC's retries.
  await (await import('../temporal-connection')).probeTemporal(env);
  const sources = incidentKeySources(fleet);
  const client = await connectClient(env);
  const receiver = await startWebhookReceiver({
    client,
    secrets,
    toleranceMs: Math.min(...fleet.map((config) => config.args.response!.webhookToleranceMs)),
    approveActions: [...new Set(fleet.map((config) => config.args.response!.approveAction))],
    incident: (incidentId) => lookupIncident(sources, env, incidentId),
    port,
    host: values.host!,
  });
  process.stderr.write(`audit-spike webhooks: listening on ${values.host}:${receiver.port} for PagerDuty v3 webhooks (orgs ${fleet.map((c) => c.args.orgId).join(', ')}; secret from ${secretEnvs.join(', ')}); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await receiver.stop();
  await client.connection.close();
  return 0;
}

export const webhooksCommand: CliCommand = {
  name: 'webhooks',
  summary: 'approve containment plans from PagerDuty (signed v3 webhooks)',
  help: HELP,
  run: (args) => runWebhooksCommand(args),
};
