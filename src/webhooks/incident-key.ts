import { api } from '@pagerduty/pdjs';
import type { Agent } from 'node:https';
import type { ResolvedConfig } from '../config/resolve';
import { agentTrusting } from '../activities/tls-agent';

/** Where to ask PagerDuty which incident key (= audit-spike's dedup key) an incident has: REST API URL and token. */
export interface IncidentKeySource {
  apiUrl: string;
  /** The environment variable of a REST API token (read access to incidents is enough). */
  tokenEnv: string;
  caFile?: string;
}

/** The sources a config offers: the REST target of an org in REST mode, else the response section's token and URL. */
export function incidentKeySources(configs: ResolvedConfig[]): IncidentKeySource[] {
  const sources: IncidentKeySource[] = [];
  for (const { args } of configs) {
    if (!args.response?.enabled) continue;
    const source: IncidentKeySource = args.pagerduty.mode === 'rest'
      ? { apiUrl: args.pagerduty.apiUrl, tokenEnv: args.pagerduty.tokenEnv, ...(args.pagerduty.caFile ? { caFile: args.pagerduty.caFile } : {}) }
      : { apiUrl: args.response.pagerdutyApiUrl, tokenEnv: args.response.pagerdutyTokenEnv, ...(args.pagerduty.caFile ? { caFile: args.pagerduty.caFile } : {}) };
    if (!sources.some((s) => s.apiUrl === source.apiUrl && s.tokenEnv === source.tokenEnv)) sources.push(source);
  }
  return sources;
}

/** What an approval needs to know of a PagerDuty incident: the dedup key audit-spike paged with, and its status now. */
export interface IncidentFacts {
  key: string;
  /** `triggered`, `acknowledged` or `resolved` (PagerDuty may add more). */
  status: string;
}

/**
 * A PagerDuty incident's key and status (`GET /incidents/{id}`, through pdjs). The status is how an approval learns
 * that a person resolved the incident in Events mode, where the scheduled runs cannot ask. Undefined when no source
 * knows the incident; throws when PagerDuty cannot be asked.
 */
export async function lookupIncident(sources: IncidentKeySource[], env: Record<string, string | undefined>, incidentId: string, timeoutMs = 4_000): Promise<IncidentFacts | undefined> {
  const problems: string[] = [];
  for (const source of sources) {
    const token = env[source.tokenEnv];
    if (!token) {
      problems.push(`${source.tokenEnv} is not set`);
      continue;
    }
    const agent = source.apiUrl.startsWith('https:') ? agentTrusting(source.caFile) : undefined;
    const response = await (api as unknown as (params: Record<string, unknown>) => Promise<{ status: number; data: any }>)({
      token,
      url: `${source.apiUrl.replace(/\/+$/, '')}/incidents/${encodeURIComponent(incidentId)}`,
      method: 'GET',
      retryTimeout: 500,
      requestTimeout: 0,
      signal: AbortSignal.timeout(timeoutMs),
      ...(agent ? { agent: agent as Agent } : {}),
    });
    if (response.status === 404) continue;
    if (response.status !== 200) {
      problems.push(`PagerDuty at ${source.apiUrl} answered ${response.status}`);
      continue;
    }
    const key = response.data?.incident?.incident_key;
    const status = response.data?.incident?.status;
    if (typeof key === 'string' && key !== '') return { key, status: typeof status === 'string' ? status : 'unknown' };
  }
  if (problems.length && problems.length === sources.length) throw new Error(`cannot look up incident ${incidentId}: ${problems.join('; ')}`);
  return undefined;
}
