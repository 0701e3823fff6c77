// Lets Node's HTTP server accept Vault's `LIST` method by rewriting request heads on the wire before llhttp parses them.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Socket } from 'node:net';

/**
 * Marks a request the client sent as `LIST`: it reaches handlers as GET with this header set to
 * LIST_HEADER_VALUE. Only the shim can set it; a client-sent copy never reaches a handler.
 */
export const LIST_HEADER = 'x-leasehold-list';

/** The value handlers compare against: `req.headers[LIST_HEADER] === LIST_HEADER_VALUE` means LIST. */
export const LIST_HEADER_VALUE = '1';

/**
 * Largest request head, chunk-size line or trailer section the shim parses. Node's own limit
 * (maxHeaderSize, 16 KiB by default) is lower, so a head this large fails in Node's parser either way;
 * the shim then steps aside and passes the connection through untouched.
 */
const MAX_HEAD_BYTES = 64 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

// The shapes below are the strict llhttp grammar (Node's parser without insecureHTTPParser), or a subset of
// it: whatever the shim accepts, llhttp reads the same way or rejects; anything else is passed through raw.
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) [^ \r\n]+ HTTP\/1\.[01]$/;
const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*$/;
const CONTENT_LENGTH_VALUE = /^[ \t]*(?=[0-9])0*([0-9]{0,15})[ \t]*$/;
const CHUNKED_VALUE = /^[ \t]*chunked *$/i;
// A chunk-size line as it arrives, up to (not including) its LF: hex size, optional extensions, CR.
const CHUNK_SIZE_LINE = /^(?=[0-9A-Fa-f])0*([0-9A-Fa-f]{0,12})(?:;[^\r\n]*)?\r$/;
const TRAILER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*\r$/;

type Mode = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'passthrough';

/** What a complete request head says: its rewritten bytes (null if unchanged) and how its body is framed. */
interface HeadVerdict {
  rewritten: string | null;
  contentLength: number;
  chunked: boolean;
}

/**
 * Per-connection byte transformer. It tracks message boundaries exactly as llhttp does, so that it only
 * ever touches request heads: `LIST ` becomes `GET ` plus the marker header, and client copies of the
 * marker header are dropped. On anything it does not fully understand it switches to passthrough for the
 * rest of the connection and Node's parser decides, so framing is never weaker than Node's own.
 */
class ListMethodShim {
  mode: Mode = 'head';
  /** latin1 text of a request head whose end has not arrived yet (held back from the parser). */
  private heldHead = '';
  private heldSinceMs = 0;
  /** latin1 text of a chunk-size or trailer line that continues in a later packet (already forwarded). */
  private partialLine = '';
  /** Where, in the current packet, the line readLine last completed starts. */
  private lineStart = 0;
  private bodyRemaining = 0;
  private chunkDataEndSeen = 0;
  private trailerBytes = 0;
  // Output of the transform call in progress: pieces, and where the not-yet-emitted run of input starts.
  private out: Buffer[] | null = null;
  private runStart = 0;

  constructor(
    private readonly markerLine: string,
    private readonly headersTimeoutMs: () => number,
  ) {}

