import { z } from 'zod';
import { didYouMean } from './suggest';

/**
 * A strict zod object whose unknown-key error names the key, guesses the intended one and lists what is allowed,
 * e.g. `unknown key "matchh" (did you mean "match"?); allowed here: id, description, match, …`.
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const keys = issue.keys;
      const named = keys.length === 1 ? `unknown key "${keys[0]}"${didYouMean(keys[0], allowed)}` : `unknown keys ${keys.map((k) => `"${k}"`).join(', ')}`;
      return `${named}; allowed here: ${allowed.join(', ')}`;
    },
  });
}
