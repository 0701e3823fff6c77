// Parses `k=v` command-line data the way Vault's CLI does: `k=@file`, `k=-`, `@file.json`, `-` (JSON on stdin).
import { readFile } from 'node:fs/promises';
import { isRecord } from './client';
import { readAllStdin } from './terminal';

/** Where file and stdin contents come from; injected so the parser stays pure in tests. */
export interface KeyValueSources {
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
}

/** The real file system and process stdin. */
export const processSources: KeyValueSources = {
  readFile: (path) => readFile(path, 'utf8'),
  readStdin: () => readAllStdin(process.stdin),
};

/** A user mistake in the data arguments; the message never contains a value, only keys and file names. */
export class KeyValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyValueError';
  }
}

/**
 * Builds the request data from arguments, following Vault's kvbuilder:
 * - `-` merges a JSON object read from stdin, `@path` merges a JSON object read from a file;
 * - `k=v` splits on the first `=`, so values may contain `=`;
 * - `k=@path` is the file's contents, `k=\@x` is the literal `@x`, `k=-` is all of stdin;
 * - a repeated key becomes an array of its values.
 * Stdin can be consumed once. Keys go through a Map, so `__proto__` is an ordinary key.
 */
export async function parseKeyValueArgs(args: readonly string[], sources: KeyValueSources): Promise<Record<string, unknown>> {
  const result = new Map<string, unknown>();
  let stdinUsed = false;
  const takeStdin = async (): Promise<string> => {
    if (stdinUsed) throw new KeyValueError('stdin already consumed: "-" may appear only once');
    stdinUsed = true;
    return sources.readStdin();
  };
  const mergeJson = (text: string, origin: string): void => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new KeyValueError(`${origin} is not valid JSON`);
    }
    if (!isRecord(parsed)) throw new KeyValueError(`${origin} must hold a JSON object`);
    for (const key of Object.keys(parsed)) result.set(key, parsed[key]);
  };

  for (const [index, arg] of args.entries()) {
    if (arg === '-') {
      mergeJson(await takeStdin(), 'stdin');
      continue;
    }
    if (arg.startsWith('@')) {
      const path = arg.slice(1);
      mergeJson(await readNamedFile(sources, path), `file ${JSON.stringify(path)}`);
      continue;
    }
    const separator = arg.indexOf('=');
    if (separator <= 0) {
      // The argument is not echoed: it may be a secret typed without its key.
      throw new KeyValueError(`data argument ${index + 1} ${separator === 0 ? 'has an empty key' : 'has no "="'}: format must be key=value`);
    }
    const key = arg.slice(0, separator);
    let value = arg.slice(separator + 1);
    if (value.startsWith('@')) {
      value = await readNamedFile(sources, value.slice(1));
    } else if (value.startsWith('\\@')) {
      value = value.slice(1);
    } else if (value === '-') {
      value = await takeStdin();
    }
    const existing = result.get(key);
    if (result.has(key)) result.set(key, Array.isArray(existing) ? [...existing, value] : [existing, value]);
    else result.set(key, value);
  }
  return Object.fromEntries(result);
}

async function readNamedFile(sources: KeyValueSources, path: string): Promise<string> {
  if (path === '') throw new KeyValueError('"@" must be followed by a file name');
  try {
    return await sources.readFile(path);
  } catch (error) {
    throw new KeyValueError(fileErrorMessage(path, error));
  }
}

/** `cannot read file "x" (ENOENT)`: a failed read named by path and error code, never by contents. */
export function fileErrorMessage(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return `cannot read file ${JSON.stringify(path)}${code ? ` (${code})` : ''}`;
}

/**
 * Repeatable `-flag k=v` options (`-options`, `-custom-metadata`): plain strings split on the
 * first `=`, with none of the file or stdin forms of data arguments.
 */
export function parseFlagPairs(flag: string, values: readonly string[]): Record<string, string> {
  const result = new Map<string, string>();
  for (const value of values) {
    const separator = value.indexOf('=');
    if (separator <= 0) throw new KeyValueError(`-${flag} must be key=value`);
    result.set(value.slice(0, separator), value.slice(separator + 1));
  }
  return Object.fromEntries(result);
}
