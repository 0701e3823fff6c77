// Vault's `username_template` language, the subset its database plugins use: Go-template actions with
// pipes, `.DisplayName` / `.RoleName`, and the functions random, truncate, truncate_sha256, uppercase,
// lowercase, replace, sha256, base64, unix_time, unix_time_millis, uuid and printf. Anything else is refused.
import { createHash, randomInt, randomUUID } from 'node:crypto';

/** What a template can refer to. */
export interface UsernameTemplateData {
  displayName: string;
  roleName: string;
}

/** A parsed template, ready to render many times. */
export interface UsernameTemplate {
  render(data: UsernameTemplateData, nowMs: number): string;
}

const MAX_TEMPLATE_CHARS = 1024;
const MAX_VALUE_CHARS = 4096;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

type Value = string | number;

interface Env {
  data: UsernameTemplateData;
  nowMs: number;
}

type Node = { kind: 'text'; text: string } | { kind: 'action'; pipeline: Pipeline };
type Operand =
  | { kind: 'field'; name: 'DisplayName' | 'RoleName' }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'pipeline'; pipeline: Pipeline }
  | { kind: 'ident'; name: string };
type Command = Operand[];
type Pipeline = Command[];

function fail(message: string): never {
  throw new Error(`username_template: ${message}`);
}

function asString(v: Value, fn: string): string {
  if (typeof v !== 'string') fail(`${fn} expects a string, got the number ${v}`);
  return v;
}

function asInt(v: Value, fn: string): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_VALUE_CHARS) fail(`${fn} expects a length between 0 and ${MAX_VALUE_CHARS}`);
  return n;
}

function arity(fn: string, args: Value[], count: number): void {
  if (args.length !== count) fail(`${fn} takes ${count} argument(s), got ${args.length}`);
}

function printf(args: Value[]): string {
  const [format, ...rest] = args;
  if (format === undefined) fail('printf needs a format string');
  let index = 0;
  const out = asString(format, 'printf').replace(/%([%sdvq])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    const arg = rest[index++];
    if (arg === undefined) fail('printf has fewer arguments than its format needs');
    if (verb === 'd' && typeof arg !== 'number') fail('printf %d expects a number');
    return verb === 'q' ? JSON.stringify(String(arg)) : String(arg);
  });
  if (/%[^%sdvq]/.test(asString(format, 'printf').replace(/%%/g, ''))) fail('printf supports only the verbs %s, %d, %v, %q and %%');
  if (index !== rest.length) fail('printf has more arguments than its format uses');
  return out;
}

/** The functions a template may call; the last argument is the piped value when there is one. */
const FUNCTIONS: Record<string, (args: Value[], env: Env) => Value> = {
  random: (args) => {
    arity('random', args, 1);
    const length = asInt(args[0] as Value, 'random');
    let out = '';
    for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
    return out;
  },
  truncate: (args) => {
    arity('truncate', args, 2);
    return asString(args[1] as Value, 'truncate').slice(0, asInt(args[0] as Value, 'truncate'));
  },
  truncate_sha256: (args) => {
    arity('truncate_sha256', args, 2);
    const max = asInt(args[0] as Value, 'truncate_sha256');
    const s = asString(args[1] as Value, 'truncate_sha256');
    if (s.length <= max) return s;
    if (max < 8) fail('truncate_sha256 needs a length of at least 8');
    return s.slice(0, max - 8) + createHash('sha256').update(s).digest('hex').slice(0, 8);
  },
  uppercase: (args) => {
    arity('uppercase', args, 1);
    return asString(args[0] as Value, 'uppercase').toUpperCase();
  },
  lowercase: (args) => {
    arity('lowercase', args, 1);
    return asString(args[0] as Value, 'lowercase').toLowerCase();
  },
  replace: (args) => {
    arity('replace', args, 3);
    return asString(args[2] as Value, 'replace')
      .split(asString(args[0] as Value, 'replace'))
      .join(asString(args[1] as Value, 'replace'));
  },
  sha256: (args) => {
    arity('sha256', args, 1);
    return createHash('sha256').update(asString(args[0] as Value, 'sha256')).digest('hex');
  },
  base64: (args) => {
    arity('base64', args, 1);
    return Buffer.from(asString(args[0] as Value, 'base64'), 'utf8').toString('base64');
  },
  unix_time: (args, env) => {
    arity('unix_time', args, 0);
    return String(Math.floor(env.nowMs / 1000));
  },
  unix_time_millis: (args, env) => {
    arity('unix_time_millis', args, 0);
    return String(Math.floor(env.nowMs));
  },
  uuid: (args) => {
    arity('uuid', args, 0);
    return randomUUID();
  },
  printf: (args) => printf(args),
  // Shorthands some operators write: {{display_name}} and {{role_name}}.
  display_name: (args, env) => {
    arity('display_name', args, 0);
    return env.data.displayName;
  },
  role_name: (args, env) => {
    arity('role_name', args, 0);
    return env.data.roleName;
  },
};

