import { DatadogSimulator } from './datadog-sim';
import { PagerDutySimulator } from './pagerduty-sim';
import { sampleDay } from './sample-day';

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new Error(`${name}=${env[name]} is not a port number (0-65535)`);
  return value;
}

/** Datadog lets an org keep audit events 3 to 90 days (docs.datadoghq.com/account_management/audit_trail/). */
function retentionDays(text: string): number {
  const days = Number(text);
  if (!Number.isInteger(days) || days < 3 || days > 90) throw new Error(`SIM_DD_RETENTION_DAYS=${text} must be a whole number of days from 3 to 90 (Datadog's range; default 7)`);
  return days;
}

/**
 * `node dist/sim/serve.js datadog|pagerduty`: one simulator as a long-running server (the compose stack's
 * datadog-sim and pagerduty-sim services). The Datadog one is seeded with a sample day, or with SIM_SEED_FILE (JSONL);
 * SIM_DD_RETENTION_DAYS sets its Audit Trail retention (default 7).
 */
export async function serve(which: string, env: Env = process.env): Promise<{ stop(): Promise<void> }> {
  const host = env.SIM_HOST ?? '0.0.0.0';
  if (which === 'datadog') {
    const sim = await DatadogSimulator.start({
      host,
      port: port(env, 'SIM_DATADOG_PORT', 8126),
      ...(env.SIM_DD_API_KEY ? { apiKey: env.SIM_DD_API_KEY } : {}),
      ...(env.SIM_DD_APP_KEY ? { appKey: env.SIM_DD_APP_KEY } : {}),
      ...(env.SIM_DD_RETENTION_DAYS ? { retentionMs: retentionDays(env.SIM_DD_RETENTION_DAYS) * 86_400_000 } : {}),
    });
    const added = env.SIM_SEED_FILE ? sim.loadJsonl(env.SIM_SEED_FILE) : sim.addEvents(sampleDay({ end: new Date() }));
    console.error(`datadog-sim: listening on ${host}:${sim.port} with ${added} audit events; health at /_sim/health`);
    return sim;
  }
  if (which === 'pagerduty') {
    const sim = await PagerDutySimulator.start({
      host,
      httpsPort: port(env, 'SIM_PAGERDUTY_HTTPS_PORT', 8443),
      httpPort: port(env, 'SIM_PAGERDUTY_HTTP_PORT', 8127),
      tlsDir: env.SIM_TLS_DIR ?? '.data/tls',
      ...(env.SIM_PD_API_TOKEN ? { apiToken: env.SIM_PD_API_TOKEN } : {}),
      ...(env.SIM_PD_ROUTING_KEY ? { routingKeys: [env.SIM_PD_ROUTING_KEY] } : {}),
    });
    // Contain on approval (#17): a webhook subscription to the receiver, so POST /_sim/person/custom-action reaches it.
    if (env.SIM_PD_WEBHOOK_URL) {
      const subscription = sim.addWebhookSubscription(env.SIM_PD_WEBHOOK_URL, undefined, env.SIM_PD_WEBHOOK_SECRET ? { secret: env.SIM_PD_WEBHOOK_SECRET } : {});
      console.error(`pagerduty-sim: webhook subscription ${subscription.id} to ${env.SIM_PD_WEBHOOK_URL}`);
    }
    console.error(`pagerduty-sim: REST on ${sim.httpUrl}, Events API on https://${sim.eventsServer}; incidents at /_sim/incidents`);
    return sim;
  }
  throw new Error(`usage: node dist/sim/serve.js datadog|pagerduty (got "${which}")`);
}

if (require.main === module) {
  serve(process.argv[2] ?? '')
    .then((sim) => {
      const stop = () => void sim.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    });
}
