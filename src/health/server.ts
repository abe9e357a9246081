import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the health endpoint reads from the worker (a @temporalio/worker Worker fits). */
export interface HealthWorker {
  getState(): string;
  getStatus(): { workflowPollerState: string; activityPollerState: string; numInFlightActivities: number; numInFlightWorkflowActivations: number };
}

export interface HealthServerOptions {
  /** host:port to bind, e.g. 0.0.0.0:8080. Port 0 picks a free one (tests). */
  address: string;
  /** Set once the worker exists (its clients built); until then the process is live and not ready. */
  worker(): HealthWorker | undefined;
  /** Asks Temporal's frontend whether it answers (a cheap RPC with a short deadline). */
  temporalReachable(): Promise<boolean>;
  /** How long one Temporal answer is trusted before asking again. */
  cacheMs?: number;
}

export interface HealthServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  state: string;
  reasons: string[];
  workflowPoller?: string;
  activityPoller?: string;
  inFlightActivities?: number;
}

/** States in which the worker still owns tasks: a draining worker is alive (it is finishing work) but not ready. */
const LIVE_STATES = new Set(['INITIALIZED', 'RUNNING', 'DRAINING', 'DRAINED', 'STOPPING']);

/** Liveness: the process answers and its worker is polling, or finishing what it polled; a FAILED or STOPPED worker is dead. */
export function liveness(worker: HealthWorker | undefined): HealthReport {
  if (!worker) return { status: 'ok', state: 'STARTING', reasons: [] };
  const state = worker.getState();
  const status = worker.getStatus();
  const reasons: string[] = [];
  if (!LIVE_STATES.has(state)) reasons.push(`worker is ${state}`);
  if (state === 'RUNNING') {
    for (const [name, poller] of [['workflow', status.workflowPollerState], ['activity', status.activityPollerState]] as const) {
      if (poller === 'FAILED') reasons.push(`${name} poller failed`);
    }
  }
  return {
    status: reasons.length ? 'unavailable' : 'ok', state, reasons,
    workflowPoller: status.workflowPollerState, activityPoller: status.activityPollerState, inFlightActivities: status.numInFlightActivities,
  };
}

/** Readiness: the worker's clients are built, it is RUNNING (not draining after SIGTERM) and Temporal answers. */
export function readiness(worker: HealthWorker | undefined, temporalOk: boolean): HealthReport {
  const live = liveness(worker);
  const reasons = [...live.reasons];
  if (!worker) reasons.push('worker not created yet (clients not built)');
  else if (live.state !== 'RUNNING') reasons.push(`worker is ${live.state}`);
  if (!temporalOk) reasons.push('Temporal is not reachable');
  return { ...live, status: reasons.length ? 'unavailable' : 'ok', reasons: [...new Set(reasons)] };
}

export function parseHostPort(address: string): { host: string; port: number } {
  const match = /^(.*):(\d{1,5})$/.exec(address);
  if (!match || !match[1]) throw new Error(`health address must be host:port, e.g. 0.0.0.0:8080, got ${address}`);
  return { host: match[1], port: Number(match[2]) };
}

/**
 * The worker's health endpoint: GET /livez (liveness) and GET /readyz (readiness), JSON bodies, 200 or 503.
 * Kubernetes probes these (deploy/kubernetes/base/worker.yaml); metrics are on their own port (AUDIT_SPIKE_METRICS_ADDRESS).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const cacheMs = options.cacheMs ?? 5_000;
  let checked: { at: number; ok: boolean } | undefined;
  let pending: Promise<boolean> | undefined;
  const temporalOk = async (): Promise<boolean> => {
    if (checked && Date.now() - checked.at < cacheMs) return checked.ok;
    pending ??= options.temporalReachable().catch(() => false).then((ok) => {
      checked = { at: Date.now(), ok };
      pending = undefined;
      return ok;
    });
    return pending;
  };
  const server: Server = createServer((req, res) => {
    const send = (report: HealthReport) => {
      res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(report)}\n`);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/livez' || path === '/healthz') return send(liveness(options.worker()));
    if (path === '/readyz') {
      void temporalOk().then((ok) => send(readiness(options.worker(), ok)), () => send(readiness(options.worker(), false)));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /livez or /readyz\n');
  });
  const { host, port } = parseHostPort(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${bound}`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
