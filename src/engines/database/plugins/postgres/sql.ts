// SQL text handling for the PostgreSQL plugin: a small lexer that knows quoted literals, quoted identifiers,
// dollar quoting and comments, so that statements split only on real `;` and every substituted value is
// quoted for the exact place it lands in (no value can end a quote it was put into).

/** How a placeholder's value is quoted when it stands bare in SQL code. */
export type PlaceholderKind = 'identifier' | 'literal';

/** Values for `{{key}}` placeholders, with the quoting each needs when used bare. */
export type PlaceholderValues = Record<string, { value: string; kind: PlaceholderKind }>;

/** PostgreSQL's identifier limit (NAMEDATALEN - 1): longer names are silently truncated by the server. */
export const MAX_IDENTIFIER_BYTES = 63;

type Segment =
  | { kind: 'code'; text: string }
  | { kind: 'string'; prefix: string; body: string; backslashEscapes: boolean }
  | { kind: 'identifier'; prefix: string; body: string; backslashEscapes: boolean }
  | { kind: 'dollar'; tag: string; body: string }
  | { kind: 'comment'; text: string };

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;
const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** Quotes an identifier: wrapped in double quotes, embedded double quotes doubled. */
export function quoteIdentifier(value: string): string {
  assertNoNul(value);
  return `"${value.replace(/"/g, '""')}"`;
}

/** Quotes a literal; an E'' string (backslashes doubled too) when the value has a backslash, so it is safe either way. */
export function quoteLiteral(value: string): string {
  assertNoNul(value);
  if (value.includes('\\')) return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return `'${value.replace(/'/g, "''")}'`;
}

function assertNoNul(value: string): void {
  if (value.includes('\u0000')) throw new Error('a value for a SQL statement contains a NUL character');
}

/** Splits SQL text into lexical segments. Throws on an unterminated quote, dollar quote or comment. */
function scan(sql: string): Segment[] {
  const segments: Segment[] = [];
  let code = '';
  let i = 0;
  const flushCode = () => {
    if (code) segments.push({ kind: 'code', text: code });
    code = '';
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1] ?? '';
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end + 1;
      flushCode();
      segments.push({ kind: 'comment', text: sql.slice(i, stop) });
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql.startsWith('/*', j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith('*/', j)) {
          depth--;
          j += 2;
        } else {
          j++;
        }
      }
      if (depth > 0) throw new Error('unterminated /* comment in a SQL statement');
      flushCode();
      segments.push({ kind: 'comment', text: sql.slice(i, j) });
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      // A prefix glued to the quote: E'..' (backslash escapes), U&'..' / U&".." (backslash is the escape).
      let prefix = '';
      const before = code;
      const m = /(^|[^A-Za-z0-9_$\u0080-\uffff])([EeBbXxNn]|[Uu]&)$/.exec(before);
      if (m && (c === "'" || /^[Uu]&$/.test(m[2] as string))) prefix = m[2] as string;
      code = before.slice(0, before.length - prefix.length);
      const backslashEscapes = /^[Ee]$|^[Uu]&$/.test(prefix);
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new Error(`unterminated ${c === "'" ? 'string literal' : 'quoted identifier'} in a SQL statement`);
        const d = sql[j] as string;
        if (backslashEscapes && d === '\\' && c === "'" && /^[Ee]$/.test(prefix)) {
          j += 2;
          continue;
        }
        if (d === c) {
          if (sql[j + 1] === c) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      flushCode();
      segments.push({ kind: c === "'" ? 'string' : 'identifier', prefix, body: sql.slice(i + 1, j), backslashEscapes });
      i = j + 1;
      continue;
    }
    if (c === '$' && !(i > 0 && IDENT_CHAR.test(sql[i - 1] as string))) {
      const m = DOLLAR_TAG.exec(sql.slice(i));
      if (m) {
        const delimiter = m[0];
        const end = sql.indexOf(delimiter, i + delimiter.length);
        if (end < 0) throw new Error('unterminated dollar-quoted string in a SQL statement');
        flushCode();
        segments.push({ kind: 'dollar', tag: m[1] ?? '', body: sql.slice(i + delimiter.length, end) });
        i = end + delimiter.length;
        continue;
      }
    }
    code += c;
    i++;
  }
  flushCode();
  return segments;
}

function rawText(segment: Segment): string {
  switch (segment.kind) {
    case 'code':
    case 'comment':
      return segment.text;
    case 'string':
      return `${segment.prefix}'${segment.body}'`;
    case 'identifier':
      return `${segment.prefix}"${segment.body}"`;
    case 'dollar':
      return `$${segment.tag}$${segment.body}$${segment.tag}$`;
  }
}

