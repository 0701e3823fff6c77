// Vault's JSON audit entry format: one request or response entry per line, secrets hashed by
// the device's AuditHasher. Field names and omit-empty behaviour follow Vault's audit/types.go.
import { BadRequestError } from '../../errors';
import type { AuditHasher, HashingOptions } from './hash';
import type { AuditAuthInput, AuditRequestInput, AuditResponseInput } from './types';
import { formatRfc3339, formatRfc3339Nano } from '../../util/time';

/** How a device lays out its lines (beyond hashing): Vault's `prefix` and `elide_list_responses`. */
export interface FormatOptions {
  /** Written before each JSON object on the same line. */
  prefix: string;
  /** For list operations, replace `keys` and `key_info` in response data by their counts. */
  elideListResponses: boolean;
}

/** The options every audit device type understands (Vault's common audit options). */
export const COMMON_OPTION_KEYS: readonly string[] = ['log_raw', 'hmac_accessor', 'format', 'prefix', 'elide_list_responses', 'fallback', 'filter', 'exclude'];

/** Parses a boolean option as Go's strconv.ParseBool does, which is what Vault accepts. */
export function parseBoolOption(options: Record<string, string>, key: string, fallback: boolean): boolean {
  const raw = options[key];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw new BadRequestError(`unable to parse '${key}': invalid boolean value`);
}

/** Validates the common options and splits them into hashing and layout settings. */
export function parseFormatOptions(options: Record<string, string>): { hashing: HashingOptions; format: FormatOptions } {
  const formatName = options.format || 'json';
  if (formatName === 'jsonx') throw new BadRequestError('audit format "jsonx" is not supported; use "json"');
  if (formatName !== 'json') throw new BadRequestError(`unsupported audit format: "${formatName}"`);
  const prefix = options.prefix ?? '';
  if (/[\r\n]/.test(prefix)) throw new BadRequestError("'prefix' must not contain a line break");
  if (parseBoolOption(options, 'fallback', false)) throw new BadRequestError("'fallback' audit devices are not supported");
  if (options.filter) throw new BadRequestError("'filter' is not supported for audit devices");
  if (options.exclude) throw new BadRequestError("'exclude' is not supported for audit devices");
  return {
    hashing: { logRaw: parseBoolOption(options, 'log_raw', false), hmacAccessor: parseBoolOption(options, 'hmac_accessor', true) },
    format: { prefix, elideListResponses: parseBoolOption(options, 'elide_list_responses', false) },
  };
}

/** The last entry time formatted: every entry of the requests served within one millisecond shares it. */
let lastEntryTime = { ms: Number.NaN, text: '' };

/** An entry's `time` (Go's RFC3339Nano), formatted once per millisecond. */
export function entryTime(ms: number): string {
  if (ms !== lastEntryTime.ms) lastEntryTime = { ms, text: formatRfc3339Nano(ms) };
  return lastEntryTime.text;
}

const ROOT_NAMESPACE = Object.freeze({ id: 'root' });
/** What Vault writes for an unauthenticated request: a zero Auth whose token type prints as "default". */
const NO_AUTH = Object.freeze({ token_type: 'default' });

const epochMs = (t: Date | number | string): number => (typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime());
const validMs = (ms: number): boolean => Number.isFinite(ms) && ms > 0;
// Go's omitempty: empty strings, zeros and empty collections are left out of the line.
const str = (v: string | undefined): string | undefined => (v ? v : undefined);
const num = (v: number | undefined): number | undefined => (v ? v : undefined);
const list = <T>(v: T[] | undefined): T[] | undefined => (v && v.length > 0 ? v : undefined);
const map = <T extends object>(v: T | undefined): T | undefined => (v && Object.keys(v).length > 0 ? v : undefined);

/** The caller's token and accessor hashed once per entry: each appears in both the auth and request blocks. */
interface CallerHashes {
  token: string | undefined;
  accessor: string | undefined;
  /** The serialised auth block, once built for a caller record (it depends on that record alone). */
  authJson?: string;
}

