import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors';
import { fileUnreadable } from './file-error';
import { FileConfigSchema } from './file-schema';
import { formatProblem, problemsFromZod, yamlLocator } from './issues';
import { resolveConfig, type ResolvedConfig } from './resolve';

/** Parses config text (YAML, of which JSON is a subset) and resolves it; throws ConfigError naming each bad field and its line. */
export function parseConfigText(text: string, source: string): ResolvedConfig {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new ConfigError(source, [`not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (raw === null || raw === undefined) raw = {};
  const locate = yamlLocator(text);
  const parsed = FileConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(source, problemsFromZod(parsed.error).map((problem) => formatProblem(problem, locate)));
  return resolveConfig(parsed.data, source, locate);
}

/** A config file's text; a file that cannot be read is a FileUnreadable naming it and saying what to do (one line). */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw fileUnreadable(error, path, 'the config file');
  }
}

/** Loads a config file, or the built-in defaults when no path is given. */
export function loadConfig(path?: string): ResolvedConfig {
  return path ? parseConfigText(readConfigFile(path), path) : parseConfigText('', 'built-in defaults');
}