/** The function names a template may use (for error messages and docs). */
export const TEMPLATE_FUNCTIONS = Object.keys(FUNCTIONS);

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  private skipSpaces(): void {
    while (/\s/.test(this.peek())) this.pos++;
  }

  private atActionEnd(): boolean {
    return this.src.startsWith('}}', this.pos) || this.src.startsWith('-}}', this.pos);
  }

  parsePipeline(closer: '}}' | ')'): Pipeline {
    const commands: Pipeline = [];
    for (;;) {
      const command: Command = [];
      for (;;) {
        this.skipSpaces();
        if (this.peek() === '' || this.peek() === '|' || (closer === ')' && this.peek() === ')') || (closer === '}}' && this.atActionEnd())) break;
        command.push(this.parseOperand());
      }
      if (command.length === 0) fail('empty command in an action');
      commands.push(command);
      if (this.peek() === '|') {
        this.pos++;
        continue;
      }
      return commands;
    }
  }

  private parseOperand(): Operand {
    const c = this.peek();
    if (c === '(') {
      this.pos++;
      const pipeline = this.parsePipeline(')');
      if (this.peek() !== ')') fail('unclosed parenthesis');
      this.pos++;
      return { kind: 'pipeline', pipeline };
    }
    if (c === '"') return { kind: 'string', value: this.parseQuoted() };
    if (c === '`') {
      const end = this.src.indexOf('`', this.pos + 1);
      if (end < 0) fail('unterminated raw string');
      const value = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
      return { kind: 'string', value };
    }
    const m = /^(\.[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*|\d+)/.exec(this.src.slice(this.pos));
    if (!m) fail(`unexpected character ${JSON.stringify(c)} at position ${this.pos}`);
    const token = m[1] as string;
    this.pos += token.length;
    if (/^\d+$/.test(token)) return { kind: 'number', value: Number(token) };
    if (token.startsWith('.')) {
      const name = token.slice(1);
      if (name !== 'DisplayName' && name !== 'RoleName') fail(`unknown field .${name} (known: .DisplayName, .RoleName)`);
      return { kind: 'field', name };
    }
    if (!Object.hasOwn(FUNCTIONS, token)) fail(`unknown function "${token}" (supported: ${TEMPLATE_FUNCTIONS.join(', ')})`);
    return { kind: 'ident', name: token };
  }

  private parseQuoted(): string {
    let out = '';
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === '') fail('unterminated string');
      this.pos++;
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.peek();
        this.pos++;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else {
        out += c;
      }
    }
  }

  parseTemplate(): Node[] {
    const nodes: Node[] = [];
    while (this.pos < this.src.length) {
      const open = this.src.indexOf('{{', this.pos);
      if (open < 0) {
        nodes.push({ kind: 'text', text: this.src.slice(this.pos) });
        break;
      }
      let text = this.src.slice(this.pos, open);
      this.pos = open + 2;
      if (this.peek() === '-' && /\s/.test(this.src[this.pos + 1] ?? '')) {
        text = text.trimEnd();
        this.pos++;
      }
      if (text) nodes.push({ kind: 'text', text });
      const pipeline = this.parsePipeline('}}');
      this.skipSpaces();
      let trimNext = false;
      if (this.src.startsWith('-}}', this.pos)) {
        trimNext = true;
        this.pos += 3;
      } else if (this.src.startsWith('}}', this.pos)) {
        this.pos += 2;
      } else {
        fail('unclosed action');
      }
      nodes.push({ kind: 'action', pipeline });
      if (trimNext) while (/\s/.test(this.peek())) this.pos++;
    }
    return nodes;
  }
}

