import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { RecordedExchange } from '../fixtures/datadog-audit-cassettes';

export interface ReplayedRequest {
  method: string;
  path: string;
  searchParams: Record<string, string>;
  headers: IncomingMessage['headers'];
  body?: unknown;
}

/**
 * A tiny HTTP server that answers recorded Datadog exchanges in order, so a real client and the product's page loop
 * read exactly what Datadog sent. It checks each request asks for the recorded operation and carries the cursor the
 * previous recorded answer gave (the product's filter may differ from the recording's). A request past the recording
 * is answered 500 and counted: a paginator that does not end where Datadog's data ends shows up as `overrun`.
 */
export class DatadogReplay {
  readonly requests: ReplayedRequest[] = [];
  readonly problems: string[] = [];
  overrun = 0;
  private server!: Server;
  url = '';

  private constructor(private readonly exchanges: RecordedExchange[]) {}

  static async start(exchanges: RecordedExchange[]): Promise<DatadogReplay> {
    const replay = new DatadogReplay(exchanges);
    replay.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://replay');
        const request: ReplayedRequest = { method: req.method ?? '', path: url.pathname, searchParams: Object.fromEntries(url.searchParams), headers: req.headers, ...(text ? { body: JSON.parse(text) } : {}) };
        const index = replay.requests.push(request) - 1;
        const exchange = replay.exchanges[index];
        if (!exchange) {
          replay.overrun++;
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"errors":["past the end of the recording"]}');
          return;
        }
        replay.check(index, request, exchange);
        res.writeHead(exchange.response.status, { 'content-type': exchange.response.contentType });
        res.end(exchange.response.text);
      });
    });
    await new Promise<void>((resolve) => replay.server.listen(0, '127.0.0.1', () => resolve()));
    const address = replay.server.address();
    replay.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return replay;
  }

  private check(index: number, request: ReplayedRequest, exchange: RecordedExchange): void {
    const recorded = new URL(exchange.request.url);
    if (request.method !== exchange.request.method || request.path !== recorded.pathname) {
      this.problems.push(`request ${index + 1}: ${request.method} ${request.path}, recorded ${exchange.request.method} ${recorded.pathname}`);
    }
    const recordedCursor = exchange.request.body ? (JSON.parse(exchange.request.body) as { page?: { cursor?: string } }).page?.cursor : recorded.searchParams.get('page[cursor]') ?? undefined;
    const sentCursor = request.method === 'POST' ? (request.body as { page?: { cursor?: string } } | undefined)?.page?.cursor : request.searchParams['page[cursor]'];
    if (sentCursor !== recordedCursor) this.problems.push(`request ${index + 1}: cursor ${sentCursor ?? 'none'}, recorded ${recordedCursor ?? 'none'}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