/**
 * Splits SQL text into statements on `;` outside quotes, dollar quotes and comments. A text with the
 * keyword END outside quotes (a BEGIN ATOMIC ... END body) is kept whole, as Vault does.
 */
export function splitStatements(sql: string): string[] {
  const segments = scan(sql);
  const codeOnly = segments
    .filter((s) => s.kind === 'code')
    .map((s) => (s as { text: string }).text)
    .join(' ');
  if (/\bEND\b/.test(codeOnly)) return sql.trim() === '' ? [] : [sql.trim()];
  const statements: string[] = [];
  let current = '';
  for (const segment of segments) {
    if (segment.kind !== 'code') {
      current += rawText(segment);
      continue;
    }
    const parts = segment.text.split(';');
    current += parts[0];
    for (const part of parts.slice(1)) {
      statements.push(current);
      current = part;
    }
  }
  statements.push(current);
  return statements.map((s) => s.trim()).filter((s) => s !== '' && !/^(?:--[^\n]*\n?|\/\*[\s\S]*?\*\/|\s)*$/.test(s));
}

function substitute(text: string, values: PlaceholderValues, quote: (value: string, kind: PlaceholderKind) => string): string {
  return text.replace(PLACEHOLDER, (whole, key: string) => {
    const entry = Object.prototype.hasOwnProperty.call(values, key) ? values[key] : undefined;
    return entry ? quote(entry.value, entry.kind) : whole;
  });
}

/**
 * Fills `{{key}}` placeholders in one statement, quoting each value for where it stands: bare in code it
 * becomes a quoted identifier or literal; inside "..." its double quotes are doubled; inside '...' its
 * single quotes (and, in E'' strings, backslashes) are doubled; inside a dollar-quoted body the body is
 * treated as SQL and the value may not contain the closing tag. Placeholders in comments are refused.
 * Unknown placeholders are left as they are, as Vault does.
 */
export function renderStatement(sql: string, values: PlaceholderValues): string {
  for (const { value } of Object.values(values)) assertNoNul(value);
  let out = '';
  for (const segment of scan(sql)) {
    switch (segment.kind) {
      case 'code':
        out += substitute(segment.text, values, (v, kind) => (kind === 'identifier' ? quoteIdentifier(v) : quoteLiteral(v)));
        break;
      case 'comment':
        if (substitute(segment.text, values, () => '\u0000') !== segment.text) throw new Error('a SQL comment contains a placeholder; move it out of the comment');
        out += segment.text;
        break;
      case 'string': {
        const body = substitute(segment.body, values, (v) => {
          const escaped = segment.backslashEscapes ? v.replace(/\\/g, '\\\\') : v;
          return escaped.replace(/'/g, "''");
        });
        out += `${segment.prefix}'${body}'`;
        break;
      }
      case 'identifier': {
        const body = substitute(segment.body, values, (v) => {
          const escaped = segment.backslashEscapes ? v.replace(/\\/g, '\\\\') : v;
          return escaped.replace(/"/g, '""');
        });
        out += `${segment.prefix}"${body}"`;
        break;
      }
      case 'dollar': {
        const body = renderStatement(segment.body, values);
        const delimiter = `$${segment.tag}$`;
        if (body.includes(delimiter)) throw new Error('a substituted value would end a dollar-quoted body');
        out += `${delimiter}${body}${delimiter}`;
        break;
      }
    }
  }
  return out;
}

function decodedBase64(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed.length < 8 || trimmed.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
  // Only text that round-trips and is printable counts as a base64-encoded statement.
  if (Buffer.from(decoded, 'utf8').toString('base64') !== trimmed || /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(decoded)) return undefined;
  return decoded;
}

/**
 * Vault's statement formats: each configured string may be plain SQL, base64-encoded SQL, a JSON array
 * of statements or a base64-encoded JSON array. Returns the individual statements, split on `;`.
 */
export function expandStatements(commands: readonly string[]): string[] {
  const out: string[] = [];
  for (const command of commands) {
    const text = decodedBase64(command) ?? command;
    let pieces: string[] = [text];
    if (text.trim().startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) pieces = parsed as string[];
      } catch {
        // Not JSON: plain SQL that happens to start with a bracket.
      }
    }
    for (const piece of pieces) out.push(...splitStatements(piece));
  }
  return out;
}
