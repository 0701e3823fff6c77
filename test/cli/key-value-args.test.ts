// k=v data parsing: `=` in values, @file, stdin, repeated keys, and errors that do not echo values.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyValueError, type KeyValueSources, parseFlagPairs, parseKeyValueArgs, processSources } from '../../src/cli/key-value-args';

function sources(files: Record<string, string> = {}, stdin = ''): KeyValueSources & { stdinReads: number } {
  const result = {
    stdinReads: 0,
    readFile: async (file: string) => {
      const text = files[file];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
      return text;
    },
    readStdin: async () => {
      result.stdinReads += 1;
      return stdin;
    },
  };
  return result;
}

describe('parseKeyValueArgs', () => {
  it('splits on the first "=" so values may contain "="', async () => {
    await expect(parseKeyValueArgs(['a=b', 'conn=host=db;user=x', 'empty='], sources())).resolves.toEqual({
      a: 'b',
      conn: 'host=db;user=x',
      empty: '',
    });
  });

  it('reads k=@file as the file contents, verbatim', async () => {
    await expect(parseKeyValueArgs(['cert=@/tmp/cert.pem'], sources({ '/tmp/cert.pem': 'line1\nline2\n' }))).resolves.toEqual({
      cert: 'line1\nline2\n',
    });
  });

  it('reads a real file through processSources', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'leasehold-kv-'));
    try {
      const file = path.join(dir, 'value.txt');
      writeFileSync(file, 'from=disk');
      await expect(parseKeyValueArgs([`v=@${file}`], processSources)).resolves.toEqual({ v: 'from=disk' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a literal "@" written as "\\@"', async () => {
    await expect(parseKeyValueArgs(['email=\\@handle'], sources())).resolves.toEqual({ email: '@handle' });
  });

  it('merges a JSON object from "-" (stdin) and from @file.json, later arguments winning', async () => {
    const src = sources({ 'extra.json': '{"b": 2, "nested": {"x": true}}' }, '{"a": "1", "b": "stdin"}');
    await expect(parseKeyValueArgs(['-', '@extra.json', 'c=3'], src)).resolves.toEqual({ a: '1', b: 2, nested: { x: true }, c: '3' });
  });

  it('reads k=- as all of stdin, and refuses to read stdin twice', async () => {
    const src = sources({}, 'piped value');
    await expect(parseKeyValueArgs(['v=-'], src)).resolves.toEqual({ v: 'piped value' });
    await expect(parseKeyValueArgs(['v=-', '-'], sources({}, '{}'))).rejects.toThrow(/stdin already consumed/);
  });

  it('turns a repeated key into an array', async () => {
    await expect(parseKeyValueArgs(['p=a', 'p=b', 'p=c'], sources())).resolves.toEqual({ p: ['a', 'b', 'c'] });
  });

  it('treats __proto__ as an ordinary key', async () => {
    const result = await parseKeyValueArgs(['__proto__=x'], sources());
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__']);
  });

  it('rejects an argument without a key, never echoing it', async () => {
    const error = await parseKeyValueArgs(['ok=1', 'hunter2-secret'], sources()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyValueError);
    expect((error as Error).message).toContain('data argument 2');
    expect((error as Error).message).not.toContain('hunter2');
    await expect(parseKeyValueArgs(['=value'], sources())).rejects.toThrow(/empty key/);
  });

  it('reports unreadable files and non-object JSON by name only', async () => {
    await expect(parseKeyValueArgs(['k=@missing.txt'], sources())).rejects.toThrow('cannot read file "missing.txt" (ENOENT)');
    await expect(parseKeyValueArgs(['-'], sources({}, '[1,2]'))).rejects.toThrow('stdin must hold a JSON object');
    const bad = await parseKeyValueArgs(['-'], sources({}, '{"password": "s3cret"')).catch((e: unknown) => e as Error);
    expect(bad.message).toBe('stdin is not valid JSON');
  });
});

describe('parseFlagPairs', () => {
  it('parses repeatable k=v flags as plain strings', () => {
    expect(parseFlagPairs('custom-metadata', ['owner=team-a', 'url=https://x?a=b', 'raw=@file'])).toEqual({
      owner: 'team-a',
      url: 'https://x?a=b',
      raw: '@file',
    });
    expect(() => parseFlagPairs('options', ['novalue'])).toThrow('-options must be key=value');
  });
});
