// The Express app: Vault's wire protocol over the core. Maps methods to operations, parses and
// bounds input, and writes responses with exactly `Content-Type: application/json`.
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { UnsupportedMediaTypeError, UnsupportedOperationError } from '../errors';
import type { Operation } from '../core/framework';
import type { Vault } from '../core/vault';
import { WEBHOOK_DELIVER_PATH, WEBHOOK_HEADERS, WEBHOOK_MAX_BODY_BYTES } from '../core/governance/webhooks';
import type { WebhookDelivery } from '../core/framework';
import type { Logger } from '../logger';
import { consoleRouter } from './console';
import { errorToResponse } from './errors';
import { LIST_HEADER } from './list-method';
import { parseGoBool } from './parse-bool';
import { emptySegmentRedirect } from './path-redirect';
import { type BodyLimits, canonicalPath, DEFAULT_BODY_LIMITS, parseJsonBody, queryData, readBody } from './request-parsing';

/** Options for the HTTP layer. */
export interface AppOptions {
  /** The vault, or how to find the current one (a snapshot restore replaces the server's vault). */
  vault: Vault | (() => Vault);
  logger: Logger;
  bodyLimits?: BodyLimits;
  /** Largest snapshot file sys/storage/snapshot-restore accepts (default 1 GiB); every other route keeps bodyLimits. */
  snapshotMaxBytes?: number;
  /** The console's built files (default dist/console), or false to serve no console (`ui = false`). */
  console?: string | false;
}

/** The one route whose body is not JSON: a snapshot file. */
const SNAPSHOT_RESTORE_PATH = 'sys/storage/snapshot-restore';

/** Default ceiling of a snapshot upload. */
export const DEFAULT_SNAPSHOT_MAX_BYTES = 1024 * 1024 * 1024;

/** The logical operation for an HTTP method, as Vault maps them. */
function operationFor(req: Request, query: Record<string, unknown>): Operation | 'write' {
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return req.headers[LIST_HEADER] === '1' || (query.list !== undefined && query.list !== '' && parseGoBool('list', query.list)) ? 'list' : 'read';
    case 'POST':
    case 'PUT':
      return 'write';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return 'patch';
    default:
      throw new UnsupportedOperationError(`unsupported method ${req.method.slice(0, 16)}`);
  }
}

/** The client's token from `X-Vault-Token` or `Authorization: Bearer`. */
function tokenFrom(req: Request): string | undefined {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return undefined;
}

/**
 * A CI system's webhook delivery: its exact body bytes (the signature covers them, so they are not
 * parsed here) up to the deliver routes' own limit, and the headers the receiver reads.
 */
async function webhookDelivery(req: Request): Promise<WebhookDelivery> {
  const body = await readBody(req, WEBHOOK_MAX_BODY_BYTES);
  const headers: Record<string, string> = {};
  for (const name of WEBHOOK_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string' && value.length <= 1024) headers[name] = value;
  }
  return { body, headers };
}

/**
 * Writes the whole response: status and headers in one writeHead (no per-header setHeader calls),
 * then the body: JSON, or a string sent as is when the core gave its content type (sys/metrics).
 */
function send(res: Response, statusCode: number, body: unknown, head: boolean, contentType?: string): void {
  if (body === undefined || statusCode === 204) {
    res.writeHead(statusCode, { 'Cache-Control': 'no-store' }).end();
    return;
  }
  if (Buffer.isBuffer(body)) {
    // A snapshot file: bytes, not JSON.
    res.writeHead(statusCode, { 'Cache-Control': 'no-store', 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(head ? undefined : body);
    return;
  }
  const typed = contentType !== undefined && typeof body === 'string';
  const text = typed ? body : JSON.stringify(body);
  res.writeHead(statusCode, { 'Cache-Control': 'no-store', 'Content-Type': typed ? contentType : 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

/** Builds the Express app serving `/v1/` for `vault`. */
export function createApp(options: AppOptions): express.Express {
  const { logger } = options;
  const given = options.vault;
  const currentVault: () => Vault = typeof given === 'function' ? given : () => given;
  const snapshotMaxBytes = options.snapshotMaxBytes ?? DEFAULT_SNAPSHOT_MAX_BYTES;
  const limits = options.bodyLimits ?? DEFAULT_BODY_LIMITS;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  if (options.console !== false) app.use(consoleRouter(options.console));

  app.use(async (req: Request, res: Response) => {
    const requestId = randomUUID();
    const vault = currentVault();
    try {
      const rawTarget = req.originalUrl;
      const redirect = emptySegmentRedirect(rawTarget);
      if (redirect !== undefined) {
        res.writeHead(301, { 'Cache-Control': 'no-store', Location: redirect, 'Content-Length': 0 }).end();
        return;
      }
      const path = canonicalPath(rawTarget);
      const query = queryData(rawTarget);
      if ((req.method === 'GET' || req.method === 'HEAD') && query.help !== undefined && query.help !== '' && parseGoBool('help', query.help)) {
        send(res, 200, vault.help({ path, token: tokenFrom(req), clientAddress: req.socket.remoteAddress ?? '' }), req.method === 'HEAD');
        return;
      }
      const operation = operationFor(req, query);
      let data: Record<string, unknown>;
      let rawBody: Buffer | undefined;
      let delivery: WebhookDelivery | undefined;
      if (operation === 'write' && path === SNAPSHOT_RESTORE_PATH) {
        // Up to a gigabyte is read only for a caller who may restore; anyone else gets the ACL's answer.
        if (vault.maySendSnapshot(tokenFrom(req), req.socket.remoteAddress ?? '')) rawBody = await readBody(req, snapshotMaxBytes);
        else req.resume();
        data = {};
      } else if (operation === 'write' && WEBHOOK_DELIVER_PATH.test(path)) {
        delivery = await webhookDelivery(req);
        data = {};
      } else if (operation === 'write' || operation === 'patch') {
        if (operation === 'patch' && !String(req.headers['content-type'] ?? '').startsWith('application/merge-patch+json')) {
          throw new UnsupportedMediaTypeError('PATCH requests must use Content-Type application/merge-patch+json');
        }
        data = parseJsonBody(await readBody(req, limits.maxBytes), limits);
      } else {
        delete query.list;
        data = query;
      }
      const result = await vault.handle({
        operation,
        path,
        data,
        token: tokenFrom(req),
        clientAddress: req.socket.remoteAddress ?? '',
        clientPort: req.socket.remotePort,
        requestId,
        wrapTtl: typeof req.headers['x-vault-wrap-ttl'] === 'string' ? req.headers['x-vault-wrap-ttl'] : undefined,
        rawBody,
        justification: typeof req.headers['x-leasehold-justification'] === 'string' ? req.headers['x-leasehold-justification'] : undefined,
        delivery,
      });
      send(res, result.statusCode, result.body, req.method === 'HEAD', result.contentType);
    } catch (error) {
      const { statusCode, body } = errorToResponse(error, requestId, logger);
      send(res, statusCode, body, req.method === 'HEAD');
    }
  });
  return app;
}