function callerHashes(input: AuditRequestInput, h: AuditHasher): CallerHashes {
  const hash = (): CallerHashes => ({ token: h.token(input.clientToken), accessor: h.accessor(input.clientTokenAccessor) });
  return input.callerRecord ? h.memoised(input.callerRecord, hash) : hash();
}

function authBlock(input: AuditRequestInput, caller: CallerHashes, h: AuditHasher): object {
  const auth = input.auth;
  const hashedToken = caller.token;
  if (!auth) return hashedToken ? { client_token: hashedToken, token_type: 'default' } : NO_AUTH;
  const issueMs = epochMs(auth.tokenIssueTime);
  const policies = list(auth.policies);
  return {
    accessor: auth.accessor === input.clientTokenAccessor ? caller.accessor : h.accessor(auth.accessor),
    client_token: hashedToken,
    display_name: str(auth.displayName),
    entity_id: str(auth.entityId),
    metadata: map(auth.metadata),
    policies,
    token_policies: policies,
    token_issue_time: validMs(issueMs) ? formatRfc3339(issueMs) : undefined,
    token_ttl: num(auth.tokenTtlSeconds),
    token_type: auth.tokenType || 'default',
  };
}

function requestBlock(input: AuditRequestInput, caller: CallerHashes, h: AuditHasher): object {
  return {
    client_token: caller.token,
    client_token_accessor: caller.accessor,
    data: map(h.data(input.data, input.nonHmacRequestKeys)),
    id: input.requestId,
    mount_accessor: str(input.mountAccessor),
    mount_point: str(input.mountPoint),
    mount_type: str(input.mountType),
    namespace: ROOT_NAMESPACE,
    operation: input.operation,
    path: input.path,
    remote_address: str(input.remoteAddress),
    remote_port: num(input.remotePort),
    wrap_ttl: num(input.wrapTtlSeconds),
    // A reason, not a secret: reviewers read it, so it is not hashed. Absent when none was given.
    ...(input.justification ? { justification: input.justification } : {}),
  };
}

/** Vault's elide_list_responses: a list's keys become a count, so huge listings do not flood the log. */
function elideList(data: Record<string, unknown>): Record<string, unknown> {
  const out = { ...data };
  if (Array.isArray(out.keys)) out.keys = out.keys.length;
  if (out.key_info && typeof out.key_info === 'object' && !Array.isArray(out.key_info)) out.key_info = Object.keys(out.key_info).length;
  return out;
}

/**
 * The hashed auth and request blocks of one request as JSON text, shared by its request and response
 * entries: each is hashed and serialised once per request, not once per entry.
 */
interface RequestBlocks {
  auth: string;
  request: string;
}

interface PendingRequest {
  blocks: RequestBlocks;
  data: Record<string, unknown>;
  auth: AuditRequestInput['auth'];
  clientToken: string | undefined;
  operation: string;
  path: string;
}

/** Requests whose response has not been logged yet, per device; bounded for requests that never get one. */
const MAX_PENDING = 1024;

function requestBlocks(input: AuditRequestInput, h: AuditHasher): RequestBlocks {
  const caller = callerHashes(input, h);
  const auth = input.callerRecord ? (caller.authJson ??= JSON.stringify(authBlock(input, caller, h))) : JSON.stringify(authBlock(input, caller, h));
  return { auth, request: JSON.stringify(requestBlock(input, caller, h)) };
}

/**
 * One entry as a line: the same bytes as JSON.stringify of `{time, auth, error, request, response, type}`
 * (Vault's field order, `error` and `response` left out when absent), spliced from pre-serialised blocks.
 */
function entryLine(prefix: string, time: string, blocks: RequestBlocks, error: string | undefined, response: string | undefined, type: 'request' | 'response'): string {
  const errorField = error ? `,"error":${JSON.stringify(error)}` : '';
  const responseField = response === undefined ? '' : `,"response":${response}`;
  return `${prefix}{"time":${JSON.stringify(time)},"auth":${blocks.auth}${errorField},"request":${blocks.request}${responseField},"type":"${type}"}\n`;
}

