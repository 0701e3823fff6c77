// The `file` audit device's sink: appends each entry to a file with one synchronous write, so the
// line is on disk (in the page cache) before the vault answers. `stdout` and `discard` as in Vault.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadRequestError } from '../../errors';

/** The option keys the file device itself reads (the common formatting options are separate). */
export const FILE_OPTION_KEYS: readonly string[] = ['file_path', 'path', 'mode'];

/** A validated file device configuration. */
export interface FileDeviceConfig {
  /** An absolute path, or the keywords `stdout` / `discard`. */
  filePath: string;
  /** Permission bits to apply to a regular file; 0 means "leave the mode alone" (Vault's `mode=0000`). */
  modeBits: number;
}

const DEFAULT_MODE = 0o600;
const EXECUTE_BITS = 0o111;
const WORLD_WRITE_BIT = 0o002;
/** How long a write may wait on a non-blocking descriptor (a full pipe on stdout) before it fails. */
const MAX_BLOCKED_MS = 1000;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Validates `file_path` (or its old alias `path`) and `mode`; throws 400 naming the option. */
export function parseFileDeviceOptions(options: Record<string, string>): FileDeviceConfig {
  const filePath = options.file_path || options.path || '';
  if (!filePath) throw new BadRequestError("'file_path' must be set");
  if (filePath.includes('\0')) throw new BadRequestError("'file_path' must not contain a NUL byte");
  if (filePath !== 'stdout' && filePath !== 'discard' && !path.isAbsolute(filePath)) {
    throw new BadRequestError("'file_path' must be an absolute path, \"stdout\" or \"discard\"");
  }
  let modeBits = DEFAULT_MODE;
  const rawMode = options.mode;
  if (rawMode !== undefined && rawMode !== '') {
    if (!/^[0-7]{1,4}$/.test(rawMode)) throw new BadRequestError("'mode' must be an octal file mode such as \"0600\"");
    modeBits = parseInt(rawMode, 8);
    if (modeBits > 0o777) throw new BadRequestError("'mode' must not set the setuid, setgid or sticky bits");
    if (modeBits & EXECUTE_BITS) throw new BadRequestError("'mode' must not grant execute permission");
    if (modeBits & WORLD_WRITE_BIT) throw new BadRequestError("'mode' must not make the file world-writable");
  }
  return { filePath, modeBits };
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
}

/** Refuses anything but a regular file or a character device, and unsafe regular files. */
function checkTarget(stat: fs.Stats, filePath: string): void {
  if (stat.isSymbolicLink()) throw new BadRequestError(`audit file "${filePath}" is a symbolic link`);
  if (stat.isDirectory()) throw new BadRequestError(`audit file "${filePath}" is a directory`);
  if (stat.isCharacterDevice()) return;
  if (!stat.isFile()) throw new BadRequestError(`audit file "${filePath}" is not a regular file or character device`);
  if (stat.mode & EXECUTE_BITS) throw new BadRequestError(`audit file "${filePath}" is executable`);
  if (stat.mode & WORLD_WRITE_BIT) throw new BadRequestError(`audit file "${filePath}" is world-writable`);
}

/**
 * Opens (creating if needed) an audit file for appending. The final component must not be a
 * symlink (O_NOFOLLOW closes the race with the lstat check); O_NONBLOCK keeps a FIFO swapped in
 * from hanging the server; the opened descriptor is checked again with fstat.
 */
function openAuditFile(filePath: string, modeBits: number): number {
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(filePath);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw new BadRequestError(`cannot inspect audit file "${filePath}": ${errorCode(err)}`);
  }
  if (existing) checkTarget(existing, filePath);

  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(filePath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, modeBits || DEFAULT_MODE);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ELOOP') throw new BadRequestError(`audit file "${filePath}" is a symbolic link`);
    if (code === 'EISDIR') throw new BadRequestError(`audit file "${filePath}" is a directory`);
    throw new BadRequestError(`cannot open audit file "${filePath}": ${code}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    checkTarget(stat, filePath);
    if (stat.isFile() && modeBits !== 0 && (stat.mode & 0o777) !== modeBits) fs.fchmodSync(fd, modeBits);
  } catch (err) {
    fs.closeSync(fd);
    if (err instanceof BadRequestError) throw err;
    throw new BadRequestError(`cannot set the mode of audit file "${filePath}": ${errorCode(err)}`);
  }
  return fd;
}

/** Writes all of `bytes`, retrying partial writes and, briefly, a descriptor that would block. */
function writeFully(fd: number, bytes: Buffer): void {
  let offset = 0;
  let waitedMs = 0;
  while (offset < bytes.length) {
    let written = 0;
    try {
      written = fs.writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (err) {
      if (errorCode(err) !== 'EAGAIN') throw err;
    }
    if (written > 0) {
      offset += written;
      continue;
    }
    if (waitedMs >= MAX_BLOCKED_MS) throw Object.assign(new Error('audit write would block'), { code: 'EAGAIN' });
    Atomics.wait(sleepCell, 0, 0, 1);
    waitedMs += 1;
  }
}

/**
 * The sink of one file audit device. `write` is synchronous and throws on any failure so the
 * broker can fail closed; a device that could not be opened retries opening on the next write,
 * so fixing the file on disk restores auditing without a restart.
 */
export class FileDevice {
  private fd: number | undefined;

  constructor(readonly config: FileDeviceConfig) {}

  /** Whether a descriptor is held (always true for `stdout` and `discard` once opened). */
  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Validates and opens the target; throws BadRequestError describing why it is refused. */
  open(): void {
    if (this.fd !== undefined) return;
    this.fd = this.openTarget();
  }

  /** Appends one complete line with a single synchronous write (per chunk the kernel accepts). */
  write(line: string): void {
    if (this.config.filePath === 'discard') return;
    if (this.fd === undefined) this.open();
    const fd = this.fd as number;
    // A regular file's end before the write: a failed write (disk full, file size limit) may have
    // appended part of the line, and the file is cut back so it never holds a truncated JSON line.
    let endBefore: number | undefined;
    try {
      const stat = fs.fstatSync(fd);
      if (stat.isFile()) endBefore = stat.size;
    } catch {
      // Not stat-able (a closed stdout): the write below reports the failure.
    }
    try {
      writeFully(fd, Buffer.from(line, 'utf8'));
    } catch (err) {
      if (endBefore !== undefined) {
        try {
          fs.ftruncateSync(fd, endBefore);
        } catch {
          // The write error is the one to report; the broker fails the request closed either way.
        }
      }
      throw err;
    }
  }

  /**
   * Closes and reopens the file, for log rotation on SIGHUP. The new file is opened first; if that
   * fails, the old descriptor is kept (entries keep landing in the rotated file) and the error is thrown.
   */
  reopen(): void {
    const fresh = this.openTarget();
    this.closeDescriptor();
    this.fd = fresh;
  }

  /** Releases the descriptor (stdout is never closed). */
  close(): void {
    this.closeDescriptor();
  }

  private openTarget(): number {
    const { filePath, modeBits } = this.config;
    if (filePath === 'discard') return -1;
    if (filePath === 'stdout') return process.stdout.fd ?? 1;
    return openAuditFile(filePath, modeBits);
  }

  private closeDescriptor(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined || fd < 0 || this.config.filePath === 'stdout') return;
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed or invalid: nothing left to release.
    }
  }
}
