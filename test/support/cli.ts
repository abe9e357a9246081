import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

/** What a run of `audit-spike` gave: its exit code and everything it wrote to stdout and stderr. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `audit-spike ARGS` in this process (src/cli/main, from source), capturing what it writes to stdout and stderr
 * while it runs. Whatever else this process runs meanwhile (a worker on the same event loop) writes into the capture too.
 */
export async function runCliInProcess(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const bin = join(__dirname, '..', '..', 'bin', 'audit-spike.js');

/** Runs the built command, `node bin/audit-spike.js ARGS`, as a child with this process's environment plus ENV. */
export function runBuiltCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile('node', [bin, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
