// Hosting an Express app on Node's HTTP server without Express's per-request prototype swap.
import { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';

/** Node's request and response classes for a server whose requests an Express app handles. */
export interface MessageClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

const messageClasses = new WeakMap<express.Express, MessageClasses>();

/**
 * Request and response classes whose instances Node builds on `app`'s own prototypes, for
 * `http.createServer({ IncomingMessage, ServerResponse })`.
 *
 * Express 5 gives every req/res it handles its app's prototypes (`Object.setPrototypeOf` in
 * `app.handle`). On objects Node has just built, that swap made V8 keep ~45% of all young objects
 * alive through each scavenge (0.2% without it), promoting megabytes to the old generation every
 * few dozen milliseconds; a bare Express app served a quarter of the requests it serves without
 * the swap. Here the classes' prototypes inherit from `app.request` / `app.response`, and become
 * them: Express then finds each request already on its prototype, and its call changes nothing.
 * Everything Express adds to req and res stays reachable through the same chain.
 * The reassignment is permanent: do not mount such an app as a sub-app afterwards (Express would
 * re-parent `app.request`, and `req.app` would no longer be the app).
 */
export function messageClassesFor(app: express.Express): MessageClasses {
  const known = messageClasses.get(app);
  if (known) return known;
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as unknown as express.Request;
  app.response = AppResponse.prototype as unknown as express.Response;
  const classes: MessageClasses = { IncomingMessage: AppRequest, ServerResponse: AppResponse as typeof ServerResponse };
  messageClasses.set(app, classes);
  return classes;
}
