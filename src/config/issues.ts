import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { z } from 'zod';

export type PathKey = string | number;

/** One thing wrong with a config file: where (a path into the file), and what was wrong and what is allowed. */
export interface Problem {
  path: PathKey[];
  message: string;
  /** How to show the path when it is clearer than the bare path, e.g. `detection.rules[2] (id "custom").window`. */
  shownAs?: string;
}

/** The 1-based line of the deepest node on `path` that exists in the file; undefined when unknown. */
export type Locate = (path: PathKey[]) => number | undefined;

export function formatPath(path: readonly PathKey[]): string {
  const text = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('').replace(/^\./, '');
  return text || '(top level)';
}

export function formatProblem(problem: Problem, locate?: Locate): string {
  const line = locate?.(problem.path);
  return `${problem.shownAs ?? formatPath(problem.path)}${line ? ` (line ${line})` : ''}: ${problem.message}`;
}

/**
 * Finds paths in YAML (or JSON) text, for error messages that say which line to fix. A map entry is located at its key,
 * not its value: a misspelt key whose value is an indented block is on the key's line, not the block's first line.
 */
export function yamlLocator(text: string): Locate {
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument> | undefined;
  try {
    doc = parseDocument(text, { lineCounter });
  } catch {
    doc = undefined;
  }
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return Array.isArray(range) ? lineCounter.linePos(range[0]).line : undefined;
  };
  return (path) => {
    if (!doc) return undefined;
    // The whole path is there: the line of its last key (or list item). Only part of it (a field that is missing): the
    // line where the deepest part that is there starts its value, where the field would go.
    let node: unknown = doc.contents;
    let keyLine: number | undefined;
    let valueLine: number | undefined;
    let found = 0;
    for (const key of path) {
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(key));
        if (!pair) break;
        keyLine = lineOf(pair.key) ?? lineOf(pair.value);
        next = pair.value;
      } else if (isSeq(node) && typeof key === 'number' && node.items[key] !== undefined) {
        next = node.items[key];
        keyLine = lineOf(next);
      } else {
        break;
      }
      valueLine = lineOf(next) ?? keyLine;
      node = next;
      found++;
    }
    if (found === 0) return undefined;
    return found === path.length ? keyLine : valueLine;
  };
}

/** The line a formatted problem names (`… (line 12): …`), for putting problems in file order. */
export function problemLine(problem: string): number {
  const match = /\(line (\d+)\)/.exec(problem);
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

/** Formatted problems in the order of the file (those without a line last, in their own order). */
export function inFileOrder(problems: string[]): string[] {
  return problems.map((problem, index) => ({ problem, index, line: problemLine(problem) }))
    .sort((a, b) => a.line - b.line || a.index - b.index)
    .map((entry) => entry.problem);
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'a map (key: value)',
  array: 'a list',
  record: 'a map (key: value)',
};

/** A short, safe rendering of what the person wrote. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return value.toISOString();
  return 'a map';
}

/** zod's own wording starts like this; anything else is a message written for this project and kept as is. */
const GENERIC = /^(Invalid|Too (big|small)|Unrecognized key)/;

type Issue = z.core.$ZodIssue & { input?: unknown };

function messageFor(issue: Issue): string {
  const got = issue.input === undefined ? '' : ` (got ${describeValue(issue.input)})`;
  if (!GENERIC.test(issue.message)) return issue.code === 'invalid_format' && typeof issue.input === 'string' ? `${issue.message}${got}` : issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required: ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}${got}`;
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      return `${values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(', ')}`}${got}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${min} ${min === 1 ? 'entry' : 'entries'}`;
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${min} characters`;
      return `${issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`}${got}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') return `allows at most ${max} ${max === 1 ? 'entry' : 'entries'}`;
      if (issue.origin === 'string') return `must be at most ${max} characters`;
      return `${issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`}${got}`;
    }
    case 'invalid_format':
      if (issue.format === 'email') return `must be an email address such as secops-bot@example.com${got}`;
      if (issue.format === 'url') return `must be a URL such as https://app.datadoghq.com${got}`;
      return `has the wrong format${got}`;
    case 'invalid_key':
      return `${describeValue(issue.input)} is not a valid key: ${issue.issues.map((inner) => messageFor(inner as Issue)).join('; ')}`;
    case 'invalid_union': {
      const expected = new Set<string>();
      for (const branch of issue.errors) for (const inner of branch) if (inner.code === 'invalid_type' && inner.path.length === 0) expected.add(inner.expected);
      if (expected.size > 0) return `must be ${[...expected].map((t) => TYPE_WORDS[t] ?? t).join(' or ')}${got}`;
      return `is not valid${got}`;
    }
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Every issue of a failed parse, with the path into the file and a message saying what was wrong and what is allowed. */
export function problemsFromZod(error: z.ZodError): Problem[] {
  return (error.issues as Issue[]).map((issue) => {
    const path = issue.path.filter((part): part is PathKey => typeof part === 'string' || typeof part === 'number');
    // An unknown key is easiest to find by its own path.
    if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) return { path: [...path, issue.keys[0]], message: messageFor(issue) };
    return { path, message: messageFor(issue) };
  });
}