function evalOperand(operand: Operand, env: Env): Value {
  switch (operand.kind) {
    case 'field':
      return operand.name === 'DisplayName' ? env.data.displayName : env.data.roleName;
    case 'string':
      return operand.value;
    case 'number':
      return operand.value;
    case 'pipeline':
      return evalPipeline(operand.pipeline, env);
    case 'ident':
      return callFunction(operand.name, [], env);
  }
}

function callFunction(name: string, args: Value[], env: Env): Value {
  const fn = FUNCTIONS[name] as (args: Value[], env: Env) => Value;
  const result = fn(args, env);
  if (typeof result === 'string' && result.length > MAX_VALUE_CHARS) fail(`${name} produced a value longer than ${MAX_VALUE_CHARS} characters`);
  return result;
}

function evalPipeline(pipeline: Pipeline, env: Env): Value {
  let piped: Value | undefined;
  for (const command of pipeline) {
    const [head, ...rest] = command as [Operand, ...Operand[]];
    if (head.kind === 'ident') {
      const args = rest.map((o) => evalOperand(o, env));
      if (piped !== undefined) args.push(piped);
      piped = callFunction(head.name, args, env);
    } else {
      if (rest.length > 0) fail('only a function can take arguments');
      if (piped !== undefined) fail('only a function can receive a piped value');
      piped = evalOperand(head, env);
    }
  }
  return piped as Value;
}

/** Parses a template once (refusing unknown functions and fields clearly) for repeated rendering. */
export function parseUsernameTemplate(source: string): UsernameTemplate {
  if (source.length > MAX_TEMPLATE_CHARS) fail(`a template has at most ${MAX_TEMPLATE_CHARS} characters`);
  const nodes = new Parser(source).parseTemplate();
  const template: UsernameTemplate = {
    render(data, nowMs) {
      const env: Env = { data, nowMs };
      let out = '';
      for (const node of nodes) out += node.kind === 'text' ? node.text : String(evalPipeline(node.pipeline, env));
      if (out.length > MAX_VALUE_CHARS) fail(`the rendered username is longer than ${MAX_VALUE_CHARS} characters`);
      return out;
    },
  };
  // Render once so that type errors (a number where a string is needed, ...) surface at configuration time.
  template.render({ displayName: 'display', roleName: 'role' }, 0);
  return template;
}

/**
 * The fixed prefix every username from this template starts with: the common prefix of renderings
 * with different display and role names and times. Empty when the template starts with a variable part.
 */
export function templatePrefix(template: UsernameTemplate): string {
  // Several renderings, so that random parts cannot share a first character by chance.
  const renderings = ['aaaaaaaa', 'zzzzzzzz', 'AAAAAAAA', '00000000'].map((name, i) =>
    template.render({ displayName: name, roleName: name }, 1_000_000_000_000 + i * 111_111_111_111),
  );
  const first = renderings[0] as string;
  let i = 0;
  while (i < first.length && renderings.every((r) => r[i] === first[i])) i++;
  return first.slice(0, i);
}
