import { client, v2 } from '@datadog/datadog-api-client';
import type { DatadogTarget } from '../../config/args-schema';
import { needsAttention, passing } from '../failures';
import { readSecret, type Environment } from '../secrets';

/** The client's fetch library with a per-request timeout, as the audit client has. */
class TimedHttpLibrary extends client.IsomorphicFetchHttpLibrary {
  constructor(private readonly timeoutMs: number) {
    super();
  }

  override async send(request: client.RequestContext): Promise<client.ResponseContext> {
    request.setHttpConfig({ ...request.getHttpConfig(), signal: AbortSignal.timeout(this.timeoutMs) });
    return super.send(request);
  }
}

/** The Users and Key Management APIs for one org, keys from the worker's environment. The secrets stay in here. */
export interface DatadogAdminClient {
  users: v2.UsersApi;
  keys: v2.KeyManagementApi;
  /** The worker's own API key (to refuse revoking it: audit-spike would lock itself out). */
  ownApiKey: string;
}

export function createDatadogAdminClient(target: DatadogTarget, env: Environment): DatadogAdminClient {
  const apiKey = readSecret(env, target.apiKeyEnv, 'The Datadog API key');
  const appKey = readSecret(env, target.appKeyEnv, 'The Datadog application key');
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: apiKey, appKeyAuth: appKey },
    httpApi: new TimedHttpLibrary(target.requestTimeoutMs),
    enableRetry: false,
    ...(target.baseUrl ? { baseServer: new client.BaseServerConfiguration(target.baseUrl.replace(/\/+$/, ''), {}) } : {}),
  });
  if (!target.baseUrl && target.site) configuration.setServerVariables({ site: target.site });
  return { users: new v2.UsersApi(configuration), keys: new v2.KeyManagementApi(configuration), ownApiKey: apiKey };
}

export function statusOf(error: unknown): number | undefined {
  return error instanceof client.ApiException ? error.code : undefined;
}

/** A Datadog refusal as the failure Temporal should see: retried (429, 5xx, network) or not (403: a missing permission). */
export function datadogFailure(error: unknown, what: string, permission: string): Error {
  const status = statusOf(error);
  const body = error instanceof client.ApiException ? JSON.stringify(error.body ?? '').slice(0, 300) : (error as Error).message;
  if (status === undefined) return passing('DatadogUnreachable', `Datadog unreachable while trying to ${what}: ${body}`);
  if (status === 429 || status >= 500 || status === 408) return passing('DatadogUnavailable', `Datadog answered ${status} to ${what}; retrying: ${body}`);
  if (status === 401 || status === 403) {
    return needsAttention('DatadogPermissionDenied', `Datadog answered ${status} to ${what}: the application key's user needs the ${permission} permission (see the README, "Contain on approval"). ${body}`);
  }
  return needsAttention('DatadogRejected', `Datadog rejected ${what} with ${status}: ${body}`);
}
