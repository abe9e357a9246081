import { resolve } from 'node:path';

/**
 * A file a command was told to read (a config, an events file) that cannot be read: one line naming it, why, and what
 * to do, never Node's raw `ENOENT` and a stack. The CLI prints the message and exits 2.
 */
export class FileUnreadable extends Error {
  constructor(readonly path: string, readonly code: string | undefined, message: string) {
    super(message);
    this.name = 'FileUnreadable';
  }
}

/** `role` says what the file is for, e.g. `--events` or `the config file`; `instead` what else the user could do. */
export function fileUnreadable(error: unknown, path: string, role: string, instead?: string): FileUnreadable {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const or = instead ? `, or ${instead}` : '';
  const why = code === 'ENOENT' ? `no such file (looked for ${resolve(path)}); check the path${or}`
    : code === 'EISDIR' ? `is a directory, not a file; give the path of the file itself${or}`
    : code === 'EACCES' || code === 'EPERM' ? `permission denied; make the file readable by this user${or}`
    : `cannot be read (${code ?? (error as Error | undefined)?.message ?? String(error)}); check the file${or}`;
  return new FileUnreadable(path, code, `${role} ${path}: ${why}`);
}
