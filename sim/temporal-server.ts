import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { basename, join } from 'node:path';
import { searchAttributeCliTypes } from '../src/workflows/search-attributes';

/** The Temporal CLI, found or installed by scripts/setup-temporal.sh (PATH, TEMPORAL_CLI_PATH, then .tools/). */
export function temporalCliPath(): string {
  const root = projectRoot();
  return execFileSync('bash', [join(root, 'scripts', 'setup-temporal.sh'), '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** The repository root, whether this runs from sim/ (ts) or dist/sim/ (built). */
export function projectRoot(): string {
  const up = join(__dirname, '..');
  return basename(up) === 'dist' ? join(up, '..') : up;
}

function portOpen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface DevServerOptions {
  port?: number;
  uiPort?: number;
  /** SQLite file: history, schedules and cursors survive a restart of the server. */
  dbFile: string;
  host?: string;
  headless?: boolean;
  logFile?: string;
  /** Register the AuditSpike* search attributes (default true; false plays a namespace that lacks them). */
  searchAttributes?: boolean;
  /** Serve the server's Prometheus metrics (among them `action`, Temporal's estimate of billable actions) on this port. */
  metricsPort?: number;
}

/** A real `temporal server start-dev` process on loopback. */
export class TemporalDevServer {
  private constructor(private child: ChildProcess, readonly address: string, readonly uiUrl: string | undefined, private readonly options: Required<Omit<DevServerOptions, 'logFile' | 'headless' | 'searchAttributes' | 'metricsPort'>> & DevServerOptions) {}

  static async start(options: DevServerOptions): Promise<TemporalDevServer> {
    const full = { port: 7233, uiPort: 8233, host: '127.0.0.1', ...options };
    const child = await TemporalDevServer.spawnServer(full);
    return new TemporalDevServer(child, `${full.host}:${full.port}`, full.headless ? undefined : `http://${full.host}:${full.uiPort}`, full);
  }

  private static async spawnServer(options: Required<Omit<DevServerOptions, 'logFile' | 'headless' | 'searchAttributes' | 'metricsPort'>> & DevServerOptions): Promise<ChildProcess> {
    if (await portOpen(options.port, options.host)) {
      throw new Error(`port ${options.port} on ${options.host} is already in use: another Temporal server? Set TEMPORAL_ADDRESS to use it, or stop it.`);
    }
    const args = ['server', 'start-dev', '--ip', options.host, '--port', String(options.port), '--db-filename', options.dbFile, '--log-level', 'warn'];
    if (options.searchAttributes !== false) {
      for (const { name, type } of searchAttributeCliTypes()) args.push('--search-attribute', `${name}=${type}`);
    }
    if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
    if (options.headless) args.push('--headless');
    else args.push('--ui-port', String(options.uiPort));
    const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
    child.stderr?.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with ${child.exitCode}:\n${output}`);
      if (await portOpen(options.port, options.host)) return child;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    child.kill('SIGKILL');
    throw new Error(`temporal server start-dev did not open ${options.host}:${options.port} within 60s:\n${output}`);
  }

  /** Stops and starts the server on the same SQLite file (a server restart). */
  async restart(): Promise<void> {
    await this.stop();
    this.child = await TemporalDevServer.spawnServer(this.options);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
