import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';

export interface Machine {
  cpuModel: string;
  nproc: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  temporalCli?: string;
  /** The commit measured, and whether src/ had uncommitted changes (the bench measures the working tree). */
  commit?: string;
  srcDirty?: boolean;
}

export function machineFacts(temporalCliPath?: string): Machine {
  let cpuModel = 'unknown';
  try {
    cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    // not Linux
  }
  let nproc = availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // keep the os figure
  }
  let temporalCli: string | undefined;
  if (temporalCliPath) {
    try {
      temporalCli = execFileSync(temporalCliPath, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
    } catch {
      temporalCli = undefined;
    }
  }
  let commit: string | undefined;
  let srcDirty: boolean | undefined;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    srcDirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    // not a git checkout
  }
  return { ...(commit ? { commit, srcDirty } : {}), cpuModel, nproc, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, kernel: release(), ...(temporalCli ? { temporalCli } : {}) };
}

/** VmRSS and VmHWM of a process, in MiB, from /proc/PID/status. */
export function procMemory(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Resets the peak RSS (VmHWM) of a process to its current RSS (Linux: `echo 5 > /proc/PID/clear_refs`). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
