// Generic request handling for a declared backend: path matching, create-vs-update, field
// validation and unknown-field warnings. No backend routes or validates by hand.
import { z } from 'zod';
import { BadRequestError, NotFoundError, UnsupportedOperationError } from '../errors';
import type { BackendRequest, BackendResponse, CompiledPath, Operation } from './framework';
import { matchPath } from './framework';
import { type Complete, merged } from '../util/objects';

/** The request as it arrives at a mount, before validation. */
export interface IncomingRequest extends Omit<BackendRequest, 'fields' | 'operation'> {
  /** `write` is resolved to create or update by the path's existence check. */
  operation: Operation | 'write';
}

/** A request resolved to a path and an operation: the input to the ACL check. */
export interface ResolvedRequest {
  path: CompiledPath;
  operation: Operation;
  request: BackendRequest;
  /** The relative path with canonicalised captures: what the ACL must check. */
  canonicalPath: string;
  /** The request's parameters as the backend will read them (lists split, numbers parsed): what parameter constraints check. */
  effectiveData: Record<string, unknown>;
  warnings: string[];
  /** Run the handler (after the ACL has allowed the request). */
  run: () => Promise<BackendResponse | undefined>;
}

/** Turns zod's first issue into Vault-style text naming the field. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const field = issue.path.length > 0 ? issue.path.join('.') : 'request';
  return `invalid value for field "${field}": ${issue.message}`;
}

/** Applies a backend's capture canonicalisers; returns the new captures and the path rebuilt with them. */
function canonicalise(path: CompiledPath, relativePath: string, captures: Record<string, string>, canonicalCaptures: Record<string, (value: string) => string> | undefined) {
  if (!canonicalCaptures) return { captures, canonicalPath: relativePath };
  const changed: Record<string, string> = {};
  for (const [name, fn] of Object.entries(canonicalCaptures)) {
    const value = captures[name];
    if (value === undefined) continue;
    const canonical = fn(value);
    if (canonical !== value) changed[name] = canonical;
  }
  if (Object.keys(changed).length === 0) return { captures, canonicalPath: relativePath };
  // Rebuild the path from the match indices, replacing each changed capture (right to left).
  const withIndices = new RegExp(path.regex.source, 'd').exec(relativePath) as RegExpExecArray & { indices: { groups?: Record<string, [number, number] | undefined> } };
  const spans = Object.entries(changed)
    .map(([name, value]) => ({ value, span: withIndices.indices.groups?.[name] }))
    .filter((c): c is { value: string; span: [number, number] } => c.span !== undefined)
    .sort((a, b) => b.span[0] - a.span[0]);
  let canonicalPath = relativePath;
  for (const { value, span } of spans) canonicalPath = canonicalPath.slice(0, span[0]) + value + canonicalPath.slice(span[1]);
  return { captures: { ...captures, ...changed }, canonicalPath };
}

/**
 * Drops null-valued keys: all of them, or only the declared ones when `declaredOnly` is given
 * (a path that accepts any fields keeps nulls in its undeclared keys, which are data).
 */
function withoutNulls(data: Record<string, unknown>, declaredOnly: Record<string, unknown> | undefined): Record<string, unknown> {
  // fromEntries defines properties (no setters), so a `__proto__` data key stays a plain key.
  return Object.fromEntries(Object.entries(data).filter(([key, value]) => value !== null || (declaredOnly !== undefined && !Object.hasOwn(declaredOnly, key))));
}

/** Matches the path, decides the operation, and validates fields. Throws 404/405/400 as Vault would. */
export async function resolveRequest(
  compiled: CompiledPath[],
  incoming: IncomingRequest,
  canonicalCaptures?: Record<string, (value: string) => string>,
): Promise<ResolvedRequest> {
  const raw = matchPath(compiled, incoming.path);
  if (!raw) throw new NotFoundError(`no handler for route "${incoming.mountPath}${incoming.path}". route entry not found.`);
  const { captures, canonicalPath } = canonicalise(raw.path, incoming.path, raw.captures, canonicalCaptures);
  const match = { path: raw.path, captures };
  const def = match.path.definition;

  // A JSON null means "not given", as in Vault (hvac and Ansible send every unset option as null).
  // Where a path takes arbitrary data (KV secrets), undeclared keys are the data itself and keep their nulls;
  // a PATCH body is a JSON merge patch, where null means "remove this key", so it is left whole.
  const rawData = incoming.operation === 'patch' ? { ...incoming.rawData } : withoutNulls(incoming.rawData, def.acceptsAnyFields ? (def.fields?.shape ?? {}) : undefined);
  const warnings: string[] = [];
  let fields: Record<string, unknown> = merged(rawData, match.captures);
  if (def.fields) {
    const shape = def.fields.shape;
    if (!def.acceptsAnyFields) {
      const unknown = Object.keys(rawData).filter((k) => !Object.hasOwn(shape, k) && !Object.hasOwn(match.captures, k));
      if (unknown.length > 0) warnings.push(`Endpoint ignored these unrecognized parameters: [${unknown.join(' ')}]`);
    }
    const known: Record<string, unknown> = {};
    for (const k of Object.keys(shape)) if (Object.hasOwn(fields, k)) known[k] = fields[k];
    const parsed = def.fields.safeParse(known);
    if (!parsed.success) throw new BadRequestError(describeZodError(parsed.error));
    fields = merged(parsed.data, match.captures);
  }

  // Written out (see Complete): the one object every backend handler reads, so it keeps one hidden class.
  const request: BackendRequest = {
    operation: 'read',
    path: incoming.path,
    mountPath: incoming.mountPath,
    fields,
    rawData,
    identity: incoming.identity,
    clientAddress: incoming.clientAddress,
    requestId: incoming.requestId,
    mountLeaseTtl: incoming.mountLeaseTtl,
    clientToken: incoming.clientToken,
    storage: incoming.storage,
    rawBody: incoming.rawBody,
    delivery: incoming.delivery,
  } satisfies Complete<BackendRequest>;
  const effectiveData: Record<string, unknown> = {};
  for (const key of Object.keys(rawData)) effectiveData[key] = Object.hasOwn(fields, key) && !Object.hasOwn(match.captures, key) ? fields[key] : rawData[key];
  let operation: Operation;
  if (incoming.operation === 'write') {
    operation = def.existenceCheck && !(await def.existenceCheck(request)) ? 'create' : 'update';
  } else {
    operation = incoming.operation;
  }
  request.operation = operation;

  const handler = def.operations[operation] ?? (operation === 'create' ? def.operations.update : undefined);
  if (!handler) throw new UnsupportedOperationError();

  return {
    path: match.path,
    operation,
    request,
    canonicalPath,
    effectiveData,
    warnings,
    run: async () => {
      const response = await handler(request);
      if (warnings.length > 0) {
        const out = response ?? {};
        out.warnings = [...warnings, ...(out.warnings ?? [])];
        return out;
      }
      return response;
    },
  };
}
