/**
 * The subset of the Datadog log/audit search syntax the simulator understands: `@path:value`, `@path:"quoted value"`,
 * `@path:(a OR b)`, `*` and `?` wildcards, `key:value` on tags, bare words on the message, AND / OR / NOT / `-`,
 * parentheses and implicit AND. Malformed queries are a syntax error (the simulator answers 400).
 *
 * Strict where Datadog's search syntax page is (https://docs.datadoghq.com/logs/explorer/search_syntax/, source
 * DataDog/documentation content/en/logs/explorer/search_syntax.md after PR #38059, 2026-07-09):
 * - "Attributes searches are case sensitive": `@action:Created` does not find `created`. Full-text search on the
 *   message stays case-insensitive, as the page says.
 * - Special characters `- ! && || > >= < <= ( ) { } [ ] " * ? : \ #` and spaces need escaping with `\` (or the value
 *   double-quoted). The page does not say an unescaped one is an error, only that the value is not read literally: a
 *   bare value holding one (other than the `*` and `?` wildcards) matches nothing here. `/` and `@` are not special,
 *   and `-` only where a value starts (negation; `service:web-app` is an everyday query).
 */

export type QueryNode =
  | { kind: 'all' }
  | { kind: 'and'; parts: QueryNode[] }
  | { kind: 'or'; parts: QueryNode[] }
  | { kind: 'not'; part: QueryNode }
  | Term;

export interface Term {
  kind: 'term';
  field?: string;
  value: string;
  quoted: boolean;
  /** Positions in `value` of unescaped `*` (any run) and `?` (one character) wildcards. */
  wildcards?: number[];
  /** The special character left unescaped in a bare value: the term cannot match it literally. */
  unescaped?: string;
}

export interface SearchableEvent {
  message?: string;
  service?: string;
  tags?: string[];
  attributes?: Record<string, unknown>;
}

export class QuerySyntaxError extends Error {}

/** Characters a bare value must escape (besides whitespace and the `*`/`?` wildcards), per the search syntax page. */
const SPECIAL = new Set(['!', '&', '|', '>', '<', '(', ')', '{', '}', '[', ']', '"', ':', '\\', '#']);

interface Char {
  ch: string;
  escaped: boolean;
}

type Token = { type: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'minus' } | { type: 'word'; chars: Char[]; quoted: boolean; valueStart?: number };

