// Drives the LIST-capable server over raw TCP: method rewriting, header stripping, keep-alive framing and fragmentation.
import { Agent, request, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import express from 'express';
import { createVaultHttpServer, LIST_HEADER } from '../../src/http/list-method';

/** What the echo handler saw for one request. */
interface Seen {
  method: string;
  url: string;
  list: string | null;
  rawList: string[];
  body: string;
  trailers: Record<string, string>;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A handler that records each request and answers with it as JSON. */
function echoHandler(seen: Seen[]): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const rawList: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if ((req.rawHeaders[i] as string).toLowerCase() === LIST_HEADER) rawList.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
      }
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        list: (req.headers[LIST_HEADER] as string | undefined) ?? null,
        rawList,
        body: Buffer.concat(parts).toString('latin1'),
        trailers: req.trailers as Record<string, string>,
        remoteAddress: req.socket.remoteAddress,
        remotePort: req.socket.remotePort,
      };
      seen.push(entry);
      const json = JSON.stringify(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
  };
}

async function start(handler: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createVaultHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as AddressInfo).port };
}

function stop(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Splits HTTP/1.1 responses out of received bytes (Content-Length bodies; 1xx and Node's error replies have none). */
function parseResponses(data: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let pos = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) return responses;
    const lines = data.toString('latin1', pos, headEnd).split('\r\n');
    const status = Number((lines[0] as string).split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyLength = status >= 200 && headers['content-length'] !== undefined ? Number(headers['content-length']) : 0;
    if (data.length < headEnd + 4 + bodyLength) return responses;
    responses.push({ status, headers, body: data.toString('latin1', headEnd + 4, headEnd + 4 + bodyLength) });
    pos = headEnd + 4 + bodyLength;
  }
}

/** A raw TCP client that writes bytes however fragmented we like and reads back responses. */
class RawClient {
  private received = Buffer.alloc(0);
  closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      this.received = Buffer.concat([this.received, data]);
      this.notify();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes `data` as pieces of the sizes `nextSize` returns, yielding to the event loop between pieces. */
  async write(data: string | Buffer, nextSize: () => number = () => Infinity): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (let pos = 0; pos < bytes.length; ) {
      const end = Math.min(bytes.length, pos + nextSize());
      this.socket.write(bytes.subarray(pos, end));
      pos = end;
      if (pos < bytes.length) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Waits for `count` responses, or for the connection to close, whichever comes first. */
  async responses(count: number, timeoutMs = 5000): Promise<RawResponse[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const responses = parseResponses(this.received);
      if (responses.length >= count || this.closed || Date.now() > deadline) return responses;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.closed;
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }
}

/** A small deterministic PRNG so random fragmentation is reproducible. */
function seededSizes(seed: number, maxSize: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return 1 + (state % maxSize);
  };
}

const smuggledInBody = 'LIST /x HTTP/1.1\r\n\r\n';
const chunkedParts = ['LIST ', `${smuggledInBody}GET /y HTTP/1.1\r\nx-leasehold-list: 1\r\n\r\n`];
const chunkedBody = chunkedParts.join('');

/** GET, LIST, POST with a Content-Length body, chunked POST with extensions and a trailer, LIST: one connection. */
const keepAliveSequence = [
  'GET /v1/one HTTP/1.1\r\nHost: vault\r\n\r\n',
  'LIST /v1/two HTTP/1.1\r\nHost: vault\r\nX-Vault-Token: t\r\nContent-Length: 0\r\n\r\n',
  `POST /v1/three HTTP/1.1\r\nHost: vault\r\nContent-Type: text/plain\r\nContent-Length: ${smuggledInBody.length}\r\n\r\n${smuggledInBody}`,
  'POST /v1/four HTTP/1.1\r\nHost: vault\r\nTransfer-Encoding: chunked\r\n\r\n' +
    `${chunkedParts[0]!.length.toString(16)};name=value\r\n${chunkedParts[0]}\r\n` +
    `${chunkedParts[1]!.length.toString(16).toUpperCase()}\r\n${chunkedParts[1]}\r\n` +
    '0\r\nX-Trailer: done\r\n\r\n',
  // llhttp skips empty lines between requests; so must the shim.
  '\r\nLIST /v1/five/ HTTP/1.1\r\nHost: vault\r\n\r\n',
];

function expectKeepAliveSequence(seen: Seen[], responses: RawResponse[]): void {
  expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  expect(seen.map((s) => [s.method, s.url, s.list])).toEqual([
    ['GET', '/v1/one', null],
    ['GET', '/v1/two', '1'],
    ['POST', '/v1/three', null],
    ['POST', '/v1/four', null],
    ['GET', '/v1/five/', '1'],
  ]);
  expect(seen[2]!.body).toBe(smuggledInBody);
  expect(seen[3]!.body).toBe(chunkedBody);
  expect(seen[3]!.trailers).toEqual({ 'x-trailer': 'done' });
  expect(new Set(seen.map((s) => s.remotePort)).size).toBe(1);
}

describe('createVaultHttpServer', () => {
  let server: Server;
  let port: number;
  let seen: Seen[];

  beforeEach(async () => {
    seen = [];
    ({ server, port } = await start(echoHandler(seen)));
  });

  afterEach(async () => {
    await stop(server);
  });

  it('accepts LIST and hands it to the handler as GET with the marker header', async () => {
    const client = await RawClient.open(port);
    await client.write('LIST /v1/secret/metadata/?x=1 HTTP/1.1\r\nHost: vault\r\nX-Vault-Token: t\r\n\r\n');
    const [response] = await client.responses(1);
    expect(response?.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/secret/metadata/?x=1', list: '1', rawList: [LIST_HEADER, '1'] });
    client.socket.destroy();
  });

  it('drops client-sent copies of the marker header', async () => {
    const client = await RawClient.open(port);
    await client.write('GET /v1/a HTTP/1.1\r\nHost: vault\r\nX-Leasehold-List: 1\r\n\r\n');
    await client.write('LIST /v1/b HTTP/1.1\r\nx-leasehold-list: 0\r\nHost: vault\r\nX-LEASEHOLD-LIST:1\r\n\r\n');
    const responses = await client.responses(2);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(seen.map((s) => [s.method, s.list, s.rawList])).toEqual([
      ['GET', null, []],
      ['GET', '1', [LIST_HEADER, '1']],
    ]);
    client.socket.destroy();
  });

  it('keeps keep-alive framing: one request at a time', async () => {
    const client = await RawClient.open(port);
    const responses: RawResponse[] = [];
    for (const [i, message] of keepAliveSequence.entries()) {
      await client.write(message);
      responses.push(...(await client.responses(i + 1)).slice(i));
    }
    expectKeepAliveSequence(seen, responses);
    client.socket.destroy();
  });

  it('keeps keep-alive framing: all requests pipelined in one write', async () => {
    const client = await RawClient.open(port);
    await client.write(keepAliveSequence.join(''));
    expectKeepAliveSequence(seen, await client.responses(5));
    client.socket.destroy();
  });

  it('keeps keep-alive framing: byte-by-byte writes', async () => {
    const client = await RawClient.open(port);
    await client.write(keepAliveSequence.join(''), () => 1);
    expectKeepAliveSequence(seen, await client.responses(5));
    client.socket.destroy();
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('keeps keep-alive framing: random fragmentation (seed %i)', async (seed) => {
    const client = await RawClient.open(port);
    await client.write(keepAliveSequence.join(''), seededSizes(seed, 24));
    expectKeepAliveSequence(seen, await client.responses(5));
    client.socket.destroy();
  });

  it('reports the real client address to handlers', async () => {
    const client = await RawClient.open(port);
    await client.write('LIST /v1/addr HTTP/1.1\r\nHost: vault\r\n\r\n');
    await client.responses(1);
    expect(seen[0]?.remoteAddress).toBe(client.socket.localAddress);
    expect(seen[0]?.remotePort).toBe(client.socket.localPort);
    client.socket.destroy();
  });

  it('passes Expect: 100-continue through', async () => {
    const client = await RawClient.open(port);
    await client.write('POST /v1/expect HTTP/1.1\r\nHost: vault\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    expect((await client.responses(1)).map((r) => r.status)).toEqual([100]);
    await client.write('LIST');
    await client.write('LIST /v1/after HTTP/1.1\r\nHost: vault\r\n\r\n');
    const responses = await client.responses(3);
    expect(responses.map((r) => r.status)).toEqual([100, 200, 200]);
    expect(seen.map((s) => [s.method, s.url, s.list, s.body])).toEqual([
      ['POST', '/v1/expect', null, 'LIST'],
      ['GET', '/v1/after', '1', ''],
    ]);
    client.socket.destroy();
  });

  it.each([
    ['an unknown method', 'BREW /pot HTTP/1.1\r\nHost: vault\r\n\r\n'],
    ['a bare LF', 'GET /v1/a HTTP/1.1\nHost: vault\r\n\r\n'],
    ['a duplicate Content-Length', `POST /v1/a HTTP/1.1\r\nHost: vault\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc${smuggledInBody}`],
    ['Content-Length with Transfer-Encoding', `POST /v1/a HTTP/1.1\r\nHost: vault\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggledInBody}`],
    ['a non-chunked Transfer-Encoding', `POST /v1/a HTTP/1.1\r\nHost: vault\r\nTransfer-Encoding: gzip\r\n\r\n${smuggledInBody}`],
    ['a bad chunk size', `POST /v1/a HTTP/1.1\r\nHost: vault\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n${smuggledInBody}`],
    ['chunk data without its CRLF', `POST /v1/a HTTP/1.1\r\nHost: vault\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab${smuggledInBody}`],
  ])('leaves %s to Node, which answers 400', async (_name, message) => {
    const client = await RawClient.open(port);
    await client.write(message);
    const responses = await client.responses(2);
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(await client.waitClosed()).toBe(true);
    expect(seen).toEqual([]);
  });

  it('after a head it does not follow, passes the connection through and still drops forged markers', async () => {
    const client = await RawClient.open(port);
    await client.write('GET /v1/up HTTP/1.1\r\nHost: vault\r\nUpgrade: h2c\r\n\r\n');
    await client.write('GET /v1/forged HTTP/1.1\r\nHost: vault\r\nx-leasehold-list: 1\r\n\r\n');
    expect((await client.responses(2)).map((r) => r.status)).toEqual([200, 200]);
    expect(seen.map((s) => [s.url, s.list, s.rawList])).toEqual([
      ['/v1/up', null, []],
      ['/v1/forged', null, []],
    ]);
    await client.write('LIST /v1/late HTTP/1.1\r\nHost: vault\r\n\r\n');
    expect((await client.responses(3)).map((r) => r.status)).toEqual([200, 200, 400]);
  });

  it('stops holding a head that trickles in slower than headersTimeout', async () => {
    server.headersTimeout = 200;
    const client = await RawClient.open(port);
    await client.write('GET /v1/slow HTTP/1.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.write('Host: vault\r\n\r\n');
    expect((await client.responses(1)).map((r) => r.status)).toEqual([200]);
    expect(seen.map((s) => s.url)).toEqual(['/v1/slow']);
    // The shim stepped aside for the rest of the connection, so Node's parser now sees LIST itself.
    await client.write('LIST /v1/late HTTP/1.1\r\nHost: vault\r\n\r\n');
    expect((await client.responses(2)).map((r) => r.status)).toEqual([200, 400]);
  });

  it.each([
    ['GET /v1/a HTTP/1.1\nHost: vault\n\n'],
    ['LIST /v1/a HTTP/1.1\r\nHost: vault\n\n'],
    ['GET /v1/a HTTP/1.1\r\nHost: vault\r\n\n'],
  ])('answers a head ending in a bare LF (%j) at once with 400, not at headersTimeout', async (head) => {
    server.headersTimeout = 60_000;
    const client = await RawClient.open(port);
    const started = Date.now();
    await client.write(head.slice(0, -1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await client.write(head.slice(-1));
    expect((await client.responses(1)).map((r) => r.status)).toEqual([400]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(seen).toEqual([]);
  });

  it('hands a partial head to Node when the client half-closes', async () => {
    const client = await RawClient.open(port);
    await client.write('LIST /v1/a HTTP/1.1\r\nHost: vault\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.socket.end();
    expect((await client.responses(1)).map((r) => r.status)).toEqual([400]);
    expect(seen).toEqual([]);
  });

  it('lets Node judge heads and chunk lines too large to inspect', async () => {
    const errors: string[] = [];
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      errors.push(error.code ?? '');
      socket.destroy();
    });
    const big = (size: number) => `X-Big: ${'a'.repeat(size)}\r\n`;
    const cases = [
      `GET /v1/a HTTP/1.1\r\nHost: vault\r\n${big(70 * 1024)}\r\n`,
      `LIST /v1/a HTTP/1.1\r\nHost: vault\r\n${big(70 * 1024)}\r\n`,
      `LIST /v1/a HTTP/1.1\r\nHost: vault\r\n${big(20 * 1024)}\r\n`,
      `POST /v1/a HTTP/1.1\r\nHost: vault\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=${'a'.repeat(70 * 1024)}\r\nx\r\n0\r\n\r\n`,
    ];
    for (const message of cases) {
      const client = await RawClient.open(port);
      await client.write(message, () => 4096);
      await client.waitClosed();
    }
    expect(errors).toEqual(['HPE_HEADER_OVERFLOW', 'HPE_INVALID_METHOD', 'HPE_HEADER_OVERFLOW', 'HPE_CHUNK_EXTENSIONS_OVERFLOW']);

    // A head under Node's limit but spread over several packets is held, rewritten and served.
    const client = await RawClient.open(port);
    await client.write(`LIST /v1/a HTTP/1.1\r\nHost: vault\r\n${big(8 * 1024)}\r\n`, () => 1000);
    expect((await client.responses(1)).map((r) => r.status)).toEqual([200]);
    expect(seen.map((s) => [s.method, s.list])).toEqual([['GET', '1']]);
    client.socket.destroy();
  });

  it('closes idle keep-alive connections on server.close()', async () => {
    const client = await RawClient.open(port);
    await client.write('LIST /v1/a HTTP/1.1\r\nHost: vault\r\n\r\n');
    await client.responses(1);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await client.waitClosed()).toBe(true);
  });
});

describe('createVaultHttpServer with other clients and apps', () => {
  it("serves Node's own http client sending LIST over a reused keep-alive connection", async () => {
    const seen: Seen[] = [];
    const { server, port } = await start(echoHandler(seen));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const list = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, method: 'LIST', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await list('/v1/a/')).toBe(200);
    expect(await list('/v1/b/')).toBe(200);
    expect(seen.map((s) => [s.method, s.url, s.list])).toEqual([
      ['GET', '/v1/a/', '1'],
      ['GET', '/v1/b/', '1'],
    ]);
    expect(seen[0]?.remotePort).toBe(seen[1]?.remotePort);
    agent.destroy();
    await stop(server);
  });

  it("gives Express the client's address in req.ip and req.socket.remoteAddress", async () => {
    const app = express();
    app.get('/v1/ip', (req, res) => {
      res.json({ ip: req.ip, remote: req.socket.remoteAddress, list: req.headers[LIST_HEADER] ?? null });
    });
    const { server, port } = await start(app);
    const client = await RawClient.open(port);
    await client.write('LIST /v1/ip HTTP/1.1\r\nHost: vault\r\n\r\n');
    const [response] = await client.responses(1);
    expect(response?.status).toBe(200);
    expect(JSON.parse(response?.body ?? '{}')).toEqual({ ip: '127.0.0.1', remote: '127.0.0.1', list: '1' });
    client.socket.destroy();
    await stop(server);
  });

  it('closeAllConnections() ends a connection with a request in flight', async () => {
    const { server, port } = await start(() => {
      // Never answers.
    });
    const client = await RawClient.open(port);
    await client.write('LIST /v1/hang HTTP/1.1\r\nHost: vault\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    expect(await client.waitClosed()).toBe(true);
  });
});
