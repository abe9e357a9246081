import { needsAttention } from './failures';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Reads a secret from the worker's environment by name; the value never leaves the activity's clients. */
export function readSecret(env: Environment, name: string, purpose: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw needsAttention(
      'MissingSecret',
      `${purpose} is read from the environment variable ${name}, which is not set in the worker's environment. ` +
        `Set ${name} where the worker runs (or point the config at another variable) and restart the worker.`,
    );
  }
  return value.trim();
}