  /** Transforms one packet; returns the bytes for the parser (the input itself when nothing changed), or null for none. */
  transform(chunk: Buffer): Buffer | null {
    const length = chunk.length;
    this.out = null;
    this.runStart = 0;
    let pos = 0;

    // A head trickled in slower than Node's headersTimeout: stop holding it, so Node's own clock applies.
    if (this.heldHead.length > 0 && this.heldTooLong()) this.passthroughFrom(chunk, 0);

    while (pos < length && this.mode !== 'passthrough') {
      switch (this.mode) {
        case 'head': {
          if (this.heldHead.length === 0) {
            // llhttp skips empty lines before a request line.
            while (pos < length && (chunk[pos] === CR || chunk[pos] === LF)) pos++;
            if (pos === length) break;
          }
          const headStart = pos;
          const end = this.findHeadEnd(chunk, headStart);
          if (end === -1) {
            // A bare LF (or `\n\n`) can never end a head we would rewrite; Node's parser refuses it with an
            // immediate 400, so hand the bytes over now instead of holding them until headersTimeout.
            if (this.heldHead.length + length - headStart > MAX_HEAD_BYTES || this.hasBareLf(chunk, headStart)) {
              this.passthroughFrom(chunk, headStart);
            } else {
              this.emitUpTo(chunk, headStart);
              if (this.heldHead.length === 0) this.heldSinceMs = Date.now();
              this.heldHead += chunk.toString('latin1', headStart, length);
              this.runStart = length;
              pos = length;
            }
            break;
          }
          // When the terminator straddles packets, part of it is already in heldHead (headStart is then 0).
          const headEndInChunk = end - HEAD_END.length;
          const headText =
            headEndInChunk >= headStart
              ? this.heldHead + chunk.toString('latin1', headStart, headEndInChunk)
              : this.heldHead.slice(0, this.heldHead.length + headEndInChunk);
          const verdict = headText.length > MAX_HEAD_BYTES ? null : this.inspectHead(headText);
          if (verdict === null) {
            this.passthroughFrom(chunk, headStart);
            break;
          }
          if (verdict.rewritten !== null || this.heldHead.length > 0) {
            this.emitUpTo(chunk, headStart);
            this.pushOut(Buffer.from(verdict.rewritten ?? headText + '\r\n\r\n', 'latin1'));
            this.runStart = end;
          }
          this.heldHead = '';
          pos = end;
          if (verdict.chunked) {
            this.mode = 'chunk-size';
          } else if (verdict.contentLength > 0) {
            this.mode = 'body';
            this.bodyRemaining = verdict.contentLength;
          }
          break;
        }
        case 'body':
        case 'chunk-data': {
          const take = Math.min(this.bodyRemaining, length - pos);
          pos += take;
          this.bodyRemaining -= take;
          if (this.bodyRemaining === 0) {
            this.mode = this.mode === 'body' ? 'head' : 'chunk-data-end';
            this.chunkDataEndSeen = 0;
          }
          break;
        }
        case 'chunk-data-end': {
          if (chunk[pos] !== (this.chunkDataEndSeen === 0 ? CR : LF)) {
            this.mode = 'passthrough';
            break;
          }
          pos++;
          if (++this.chunkDataEndSeen === 2) this.mode = 'chunk-size';
          break;
        }
        case 'chunk-size': {
          const next = this.readLine(chunk, pos, MAX_HEAD_BYTES);
          if (next < 0) {
            pos = length;
            break;
          }
          pos = next;
          const match = CHUNK_SIZE_LINE.exec(this.takeLine(chunk, next));
          if (match === null) {
            this.mode = 'passthrough';
            break;
          }
          const size = match[1] ? parseInt(match[1], 16) : 0;
          if (size === 0) {
            this.mode = 'trailers';
            this.trailerBytes = 0;
          } else {
            this.mode = 'chunk-data';
            this.bodyRemaining = size;
          }
          break;
        }
        case 'trailers': {
          const next = this.readLine(chunk, pos, MAX_HEAD_BYTES - this.trailerBytes);
          if (next < 0) {
            pos = length;
            break;
          }
          pos = next;
          const line = this.takeLine(chunk, next);
          this.trailerBytes += line.length + 1;
          if (line === '\r') this.mode = 'head';
          else if (!TRAILER_LINE.test(line)) this.mode = 'passthrough';
          break;
        }
      }
    }

    const out = this.out as Buffer[] | null;
    this.out = null;
    if (out === null) {
      if (this.runStart === 0) return chunk;
      return this.runStart === length ? null : chunk.subarray(this.runStart);
    }
    if (this.runStart < length) out.push(chunk.subarray(this.runStart));
    if (out.length === 0) return null;
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** The connection is ending: hands back a held partial head for Node's parser to judge, and stops shimming. */
  finish(): Buffer | null {
    const held = this.heldHead;
    this.heldHead = '';
    this.mode = 'passthrough';
    return held.length > 0 ? Buffer.from(held, 'latin1') : null;
  }

  /** Validates a complete head (without its final CRLFCRLF) and decides its rewrite and body framing; null = pass through. */
  private inspectHead(head: string): HeadVerdict | null {
    const lines = head.split('\r\n');
    const requestLine = lines[0] as string;
    const request = REQUEST_LINE.exec(requestLine);
    if (request === null || request[1] === 'CONNECT') return null;
    const isList = request[1] === 'LIST';

    let contentLength = -1;
    let transferEncoding = false;
    let chunked = false;
    let stripMarker = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      if (!HEADER_LINE.test(line)) return null;
      const colon = line.indexOf(':');
      // Only names of these lengths matter; everything else is an ordinary header.
      if (colon !== 7 && colon !== 14 && colon !== 16 && colon !== 17) continue;
      const name = line.slice(0, colon).toLowerCase();
      if (name === LIST_HEADER) {
        stripMarker = true;
      } else if (name === 'upgrade') {
        // An upgraded connection stops being HTTP after this head; not ours to follow.
        return null;
      } else if (name === 'content-length') {
        const value = CONTENT_LENGTH_VALUE.exec(line.slice(colon + 1));
        if (value === null || contentLength !== -1) return null;
        contentLength = value[1] ? Number(value[1]) : 0;
      } else if (name === 'transfer-encoding') {
        if (transferEncoding || !CHUNKED_VALUE.test(line.slice(colon + 1))) return null;
        transferEncoding = true;
        chunked = true;
      }
    }
    if (transferEncoding && contentLength !== -1) return null;

    let rewritten: string | null = null;
    if (isList || stripMarker) {
      rewritten = isList ? `GET${requestLine.slice(4)}\r\n${this.markerLine}` : `${requestLine}\r\n`;
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line.indexOf(':') === LIST_HEADER.length && line.slice(0, LIST_HEADER.length).toLowerCase() === LIST_HEADER) continue;
        rewritten += `${line}\r\n`;
      }
      rewritten += '\r\n';
    }
    return { rewritten, contentLength, chunked };
  }

  /** Whether the head bytes from `from` hold an LF not preceded by CR (looking back into heldHead at the boundary). */
  private hasBareLf(chunk: Buffer, from: number): boolean {
    for (let lf = chunk.indexOf(LF, from); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
      const before = lf > from ? chunk[lf - 1] : this.heldHead.length > 0 ? this.heldHead.charCodeAt(this.heldHead.length - 1) : undefined;
      if (before !== CR) return true;
    }
    return false;
  }

  /** Index just past the CRLFCRLF ending the head that starts at `from` (or in heldHead), or -1. */
  private findHeadEnd(chunk: Buffer, from: number): number {
    if (this.heldHead.length > 0) {
      // The terminator may straddle the packet boundary.
      const tail = this.heldHead.slice(-3);
      const probe = tail + chunk.toString('latin1', 0, Math.min(3, chunk.length));
      const at = probe.indexOf('\r\n\r\n');
      if (at !== -1) return at + HEAD_END.length - tail.length;
    }
    const at = chunk.indexOf(HEAD_END, from);
    return at === -1 ? -1 : at + HEAD_END.length;
  }

  /**
   * Finds the LF ending the line at `pos`; returns the index after it, or -1 when the line continues in a
   * later packet (its bytes are remembered; they are forwarded either way). Past `limit` bytes: passthrough.
   */
  private readLine(chunk: Buffer, pos: number, limit: number): number {
    const lf = chunk.indexOf(LF, pos);
    const lineBytes = this.partialLine.length + (lf === -1 ? chunk.length : lf) - pos;
    if (lineBytes > limit) {
      this.mode = 'passthrough';
      return -1;
    }
    if (lf === -1) {
      this.partialLine += chunk.toString('latin1', pos);
      return -1;
    }
    this.lineStart = pos;
    return lf + 1;
  }

  /** The line readLine just completed, without its LF. */
  private takeLine(chunk: Buffer, next: number): string {
    const line = this.partialLine + chunk.toString('latin1', this.lineStart, next - 1);
    this.partialLine = '';
    return line;
  }

  private heldTooLong(): boolean {
    const limitMs = this.headersTimeoutMs();
    return limitMs > 0 && Date.now() - this.heldSinceMs > limitMs;
  }

  /** Forwards everything from `pos` (after any held head) raw, and stops shimming this connection. */
  private passthroughFrom(chunk: Buffer, pos: number): void {
    this.emitUpTo(chunk, pos);
    if (this.heldHead.length > 0) this.pushOut(Buffer.from(this.heldHead, 'latin1'));
    this.heldHead = '';
    this.runStart = pos;
    this.mode = 'passthrough';
  }

  private emitUpTo(chunk: Buffer, end: number): void {
    if (end > this.runStart) this.pushOut(chunk.subarray(this.runStart, end));
  }

  private pushOut(piece: Buffer): void {
    (this.out ??= []).push(piece);
  }
}