/**
 * Formats one device's entries as complete lines (prefix, JSON, newline). The hashed and serialised
 * request blocks are kept from a request entry until its response entry (by request id), so each
 * request's token, accessor and data are hashed and serialised once, not twice.
 * Only hashed values are kept: under `log_raw` nothing is remembered.
 */
export class EntryFormatter {
  private readonly pending = new Map<string, PendingRequest>();

  constructor(
    readonly hasher: AuditHasher,
    readonly options: FormatOptions,
  ) {}

  /** The `request` entry, written before the backend runs. */
  requestLine(input: AuditRequestInput, time: string): string {
    const blocks = requestBlocks(input, this.hasher);
    if (!this.hasher.options.logRaw) this.remember(input, blocks);
    return entryLine(this.options.prefix, time, blocks, input.error, undefined, 'request');
  }

  /** The `response` entry: the request block repeated as Vault does, plus what the backend answered. */
  responseLine(input: AuditResponseInput, time: string): string {
    const blocks = this.take(input) ?? requestBlocks(input, this.hasher);
    return entryLine(this.options.prefix, time, blocks, input.error, JSON.stringify(this.responseBlock(input)), 'response');
  }

  /** Forgets pending requests (on seal or disable). */
  clear(): void {
    this.pending.clear();
  }

  private remember(input: AuditRequestInput, blocks: RequestBlocks): void {
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next();
      if (!oldest.done) this.pending.delete(oldest.value);
    }
    this.pending.set(input.requestId, { blocks, data: input.data, auth: input.auth, clientToken: input.clientToken, operation: input.operation, path: input.path });
  }

  /** The remembered blocks, if the response describes the same request as the request entry did. */
  private take(input: AuditRequestInput): RequestBlocks | undefined {
    const pending = this.pending.get(input.requestId);
    if (!pending) return undefined;
    this.pending.delete(input.requestId);
    const same =
      pending.data === input.data && pending.auth === input.auth && pending.clientToken === input.clientToken && pending.operation === input.operation && pending.path === input.path;
    return same ? pending.blocks : undefined;
  }

  private responseBlock(input: AuditResponseInput): object {
    const h = this.hasher;
    const resp = input.response;
    if (!resp) return { mount_accessor: str(input.mountAccessor), mount_point: str(input.mountPoint), mount_type: str(input.mountType) };
    let data = resp.data;
    if (data && this.options.elideListResponses && input.operation === 'list') data = elideList(data);
    const auth = resp.auth;
    const wrap = resp.wrapInfo;
    const policies = auth ? list(auth.policies) : undefined;
    const wrapCreatedMs = wrap ? epochMs(wrap.creationTime) : NaN;
    return {
      auth: auth && {
        accessor: h.accessor(auth.accessor),
        client_token: h.token(auth.clientToken),
        display_name: str(auth.displayName),
        entity_id: str(auth.entityId),
        metadata: map(auth.metadata),
        num_uses: num(auth.numUses),
        policies,
        token_policies: policies,
        token_ttl: num(auth.leaseDurationSeconds),
        token_type: auth.tokenType || 'default',
      },
      data: map(h.data(data, input.nonHmacResponseKeys)),
      mount_accessor: str(resp.mountAccessor ?? input.mountAccessor),
      mount_point: str(resp.mountPoint ?? input.mountPoint),
      mount_type: str(resp.mountType),
      secret: resp.secret && resp.secret.leaseId ? { lease_id: resp.secret.leaseId } : undefined,
      wrap_info: wrap && {
        accessor: h.accessor(wrap.accessor),
        creation_path: str(wrap.creationPath),
        creation_time: validMs(wrapCreatedMs) ? formatRfc3339Nano(wrapCreatedMs) : undefined,
        token: h.token(wrap.token),
        ttl: num(wrap.ttlSeconds),
      },
      warnings: list(resp.warnings),
    };
  }
}
