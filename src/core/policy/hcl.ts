// A small parser for the HCL subset Vault policies use: blocks with string labels, attributes,
// strings, numbers, booleans, lists and maps, with #, // and /* */ comments. JSON is valid HCL
// for our purposes and is parsed by the same code (`{"path": {"a/*": {...}}}`).
import { BadRequestError } from '../../errors';

/** A parsed HCL value. Blocks become nested objects keyed by their labels; repeated keys become arrays. */
export type HclValue = string | number | boolean | HclValue[] | HclObject;
export interface HclObject {
  [key: string]: HclValue;
}

type Token =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'punct'; value: string; pos: number }
  | { kind: 'newline'; pos: number }
  | { kind: 'eof'; pos: number };

const MAX_DEPTH = 32;

function fail(message: string, pos: number, text: string): never {
  const line = text.slice(0, pos).split('\n').length;
  throw new BadRequestError(`failed to parse policy: ${message} at line ${line}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      tokens.push({ kind: 'newline', pos: i });
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated comment', i, text);
      i = end + 2;
    } else if (c === '"') {
      let value = '';
      const start = i;
      i++;
      for (;;) {
        if (i >= text.length || text[i] === '\n') fail('unterminated string', start, text);
        const ch = text[i] as string;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = text[i + 1];
          const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/' };
          if (next === 'u') {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid unicode escape', i, text);
            value += String.fromCharCode(parseInt(hex, 16));
            i += 6;
            continue;
          }
          if (next === undefined || !Object.hasOwn(escapes, next)) fail('invalid escape', i, text);
          value += escapes[next as string];
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', value, pos: start });
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!m) fail(`unexpected "${c}"`, i, text);
      tokens.push({ kind: 'number', value: Number(m[0]), pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', value: m[0], pos: i });
      i += m[0].length;
    } else if ('{}[]=,:'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, pos: i });
      i++;
    } else {
      fail(`unexpected character "${c}"`, i, text);
    }
  }
  tokens.push({ kind: 'eof', pos: text.length });
  return tokens;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  private peek(skipNewlines = true): Token {
    if (skipNewlines) while (this.tokens[this.i]?.kind === 'newline') this.i++;
    return this.tokens[this.i] as Token;
  }

  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }

  private expectPunct(value: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== value) fail(`expected "${value}"`, t.pos, this.text);
  }

  /** The top level: a body of attributes and blocks until EOF, or a single JSON object. */
  parseDocument(): HclObject {
    const first = this.peek();
    if (first.kind === 'punct' && first.value === '{') {
      const value = this.parseValue(0);
      if (this.peek().kind !== 'eof') fail('unexpected content after object', this.peek().pos, this.text);
      return value as HclObject;
    }
    return this.parseBody(0, 'eof');
  }

  private parseBody(depth: number, end: 'eof' | '}'): HclObject {
    if (depth > MAX_DEPTH) fail('nested too deeply', this.peek().pos, this.text);
    const out: HclObject = {};
    for (;;) {
      const t = this.peek();
      if (end === 'eof' && t.kind === 'eof') return out;
      if (end === '}' && t.kind === 'punct' && t.value === '}') {
        this.i++;
        return out;
      }
      if (t.kind === 'punct' && t.value === ',') {
        this.i++;
        continue;
      }
      if (t.kind !== 'ident' && t.kind !== 'string') fail('expected an attribute or block name', t.pos, this.text);
      this.i++;
      const key = t.value as string;
      const labels: string[] = [];
      while (this.peek().kind === 'string') labels.push((this.next() as { value: string }).value);
      const after = this.peek();
      if (after.kind === 'punct' && (after.value === '=' || after.value === ':')) {
        if (labels.length > 0) fail('unexpected label before "="', after.pos, this.text);
        this.i++;
        assign(out, [key], this.parseValue(depth + 1));
      } else if (after.kind === 'punct' && after.value === '{') {
        this.i++;
        assign(out, [key, ...labels], this.parseBody(depth + 1, '}'));
      } else {
        fail('expected "=" or "{"', after.pos, this.text);
      }
    }
  }

  private parseValue(depth: number): HclValue {
    if (depth > MAX_DEPTH) fail('nested too deeply', this.peek().pos, this.text);
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') return t.value;
    if (t.kind === 'ident') {
      if (t.value === 'true') return true;
      if (t.value === 'false') return false;
      fail(`unexpected identifier "${t.value}"`, t.pos, this.text);
    }
    if (t.kind === 'punct' && t.value === '[') {
      const items: HclValue[] = [];
      for (;;) {
        const p = this.peek();
        if (p.kind === 'punct' && p.value === ']') {
          this.i++;
          return items;
        }
        items.push(this.parseValue(depth + 1));
        const sep = this.peek();
        if (sep.kind === 'punct' && sep.value === ',') this.i++;
        else if (!(sep.kind === 'punct' && sep.value === ']')) fail('expected "," or "]"', sep.pos, this.text);
      }
    }
    if (t.kind === 'punct' && t.value === '{') return this.parseBody(depth + 1, '}');
    return fail('expected a value', t.pos, this.text);
  }
}

/** Sets `out[k1][k2]...` = value; a repeated key at a leaf turns into an array (HCL's repeated blocks). */
function assign(out: HclObject, keys: string[], value: HclValue): void {
  let target = out;
  for (const key of keys.slice(0, -1)) {
    if (key === '__proto__') throw new BadRequestError('failed to parse policy: invalid key "__proto__"');
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (existing === undefined || typeof existing !== 'object' || Array.isArray(existing)) target[key] = {};
    target = target[key] as HclObject;
  }
  const last = keys[keys.length - 1] as string;
  if (last === '__proto__') throw new BadRequestError('failed to parse policy: invalid key "__proto__"');
  const existing = Object.hasOwn(target, last) ? target[last] : undefined;
  if (existing !== undefined && typeof existing === 'object' && !Array.isArray(existing) && typeof value === 'object' && !Array.isArray(value)) {
    target[last] = { ...existing, ...value };
  } else {
    Object.defineProperty(target, last, { value, enumerable: true, writable: true, configurable: true });
  }
}

/** Parses HCL or JSON policy text into a plain object. Throws a 400 naming the line on error. */
export function parseHcl(text: string): HclObject {
  if (text.length > 1024 * 1024) throw new BadRequestError('failed to parse policy: policy text is too large');
  return new Parser(tokenize(text), text).parseDocument();
}
