import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { startStack, type Stack } from './stack';

const root = join(__dirname, '..', '..');

/**
 * The product's own worker (`audit-spike worker`, built into dist/) in a child process, so a test can kill it hard
 * mid-activity, as a crashed host would, and start another.
 */
export class WorkerProcess {
  private child?: ChildProcess;
  private readonly log: WriteStream;
  starts = 0;

  /** `cgroup`: a cgroup v1 directory the worker process joins before it starts (a container's memory limit). */
  constructor(private readonly env: Record<string, string>, logFile: string, private readonly options: { cgroup?: string } = {}) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.starts++;
    const worker = [join(root, 'bin', 'audit-spike.js'), 'worker'];
    const [command, args] = this.options.cgroup
      ? ['sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.options.cgroup, process.execPath, ...worker]]
      : [process.execPath, worker];
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    // Ready once it says it is polling (after bundling the workflows).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not start polling within 60 s; see the worker log')), 60_000);
      const onData = (chunk: Buffer) => {
        if (String(chunk).includes('polling task queue')) {
          clearTimeout(timer);
          child.stderr?.off('data', onData);
          resolve();
        }
      };
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited with ${code} before polling; see the worker log`));
      });
    });
  }

  /** SIGKILL: no graceful shutdown, no last heartbeat, exactly like a lost host. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
  }

  close(): void {
    this.log.end();
  }
}

/** A stack with the product's worker beside it in a child process (one a test can kill), as the fault tests run them. */
export async function startStackWithWorkerProcess(): Promise<{ stack: Stack; worker: WorkerProcess }> {
  const stack = await startStack();
  const worker = new WorkerProcess(
    { ...stack.workerEnv, TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default', AUDIT_SPIKE_TASK_QUEUE: 'audit-spike' },
    join(stack.dir, 'worker.log'),
  );
  await worker.start();
  return { stack, worker };
}
