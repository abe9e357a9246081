/**
 * The subset of the Datadog log/audit search syntax the simulator understands: `@path:value`, `@path:"quoted value"`,
 * `@path:(a OR b)`, `*` wildcards, `key:value` on tags or reserved attributes, bare words on the message, AND / OR /
 * NOT / `-`, parentheses and implicit AND. Anything else is a syntax error (the simulator answers 400, as Datadog does).
 */

export type QueryNode =
  | { kind: 'all' }
  | { kind: 'and'; parts: QueryNode[] }
  | { kind: 'or'; parts: QueryNode[] }
  | { kind: 'not'; part: QueryNode }
  | { kind: 'term'; field?: string; value: string; quoted: boolean };

export interface SearchableEvent {
  message?: string;
  service?: string;
  tags?: string[];
  attributes?: Record<string, unknown>;
}

export class QuerySyntaxError extends Error {}

type Token = { type: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'minus' } | { type: 'word'; text: string; quoted: boolean };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const readQuoted = (): string => {
    let out = '';
    i++;
    while (i < input.length && input[i] !== '"') {
      if (input[i] === '\\' && i + 1 < input.length) i++;
      out += input[i++];
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
      tokens.push({ type: 'word', text: readQuoted(), quoted: true });
    } else {
      let text = '';
      while (i < input.length && !/[\s()"]/.test(input[i])) {
        if (input[i] === '\\' && i + 1 < input.length) text += input[++i];
        else text += input[i];
        i++;
      }
      // `field:"quoted value"` arrives as `field:` then a quoted word; keep them together.
      if (text.endsWith(':') && input[i] === '"') {
        tokens.push({ type: 'word', text: text + readQuoted(), quoted: true });
        continue;
      }
      const upper = text.toUpperCase();
      if (upper === 'AND' && text === upper) tokens.push({ type: 'and' });
      else if (upper === 'OR' && text === upper) tokens.push({ type: 'or' });
      else if (upper === 'NOT' && text === upper) tokens.push({ type: 'not' });
      else tokens.push({ type: 'word', text, quoted: false });
    }
  }
  return tokens;
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
    const colon = field === undefined && !(token.quoted && !token.text.includes(':')) ? token.text.indexOf(':') : -1;
    if (colon > 0) {
      const name = token.text.slice(0, colon);
      const value = token.text.slice(colon + 1);
      if (value === '') {
        if (this.peek()?.type !== 'lparen') throw new QuerySyntaxError(`"${name}:" has no value in query: ${this.source}`);
        this.pos++;
        const group = this.orExpr(name);
        if (this.tokens[this.pos++]?.type !== 'rparen') throw new QuerySyntaxError(`missing ")" after ${name}:( in query: ${this.source}`);
        return group;
      }
      return { kind: 'term', field: name, value, quoted: token.quoted };
    }
    if (token.text === '*' && field === undefined) return { kind: 'all' };
    return { kind: 'term', ...(field !== undefined ? { field } : {}), value: token.text, quoted: token.quoted };
  }
}

export function parseQuery(query: string): QueryNode {
  return new Parser(tokenize(query), query).parse();
}

const patterns = new Map<string, RegExp>();

function valueMatches(actual: unknown, expected: string, quoted: boolean): boolean {
  if (Array.isArray(actual)) return actual.some((item) => valueMatches(item, expected, quoted));
  if (actual === null || actual === undefined || typeof actual === 'object') return false;
  const text = String(actual);
  if (!quoted && expected.includes('*')) {
    let pattern = patterns.get(expected);
    if (!pattern) {
      pattern = new RegExp(`^${expected.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'is');
      patterns.set(expected, pattern);
    }
    return pattern.test(text);
  }
  return text.toLowerCase() === expected.toLowerCase();
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

function termMatches(node: Extract<QueryNode, { kind: 'term' }>, event: SearchableEvent): boolean {
  if (node.field === undefined) {
    const message = event.message ?? '';
    if (!node.quoted && node.value.includes('*')) return message.split(/\s+/).some((word) => valueMatches(word, node.value, false));
    return message.toLowerCase().includes(node.value.toLowerCase());
  }
  if (node.field.startsWith('@')) {
    const path = node.field.slice(1);
    const value = attributeAt(event.attributes, path);
    if (node.value === '*' && !node.quoted) return value !== undefined && value !== null;
    return valueMatches(value, node.value, node.quoted);
  }
  if (node.field === 'service' && event.service !== undefined) return valueMatches(event.service, node.value, node.quoted);
  const tagValues = (event.tags ?? []).filter((tag) => tag.startsWith(`${node.field}:`)).map((tag) => tag.slice(node.field!.length + 1));
  return tagValues.some((value) => valueMatches(value, node.value, node.quoted));
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
