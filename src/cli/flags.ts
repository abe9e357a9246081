import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadFleet } from '../config/fleet';
import { FileUnreadable } from '../config/file-error';
import type { ResolvedConfig } from '../config/resolve';

/** A mistake in the command line: exit 2, the reason on stderr, and a pointer to the subcommand's --help. */
export class UsageError extends Error {}

/** One `audit-spike` subcommand: its usage text (printed by --help on stdout) and what it does. */
export interface CliCommand {
  name: string;
  /** One line for the top-level usage. */
  summary: string;
  /** The whole help: usage line, flags with their defaults, and an example. */
  help: string;
  run(args: string[]): Promise<number>;
}

/** A file that is not there (or cannot be read), said as a person would: no raw ENOENT. Undefined for other errors. */
export function missingFile(error: unknown): string | undefined {
  if (error instanceof FileUnreadable) return error.message;
  const { code, path, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof path !== 'string') return undefined;
  if (code === 'ENOENT') return `no such file: ${path}; check the path`;
  if (code === 'EACCES' || code === 'EPERM') return `cannot ${syscall === 'open' ? 'read' : 'use'} ${path}: permission denied; make it readable by this user`;
  if (code === 'EISDIR') return `${path} is a directory, not a file; give the path of the file itself`;
  return undefined;
}

/** True when the arguments ask for help (`--help` or `-h` anywhere before a `--`). */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = 0) {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: allowPositionals > 0 });
    if (parsed.positionals.length > allowPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[allowPositionals]}"`);
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

/** The org to act on: the config's only one, or the one --org names (a config may watch several under `orgs:`). */
export function configForOrg(path: string | undefined, org: string | undefined): ResolvedConfig {
  const fleet = loadFleet(path);
  const names = fleet.map((config) => config.args.orgId);
  if (org !== undefined) {
    const found = fleet.find((config) => config.args.orgId === org);
    if (!found) throw new UsageError(`--org: no org "${org}" in ${path ?? 'the built-in defaults'}; it watches ${names.join(', ')}`);
    return found;
  }
  if (fleet.length > 1) throw new UsageError(`--org: the config watches ${fleet.length} orgs (${names.join(', ')}); choose one with --org NAME`);
  return fleet[0];
}
