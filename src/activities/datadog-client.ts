import { client, v2 } from '@datadog/datadog-api-client';
// The v2 Audit API's own request factory and response processor (its module exports them; the package index does not).
import { AuditApiRequestFactory, AuditApiResponseProcessor } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/AuditApi';
import { MalformedAuditPage, readAuditPage, type AuditPage } from './audit-page';
import type { DatadogTarget } from '../config/args-schema';
import { readSecret, type Environment } from './secrets';

export interface RateLimitState {
  limit?: number;
  remaining?: number;
  /** Seconds until the window resets. */
  reset?: number;
  name?: string;
}

/** The client's own fetch library, plus a per-request timeout and a note of the rate-limit headers Datadog sent. */
class AuditHttpLibrary extends client.IsomorphicFetchHttpLibrary {
  rateLimit: RateLimitState = {};
  requests = 0;

  constructor(private readonly timeoutMs: number) {
    super();
  }

  override async send(request: client.RequestContext): Promise<client.ResponseContext> {
    request.setHttpConfig({ ...request.getHttpConfig(), signal: AbortSignal.timeout(this.timeoutMs) });
    this.requests++;
    const response = await super.send(request);
    const number = (name: string) => {
      const value = response.headers[name];
      return value === undefined || value === '' || Number.isNaN(Number(value)) ? undefined : Number(value);
    };
    if (response.headers['x-ratelimit-limit'] !== undefined) {
      this.rateLimit = {
        limit: number('x-ratelimit-limit'),
        remaining: number('x-ratelimit-remaining'),
        reset: number('x-ratelimit-reset'),
        name: response.headers['x-ratelimit-name'],
      };
    }
    return response;
  }
}

export interface DatadogAuditClient {
  api: v2.AuditApi;
  /**
   * `api.searchAuditLogs` as the scan reads it: the same request (the client's request factory, authentication and
   * HTTP library), the same errors (any answer but 200 goes to the client's own response processor, which throws its
   * `ApiException`), but a 200's body is kept as bytes and its events parsed one at a time (see audit-page.ts).
   */
  searchPage(body: v2.AuditLogsSearchEventsRequest): Promise<AuditPage>;
  http: { rateLimit: RateLimitState; requests: number };
}

export { MalformedAuditPage };

function isJson(contentType: string | undefined): boolean {
  return contentType === undefined || /^application\/(.+\+)?json\b/i.test(contentType.trim());
}

/** Builds the v2 Audit API client for one org: site or base URL from the target, keys from the worker's environment. Retries are ours. */
export function createDatadogAuditClient(target: DatadogTarget, env: Environment): DatadogAuditClient {
  const apiKey = readSecret(env, target.apiKeyEnv, 'The Datadog API key');
  const appKey = readSecret(env, target.appKeyEnv, 'The Datadog application key');
  const http = new AuditHttpLibrary(target.requestTimeoutMs);
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: apiKey, appKeyAuth: appKey },
    httpApi: http,
    enableRetry: false,
    ...(target.baseUrl ? { baseServer: new client.BaseServerConfiguration(target.baseUrl.replace(/\/+$/, ''), {}) } : {}),
  });
  if (!target.baseUrl && target.site) configuration.setServerVariables({ site: target.site });
  const requests = new AuditApiRequestFactory(configuration);
  const responses = new AuditApiResponseProcessor();
  return {
    api: new v2.AuditApi(configuration, requests, responses),
    http,
    async searchPage(body) {
      const response = await http.send(await requests.searchAuditLogs(body));
      if (response.httpStatusCode !== 200 || !isJson(response.headers['content-type'])) {
        // Throws the client's ApiException for an error status; a 2xx it reads as it always does.
        const page = await responses.searchAuditLogs(response);
        return readAuditPage(Buffer.from(JSON.stringify(page)));
      }
      return readAuditPage(await response.body.binary());
    },
  };
}
