// Node builds each request and response on the Express app's own prototypes, so Express's per-request
// prototype swap (Object.setPrototypeOf in app.handle) finds nothing to change; Express still works as usual.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { messageClassesFor } from '../../src/http/message-classes';
import { createVaultHttpServer } from '../../src/http/list-method';

async function serve(app: express.Express, seen: { before?: object }) {
  const server = createVaultHttpServer((req, res) => {
    seen.before = Object.getPrototypeOf(req) as object;
    app(req, res);
  }, messageClassesFor(app));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('request and response classes on the app prototypes', () => {
  it('hands Express requests already on app.request, so it changes no prototype, and Express features still work', async () => {
    const app = express();
    const seen: { before?: object } = {};
    app.use((req, res) => {
      res.json({
        unchanged: Object.getPrototypeOf(req) === seen.before,
        onAppRequest: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response,
        app: req.app === app,
        linked: req.res === res && res.req === req,
        locals: typeof res.locals,
        query: req.query,
        list: req.headers['x-leasehold-list'] ?? null,
      });
    });
    const server = await serve(app, seen);
    try {
      const res = await fetch(`${server.url}/v1/x?a=1`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ unchanged: true, onAppRequest: true, app: true, linked: true, locals: 'object', query: { a: '1' }, list: null });
    } finally {
      await server.close();
    }
  });

  it('gives one app the same classes every time', () => {
    const app = express();
    const first = messageClassesFor(app);
    expect(messageClassesFor(app)).toBe(first);
    expect(Object.getPrototypeOf(first.IncomingMessage.prototype)).not.toBe(app.request);
    expect(first.IncomingMessage.prototype).toBe(app.request);
  });
});
