// Tracks what the bench leaves behind (temp dirs, child processes) and removes it on every way out, errors and signals included.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const tempDirs = new Set<string>();
const children = new Set<ChildProcess>();
const exitTasks = new Set<() => void>();

/** A fresh private temp dir, removed at exit if the scenario did not remove it itself. */
export function makeTempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `leasehold-bench-${label}-`));
  tempDirs.add(dir);
  return dir;
}

/** Removes a temp dir now (scenarios call this in `finally` to free disk between scenarios). */
export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Registers a child process so that it is killed if the bench exits while it is still running. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * Registers synchronous clean-up for something that is not a tracked child (a daemonised PostgreSQL).
 * Returns a function that unregisters it once the scenario has cleaned up by itself.
 */
export function onExit(task: () => void): () => void {
  exitTasks.add(task);
  return () => exitTasks.delete(task);
}

/** Synchronous last resort: run exit tasks, SIGKILL every live child and delete every temp dir. Safe to call twice. */
function cleanupNow(): void {
  for (const task of exitTasks) {
    try {
      task();
    } catch (error) {
      process.stderr.write(`bench clean-up: ${(error as Error).message}\n`);
    }
  }
  exitTasks.clear();
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Installs the exit and signal handlers; call once from the entry point. */
export function installCleanupHandlers(): void {
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      cleanupNow();
      process.exit(130);
    });
  }
}

/** Runs `fn` with a fresh temp dir and removes the dir afterwards, whatever happens. */
export async function withTempDir<T>(label: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(label);
  try {
    return await fn(dir);
  } finally {
    removeTempDir(dir);
  }
}