/** Routes a socket's 'data' events through the shim; once the shim passes through, the socket is left as it was. */
function installShim(socket: Socket, shim: ListMethodShim): void {
  const originalEmit = socket.emit;
  const emit = originalEmit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = function emitThroughShim(this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') {
      const output = shim.transform(args[0] as Buffer);
      if (shim.mode === 'passthrough') this.emit = originalEmit;
      return output === null ? true : emit.call(this, 'data', output);
    }
    if (event === 'end') {
      const held = shim.finish();
      this.emit = originalEmit;
      // Node's HTTP server asserts it never gets data while it has paused the socket.
      if (held !== null && !this.isPaused()) emit.call(this, 'data', held);
    }
    return emit.call(this, event, ...args);
  };
}

const noop = (): void => {};

/**
 * Node's HTTP server reads a fresh TCP socket natively (`parser.consume`), which bypasses JS 'data' events
 * and with them the shim. Attaching a 'data' listener makes the server fall back to reading through
 * 'data' events (it does this for any user 'data' listener), so this runs right after Node's own
 * connection listener.
 */
function readThroughDataEvents(socket: Socket): void {
  socket.on('data', noop);
  socket.removeListener('data', noop);
}

/**
 * Keeps only the shim's marker: the shim sets a per-server random value, so a client-sent copy (for example
 * on a connection the shim passed through) is dropped, and the shim's own is shown to handlers as '1'.
 */