const text = (chars: Char[]) => chars.map((c) => c.ch).join('');

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const readQuoted = (): Char[] => {
    const out: Char[] = [];
    i++;
    while (i < input.length && input[i] !== '"') {
      if (input[i] === '\\' && i + 1 < input.length) i++;
      out.push({ ch: input[i++], escaped: true });
    }
    if (input[i] !== '"') throw new QuerySyntaxError(`unterminated quote in query: ${input}`);
    i++;
    return out;
  };
  while (i < input.length) {
    const ch = input[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(') {
      tokens.push({ type: 'lparen' });
      i++;
    } else if (ch === ')') {
      tokens.push({ type: 'rparen' });
      i++;
    } else if (ch === '-' && (tokens.length === 0 || tokens[tokens.length - 1].type !== 'word' || /\s|\(/.test(input[i - 1] ?? ' '))) {
      tokens.push({ type: 'minus' });
      i++;
    } else if (ch === '"') {
      tokens.push({ type: 'word', chars: readQuoted(), quoted: true });
    } else {
      const chars: Char[] = [];
      while (i < input.length && !/[\s()"]/.test(input[i])) {
        if (input[i] === '\\' && i + 1 < input.length) chars.push({ ch: input[++i], escaped: true });
        else chars.push({ ch: input[i], escaped: false });
        i++;
      }
      // `field:"quoted value"` arrives as `field:` then a quoted word; keep them together.
      const last = chars[chars.length - 1];
      if (last?.ch === ':' && !last.escaped && input[i] === '"') {
        tokens.push({ type: 'word', chars: [...chars, ...readQuoted()], quoted: true, valueStart: chars.length });
        continue;
      }
      const word = text(chars);
      const plain = chars.every((c) => !c.escaped);
      if (plain && word === 'AND') tokens.push({ type: 'and' });
      else if (plain && word === 'OR') tokens.push({ type: 'or' });
      else if (plain && word === 'NOT') tokens.push({ type: 'not' });
      else tokens.push({ type: 'word', chars, quoted: false });
    }
  }
  return tokens;
}

function termOf(field: string | undefined, chars: Char[], quoted: boolean): Term {
  const wildcards: number[] = [];
  let unescaped: string | undefined;
  if (!quoted) {
    chars.forEach((c, index) => {
      if (c.escaped) return;
      if (c.ch === '*' || c.ch === '?') wildcards.push(index);
      else if (SPECIAL.has(c.ch) || (c.ch === '-' && index === 0)) unescaped ??= c.ch;
    });
  }
  return { kind: 'term', ...(field !== undefined ? { field } : {}), value: text(chars), quoted, ...(wildcards.length ? { wildcards } : {}), ...(unescaped ? { unescaped } : {}) };
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly source: string) {}

  parse(): QueryNode {
    if (this.tokens.length === 0) return { kind: 'all' };
    const node = this.orExpr(undefined);
    if (this.pos < this.tokens.length) throw new QuerySyntaxError(`unexpected ")" in query: ${this.source}`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private orExpr(field: string | undefined): QueryNode {
    const parts = [this.andExpr(field)];
    while (this.peek()?.type === 'or') {
      this.pos++;
      parts.push(this.andExpr(field));
    }
    return parts.length === 1 ? parts[0] : { kind: 'or', parts };
  }

  private andExpr(field: string | undefined): QueryNode {
    const parts = [this.unary(field)];
    for (;;) {
      const next = this.peek();
      if (!next || next.type === 'or' || next.type === 'rparen') break;
      if (next.type === 'and') this.pos++;
      parts.push(this.unary(field));
    }
    return parts.length === 1 ? parts[0] : { kind: 'and', parts };
  }

  private unary(field: string | undefined): QueryNode {
    const next = this.peek();
    if (next?.type === 'not' || next?.type === 'minus') {
      this.pos++;
      return { kind: 'not', part: this.unary(field) };
    }
    return this.primary(field);
  }

  private primary(field: string | undefined): QueryNode {
    const token = this.tokens[this.pos++];
    if (!token) throw new QuerySyntaxError(`query ends early: ${this.source}`);
    if (token.type === 'lparen') {
      const inner = this.orExpr(field);
      if (this.tokens[this.pos++]?.type !== 'rparen') throw new QuerySyntaxError(`missing ")" in query: ${this.source}`);
      return inner;
    }
    if (token.type !== 'word') throw new QuerySyntaxError(`unexpected ${token.type.toUpperCase()} in query: ${this.source}`);
    // The field ends at the first unescaped colon of a bare word (a quoted phrase alone is full text).
    const colon = field !== undefined ? -1 : token.valueStart !== undefined ? token.valueStart - 1 : token.quoted ? -1 : token.chars.findIndex((c) => c.ch === ':' && !c.escaped);
    if (colon > 0) {
      const name = text(token.chars.slice(0, colon));
      const value = token.chars.slice(colon + 1);
      if (value.length === 0 && !token.quoted) {
        if (this.peek()?.type !== 'lparen') throw new QuerySyntaxError(`"${name}:" has no value in query: ${this.source}`);
        this.pos++;
        const group = this.orExpr(name);
        if (this.tokens[this.pos++]?.type !== 'rparen') throw new QuerySyntaxError(`missing ")" after ${name}:( in query: ${this.source}`);
        return group;
      }
      return termOf(name, value, token.quoted);
    }
    if (field === undefined && !token.quoted && token.chars.length === 1 && token.chars[0].ch === '*' && !token.chars[0].escaped) return { kind: 'all' };
    return termOf(field, token.chars, token.quoted);
  }
}

export function parseQuery(query: string): QueryNode {
  return new Parser(tokenize(query), query).parse();
}

/** The terms of a query whose bare value holds an unescaped special character, e.g. `@usr.email:a:b`. */
export function unescapedTerms(node: QueryNode): Term[] {
  switch (node.kind) {
    case 'all':
      return [];
    case 'and':
    case 'or':
      return node.parts.flatMap(unescapedTerms);
    case 'not':
      return unescapedTerms(node.part);
    case 'term':
      return node.unescaped ? [node] : [];
  }
}

const patterns = new WeakMap<Term, RegExp>();

function patternOf(term: Term, caseSensitive: boolean): RegExp {
  let pattern = patterns.get(term);
  if (!pattern) {
    const wild = new Set(term.wildcards);
    let source = '';
    term.value.split('').forEach((ch, index) => {
      if (wild.has(index)) source += ch === '*' ? '.*' : '.';
      else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
    pattern = new RegExp(`^${source}$`, caseSensitive ? 's' : 'is');
    patterns.set(term, pattern);
  }
  return pattern;
}

function valueMatches(actual: unknown, term: Term, caseSensitive: boolean): boolean {
  if (Array.isArray(actual)) return actual.some((item) => valueMatches(item, term, caseSensitive));
  if (actual === null || actual === undefined || typeof actual === 'object') return false;
  if (term.unescaped) return false;
  const value = String(actual);
  if (term.wildcards) return patternOf(term, caseSensitive).test(value);
  return caseSensitive ? value === term.value : value.toLowerCase() === term.value.toLowerCase();
}

function attributeAt(attributes: Record<string, unknown> | undefined, path: string): unknown {
  if (!attributes) return undefined;
  if (path in attributes) return attributes[path];
  let current: unknown = attributes;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function termMatches(term: Term, event: SearchableEvent): boolean {
  if (term.field === undefined) {
    const message = event.message ?? '';
    if (term.wildcards) return message.split(/\s+/).some((word) => valueMatches(word, term, false));
    return message.toLowerCase().includes(term.value.toLowerCase());
  }
  if (term.field.startsWith('@')) {
    const value = attributeAt(event.attributes, term.field.slice(1));
    if (term.value === '*' && term.wildcards) return value !== undefined && value !== null;
    return valueMatches(value, term, true);
  }
  if (term.field === 'service' && event.service !== undefined) return valueMatches(event.service, term, false);
  const tagValues = (event.tags ?? []).filter((tag) => tag.startsWith(`${term.field}:`)).map((tag) => tag.slice(term.field!.length + 1));
  return tagValues.some((value) => valueMatches(value, term, false));
}

export function matches(node: QueryNode, event: SearchableEvent): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'and':
      return node.parts.every((part) => matches(part, event));
    case 'or':
      return node.parts.some((part) => matches(part, event));
    case 'not':
      return !matches(node.part, event);
    case 'term':
      return termMatches(node, event);
  }
}
