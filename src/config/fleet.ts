import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors';
import { FileConfigSchema } from './file-schema';
import { formatProblem, problemsFromZod, yamlLocator, type Locate } from './issues';
import { parseConfigText, readConfigFile } from './load';
import { resolveConfig, type ResolvedConfig } from './resolve';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Objects merge key by key; anything else (lists included) in `override` replaces what `base` had. */
function mergeInto(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeInto(base[key], value);
  return merged;
}

/**
 * A config may watch several Datadog orgs (or sites): `orgs:` lists them, each with its own `org` name and any keys that
 * differ (its key variable names, rules, PagerDuty target...); the rest of the file is shared by all. Without `orgs:`
 * the file watches one org. Each org becomes one Schedule.
 */
export function parseFleetText(text: string, source: string): ResolvedConfig[] {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : parseYaml(text);
  } catch {
    return [parseConfigText(text, source)]; // the single-org parser reports the YAML error
  }
  if (!isObject(raw) || raw.orgs === undefined) return [parseConfigText(text, source)];
  const locate = yamlLocator(text);
  const { orgs, ...shared } = raw;
  if (!Array.isArray(orgs) || orgs.length === 0 || !orgs.every((entry) => isObject(entry) && typeof entry.org === 'string')) {
    throw new ConfigError(source, [formatProblem({ path: ['orgs'], message: 'must be a non-empty list of entries, each with an "org" name and the keys that differ for that org' }, locate)]);
  }
  if (shared.org !== undefined) throw new ConfigError(source, [formatProblem({ path: ['org'], message: 'give each org its name under orgs[], not at the top level' }, locate)]);

  const configs = orgs.map((entry, index) => {
    const merged = mergeInto(shared, entry);
    const at: Locate = (path) => locate(['orgs', index, ...path]) ?? locate(path);
    const label = `${source} (orgs[${index}], org "${(entry as Json).org}")`;
    const parsed = FileConfigSchema.safeParse(merged, { reportInput: true });
    if (!parsed.success) throw new ConfigError(label, problemsFromZod(parsed.error).map((problem) => formatProblem(problem, at)));
    return resolveConfig(parsed.data, label, at);
  });
  const seen = new Map<string, number>();
  configs.forEach((config, index) => {
    const previous = seen.get(config.schedule.scheduleId);
    if (previous !== undefined) {
      throw new ConfigError(source, [formatProblem({ path: ['orgs', index, 'org'], message: `schedule id "${config.schedule.scheduleId}" is also used by orgs[${previous}]; org names (or schedule.id) must differ` }, locate)]);
    }
    seen.set(config.schedule.scheduleId, index);
  });
  return configs;
}

export function loadFleet(path?: string): ResolvedConfig[] {
  return path ? parseFleetText(readConfigFile(path), path) : [parseConfigText('', 'built-in defaults')];
}

/**
 * How `audit-spike schedule apply` paces a fleet: Schedules worked on at once, and requests per second to the Temporal
 * service (Temporal Cloud allows 10 schedule requests per second per namespace; a self-hosted cluster may allow more).
 */
export const FLEET_APPLY_DEFAULTS = { concurrency: 8, ratePerSecond: 10 } as const;
