// Runs the `leasehold` CLI as a child process against a real in-process dev server, for the e2e tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../../src/server';

const repoRoot = path.resolve(__dirname, '../..');

/** The dev server's root token. */
export const ROOT_TOKEN = 'root';

/** What one CLI run left behind. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `leasehold ARGS` as a child process against `address`, with `token` (if any) as
 * LEASEHOLD_TOKEN and no VAULT_* variables, feeding `input` to stdin.
 */
export function runCli(address: string, args: string[], options: { token?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, LEASEHOLD_ADDR: address };
  delete env.VAULT_ADDR;
  delete env.VAULT_TOKEN;
  delete env.LEASEHOLD_TOKEN;
  if (options.token !== undefined) env.LEASEHOLD_TOKEN = options.token;
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A dev server, a scratch directory, and a way to run the CLI against the server. */
export interface CliHarness {
  readonly workDir: string;
  /** The dev server's base URL. */
  readonly url: string;
  /** Runs `leasehold ARGS` with the root token (or `token`), feeding `input` to stdin. */
  cli(args: string[], options?: { token?: string; input?: string; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** Stops the server and removes the scratch directory. */
  close(): Promise<void>;
}

/** Starts a dev server on a free port and a scratch directory for files the commands read or write. */
export async function startCliHarness(): Promise<CliHarness> {
  const server = await startServer({ dev: true, listen: '127.0.0.1:0', devRootTokenId: ROOT_TOKEN, logLevel: 'silent' });
  const workDir = mkdtempSync(path.join(tmpdir(), 'leasehold-cli-'));
  return {
    workDir,
    url: server.url,
    cli(args, options = {}) {
      return runCli(server.url, args, { token: options.token ?? ROOT_TOKEN, input: options.input, env: options.env });
    },
    async close() {
      await server.close();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** Starts a harness before the file's tests and closes it after them; `cli` and `workDir` work inside tests. */
export function useCliHarness(): Pick<CliHarness, 'cli'> & { workDir(): string } {
  let harness: CliHarness | undefined;
  beforeAll(async () => {
    harness = await startCliHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });
  const started = (): CliHarness => {
    if (harness === undefined) throw new Error('the CLI harness is not started');
    return harness;
  };
  return { cli: (args, options) => started().cli(args, options), workDir: () => started().workDir };
}