function admitListMarker(req: IncomingMessage, markerValue: string): void {
  const value = req.headers[LIST_HEADER];
  if (value === undefined) return;
  const fromShim = value === markerValue;
  if (fromShim) req.headers[LIST_HEADER] = LIST_HEADER_VALUE;
  else delete req.headers[LIST_HEADER];
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if ((raw[i] as string).toLowerCase() !== LIST_HEADER) continue;
    if (fromShim) raw[i + 1] = LIST_HEADER_VALUE;
    else raw.splice(i, 2);
  }
}

/**
 * Creates the vault's HTTP server. Vault clients (hvac, node-vault) send the `LIST` method, which Node's
 * parser rejects with a bare 400 before any handler runs; this server accepts it, on keep-alive and
 * pipelined connections too, and hands it to `handler` as GET with `LIST_HEADER` set.
 * Sockets stay the real `net.Socket`s (addresses, timeouts, close/closeAllConnections are Node's own).
 * `options` are only the request and response classes (see `messageClassesFor`): parser options such
 * as `insecureHTTPParser` or a larger `maxHeaderSize` would break the shim's match with Node's framing.
 * Note: a 'checkContinue' or 'checkExpectation' listener added later bypasses the marker check.
 */
export function createVaultHttpServer(handler: RequestListener, options: Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'> = {}): Server {
  const markerValue = randomBytes(16).toString('hex');
  const server = createServer(options, markedHandler(handler, markerValue));
  shimConnections(server, 'connection', markerValue);
  return server;
}

/**
 * The HTTPS variant: the same LIST handling, on the decrypted side of each TLS socket. Node's HTTP
 * machinery takes a TLS connection on 'secureConnection' (not 'connection', which carries the
 * ciphertext), so the shim hooks that event, before and after Node's own listener as above.
 */
export function createVaultHttpsServer(
  handler: RequestListener,
  tlsOptions: HttpsServerOptions,
  options: Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'> = {},
): HttpsServer {
  const markerValue = randomBytes(16).toString('hex');
  const server = createHttpsServer({ ...tlsOptions, ...options }, markedHandler(handler, markerValue));
  shimConnections(server, 'secureConnection', markerValue);
  return server;
}

function markedHandler(handler: RequestListener, markerValue: string): RequestListener {
  return (req, res) => {
    admitListMarker(req, markerValue);
    handler(req, res);
  };
}

function shimConnections(server: Server | HttpsServer, event: 'connection' | 'secureConnection', markerValue: string): void {
  const markerLine = `${LIST_HEADER}: ${markerValue}\r\n`;
  server.prependListener(event, (socket: Socket) => {
    installShim(socket, new ListMethodShim(markerLine, () => server.headersTimeout));
  });
  server.on(event, readThroughDataEvents);
}
