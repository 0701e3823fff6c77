// The snapshot file format, on its own (no SQLite) so the CLI can check a file before it sends it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Layout: MAGIC (8 bytes) | header length (uint32 BE) | header (JSON, UTF-8) | content (the SQLite
 * database file) | SHA-256 of everything before it (32 bytes). The digest is a check against torn
 * and edited files, not a signature: anyone can write a valid file, and restoring one still needs
 * the unseal shares its keyring was sealed with.
 */
export const SNAPSHOT_MAGIC = Buffer.from('LHSNAP\r\n', 'latin1');
export const SNAPSHOT_FORMAT_VERSION = 1;
const DIGEST_BYTES = 32;
const MAX_HEADER_BYTES = 64 * 1024;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

const headerSchema = z
  .object({
    format_version: z.number().int().describe('snapshot file format version'),
    created_at: z.string().max(64).describe('when the copy was taken (RFC 3339)'),
    cluster_id: z.string().max(64).optional().describe('the cluster id of the vault the copy was taken from'),
    schema_version: z.number().int().min(0).describe('the highest migration applied in the copy'),
    content_bytes: z.number().int().min(0).describe('length of the database file that follows the header'),
  })
  .strict();

/** A snapshot file's header. */
export type SnapshotHeader = z.infer<typeof headerSchema>;

/** A snapshot file that cannot be restored: torn, edited, or not a snapshot at all. The message names the problem, never the content. */
export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFormatError';
  }
}

/** What a snapshot file records about its copy. */
export interface SnapshotMeta {
  createdAt: Date;
  clusterId?: string;
  schemaVersion: number;
}

function headerBytes(contentLength: number, meta: SnapshotMeta): Buffer {
  const header: SnapshotHeader = {
    format_version: SNAPSHOT_FORMAT_VERSION,
    created_at: meta.createdAt.toISOString(),
    ...(meta.clusterId ? { cluster_id: meta.clusterId } : {}),
    schema_version: meta.schemaVersion,
    content_bytes: contentLength,
  };
  return Buffer.from(JSON.stringify(header), 'utf8');
}

/** The file laid out with room for the digest at its end; returns the file and where the digest goes. */
function layout(content: Buffer, meta: SnapshotMeta): { out: Buffer; digestAt: number } {
  const header = headerBytes(content.length, meta);
  const out = Buffer.allocUnsafe(SNAPSHOT_MAGIC.length + 4 + header.length + content.length + DIGEST_BYTES);
  let at = SNAPSHOT_MAGIC.copy(out, 0);
  at = out.writeUInt32BE(header.length, at);
  at += header.copy(out, at);
  at += content.copy(out, at);
  return { out, digestAt: at };
}

/** Wraps a database file's bytes in the snapshot format. */
export function encodeSnapshot(content: Buffer, meta: SnapshotMeta): Buffer {
  const { out, digestAt } = layout(content, meta);
  createHash('sha256').update(out.subarray(0, digestAt)).digest().copy(out, digestAt);
  return out;
}

/**
 * encodeSnapshot for a server that keeps serving: the SHA-256 is computed 8 MiB at a time with the
 * event loop free in between (hashing a gigabyte in one go would stall every request for seconds).
 */
export async function encodeSnapshotYielding(content: Buffer, meta: SnapshotMeta): Promise<Buffer> {
  const { out, digestAt } = layout(content, meta);
  const hash = createHash('sha256');
  const step = 8 * 1024 * 1024;
  for (let offset = 0; offset < digestAt; offset += step) {
    hash.update(out.subarray(offset, Math.min(offset + step, digestAt)));
    if (offset + step < digestAt) await new Promise((resolve) => setImmediate(resolve));
  }
  hash.digest().copy(out, digestAt);
  return out;
}

/** Checks a snapshot file and returns its header and database bytes (a view into `file`); throws SnapshotFormatError. */
export function decodeSnapshot(file: Buffer): { header: SnapshotHeader; content: Buffer } {
  const fixed = SNAPSHOT_MAGIC.length + 4;
  if (file.length < fixed + DIGEST_BYTES || !file.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
    throw new SnapshotFormatError('not a Leasehold snapshot file (bad magic or too short)');
  }
  const headerLength = file.readUInt32BE(SNAPSHOT_MAGIC.length);
  if (headerLength > MAX_HEADER_BYTES || fixed + headerLength + DIGEST_BYTES > file.length) {
    throw new SnapshotFormatError('snapshot file is truncated (the header runs past the end of the file)');
  }
  let header: SnapshotHeader;
  try {
    const parsed = headerSchema.safeParse(JSON.parse(file.subarray(fixed, fixed + headerLength).toString('utf8')));
    if (!parsed.success) throw new Error('invalid');
    header = parsed.data;
  } catch {
    throw new SnapshotFormatError('snapshot file has a damaged header');
  }
  if (header.format_version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotFormatError(`snapshot file format version ${header.format_version} is not supported (this server reads version ${SNAPSHOT_FORMAT_VERSION})`);
  }
  const contentStart = fixed + headerLength;
  const expectedLength = contentStart + header.content_bytes + DIGEST_BYTES;
  if (file.length < expectedLength) throw new SnapshotFormatError('snapshot file is truncated');
  if (file.length > expectedLength) throw new SnapshotFormatError('snapshot file has trailing data after its checksum');
  const digest = createHash('sha256').update(file.subarray(0, expectedLength - DIGEST_BYTES)).digest();
  if (!timingSafeEqual(digest, file.subarray(expectedLength - DIGEST_BYTES))) {
    throw new SnapshotFormatError('snapshot checksum mismatch: the file is damaged or was edited');
  }
  const content = file.subarray(contentStart, contentStart + header.content_bytes);
  if (!content.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) throw new SnapshotFormatError('snapshot content is not a database');
  return { header, content };
}

