import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeIssues } from './args-schema';
import { ConfigError } from './errors';
import { FileConfigSchema } from './file-schema';
import { resolveConfig, type ResolvedConfig } from './resolve';

/** Parses config text (YAML, of which JSON is a subset) and resolves it; throws ConfigError naming each bad field. */
export function parseConfigText(text: string, source: string): ResolvedConfig {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new ConfigError(source, [`not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (raw === null || raw === undefined) raw = {};
  const parsed = FileConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, describeIssues(parsed.error));
  return resolveConfig(parsed.data, source);
}

/** Loads a config file, or the built-in defaults when no path is given. */
export function loadConfig(path?: string): ResolvedConfig {
  if (!path) return parseConfigText('', 'built-in defaults');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseConfigText(text, path);
}
