// The web console's files at /ui/ (and `/` redirects there). Static files only: the console talks to
// the same public /v1 API as every client, with the user's token, so it has no back door. Every
// response carries a strict CSP (no inline script, connect-src 'self') and the framing, referrer
// and sniffing headers.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';

/** Where `npm run build` puts the console (dist/console), from src/http or dist/http alike. */
export const CONSOLE_DIR = resolve(__dirname, '..', '..', 'dist', 'console');

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function withHeaders(res: Response): Response {
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
  return res;
}

/** Serves the console from `dir`, or says how to build it when it is not there. */
export function consoleRouter(dir: string = CONSOLE_DIR): express.Router {
  const router = express.Router();
  const indexFile = join(dir, 'index.html');
  // Read once, when first asked for and built; until then each request looks again (a build may land).
  let cached: Buffer | undefined;
  const index = () => (cached ??= existsSync(indexFile) ? readFileSync(indexFile) : undefined);
  const sendIndex = (res: Response) => {
    const html = index();
    if (html === undefined) {
      withHeaders(res).status(503).type('text/plain').send('The console is not built: run `npm run build` and restart the server.\n');
      return;
    }
    withHeaders(res).status(200).setHeader('Cache-Control', 'no-store');
    res.type('html').send(html);
  };

  router.get('/', (_req, res) => {
    withHeaders(res).redirect(307, '/ui/');
  });
  router.get(['/ui', '/ui/', '/ui/index.html'], (req: Request, res: Response) => {
    if (req.path === '/ui') {
      withHeaders(res).redirect(301, '/ui/');
      return;
    }
    sendIndex(res);
  });
  router.use(
    '/ui/assets',
    express.static(join(dir, 'assets'), {
      fallthrough: false,
      index: false,
      immutable: true,
      maxAge: '365d',
      setHeaders: (res) => withHeaders(res as unknown as Response),
    }),
  );
  // Deep links into the single-page app get the page itself; it routes on the hash.
  router.get(/^\/ui\/.*/, (_req: Request, res: Response) => sendIndex(res));
  router.use('/ui/assets', (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    withHeaders(res).status((err as { status?: number }).status ?? 404).type('text/plain').send('not found\n');
  });
  return router;
}
