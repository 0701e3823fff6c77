// A small HCL (v1, as Vault's config files use it) parser that keeps line numbers, so a config error
// can say where it is: attributes, labelled blocks, strings, numbers, booleans, lists and objects,
// with #, // and /* */ comments. A JSON document is parsed by the same code as one object.

/** A parsed value with the line it starts on. */
export type HclNode =
  | { kind: 'string'; value: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'bool'; value: boolean; line: number }
  | { kind: 'list'; items: HclNode[]; line: number }
  | { kind: 'object'; entries: HclEntry[]; line: number };

/** `key = value`, `key: value` (JSON) or `key "label" ... { body }` (a block: its body is an object node). */
export interface HclEntry {
  key: string;
  labels: string[];
  value: HclNode;
  line: number;
  block: boolean;
}

/** A syntax error, with the line it is on. */
export class HclSyntaxError extends Error {
  constructor(
    readonly detail: string,
    readonly line: number,
  ) {
    super(`${detail} at line ${line}`);
    this.name = 'HclSyntaxError';
  }
}

type Token =
  | { t: 'str'; v: string; line: number }
  | { t: 'ident'; v: string; line: number }
  | { t: 'num'; v: number; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'nl'; line: number }
  | { t: 'eof'; line: number };

const MAX_DEPTH = 32;
const MAX_TEXT = 1024 * 1024;

function tokenize(text: string): Token[] {
  if (text.length > MAX_TEXT) throw new HclSyntaxError('config file is larger than 1 MiB', 1);
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      out.push({ t: 'nl', line });
      line += 1;
      i += 1;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i += 1;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new HclSyntaxError('unterminated comment', line);
      for (let j = i; j < end; j += 1) if (text[j] === '\n') line += 1;
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length || text[i] === '\n') throw new HclSyntaxError('unterminated string', start);
        const d = text[i] as string;
        if (d === '"') break;
        if (d === '\\') {
          const e = text[i + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/' };
          if (e !== undefined && map[e] !== undefined) {
            value += map[e];
            i += 2;
            continue;
          }
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          throw new HclSyntaxError('invalid escape in string', line);
        }
        value += d;
        i += 1;
      }
      i += 1;
      out.push({ t: 'str', v: value, line: start });
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 64));
      if (!m) throw new HclSyntaxError(`unexpected "${c}"`, line);
      out.push({ t: 'num', v: Number(m[0]), line });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i, i + 256)) as RegExpExecArray;
      out.push({ t: 'ident', v: m[0], line });
      i += m[0].length;
    } else if ('{}[]=,:'.includes(c)) {
      out.push({ t: 'punct', v: c, line });
      i += 1;
    } else {
      throw new HclSyntaxError(`unexpected character ${JSON.stringify(c)}`, line);
    }
  }
  out.push({ t: 'eof', line });
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(skipNewlines = true): Token {
    if (skipNewlines) while (this.tokens[this.pos]?.t === 'nl') this.pos += 1;
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    const token = this.peek();
    this.pos += 1;
    return token;
  }

  private expect(v: string): Token {
    const token = this.next();
    if (token.t !== 'punct' || token.v !== v) throw new HclSyntaxError(`expected "${v}"`, token.line);
    return token;
  }

  /** A whole document: an HCL body, or one JSON object. */
  document(): HclNode {
    const first = this.peek();
    if (first.t === 'punct' && first.v === '{') {
      const value = this.value(0);
      const end = this.peek();
      if (end.t !== 'eof') throw new HclSyntaxError('unexpected content after the JSON object', end.line);
      return value;
    }
    return { kind: 'object', entries: this.body(0, 'eof'), line: first.line };
  }

  private body(depth: number, end: 'eof' | '}'): HclEntry[] {
    if (depth > MAX_DEPTH) throw new HclSyntaxError('nested too deeply', this.peek().line);
    const entries: HclEntry[] = [];
    for (;;) {
      const token = this.peek();
      if (end === 'eof' && token.t === 'eof') return entries;
      if (end === '}' && token.t === 'punct' && token.v === '}') return entries;
      if (token.t === 'eof') throw new HclSyntaxError('expected "}"', token.line);
      if (token.t !== 'ident' && token.t !== 'str') throw new HclSyntaxError('expected an attribute or block name', token.line);
      this.pos += 1;
      const labels: string[] = [];
      for (;;) {
        const after = this.peek();
        if (after.t === 'punct' && (after.v === '=' || after.v === ':')) {
          this.pos += 1;
          entries.push({ key: token.v, labels, value: this.value(depth + 1), line: token.line, block: false });
          break;
        }
        if (after.t === 'punct' && after.v === '{') {
          entries.push({ key: token.v, labels, value: this.value(depth + 1), line: token.line, block: true });
          break;
        }
        if (after.t === 'str' || after.t === 'ident') {
          labels.push(after.v);
          this.pos += 1;
          continue;
        }
        throw new HclSyntaxError(`expected "=" or "{" after "${token.v}"`, after.line);
      }
      const sep = this.peek(false);
      if (sep.t === 'punct' && sep.v === ',') this.pos += 1;
    }
  }

  private value(depth: number): HclNode {
    if (depth > MAX_DEPTH) throw new HclSyntaxError('nested too deeply', this.peek().line);
    const token = this.next();
    switch (token.t) {
      case 'str':
        return { kind: 'string', value: token.v, line: token.line };
      case 'num':
        return { kind: 'number', value: token.v, line: token.line };
      case 'ident':
        if (token.v === 'true' || token.v === 'false') return { kind: 'bool', value: token.v === 'true', line: token.line };
        throw new HclSyntaxError(`unexpected "${token.v}" (strings must be quoted)`, token.line);
      case 'punct':
        if (token.v === '[') {
          const items: HclNode[] = [];
          for (;;) {
            const p = this.peek();
            if (p.t === 'punct' && p.v === ']') {
              this.pos += 1;
              return { kind: 'list', items, line: token.line };
            }
            items.push(this.value(depth + 1));
            const sep = this.peek();
            if (sep.t === 'punct' && sep.v === ',') this.pos += 1;
            else if (!(sep.t === 'punct' && sep.v === ']')) throw new HclSyntaxError('expected "," or "]"', sep.line);
          }
        }
        if (token.v === '{') {
          const entries = this.body(depth + 1, '}');
          this.expect('}');
          return { kind: 'object', entries, line: token.line };
        }
        throw new HclSyntaxError(`unexpected "${token.v}"`, token.line);
      default:
        throw new HclSyntaxError('unexpected end of file', token.line);
    }
  }
}

/** Parses HCL or JSON text into a top-level object node. Throws HclSyntaxError with a line. */
export function parseHclDocument(text: string): HclNode & { kind: 'object' } {
  const node = new Parser(tokenize(text)).document();
  if (node.kind !== 'object') throw new HclSyntaxError('expected an object', node.line);
  return node;
}
