import http, { type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { Express } from 'express';

/**
 * A `node:http` server for an Express app whose requests and responses are born with the app's own
 * prototypes (`app.request`, `app.response`), instead of `http.createServer(app)`'s plain ones.
 *
 * Why: Express's `app.handle` gives every request and response the app's prototypes with
 * `Object.setPrototypeOf`. Changing an object's prototype after it was built gives it a new hidden class
 * each time, so every property access along the hot path meets objects of shapes V8 has not seen and
 * runs unoptimized. Here the prototype already is the one Express sets, so that call changes nothing
 * (V8 returns early when the prototype is the same) and the shapes stay stable.
 *
 * It is the same as `http.createServer(options, app)` otherwise: the chain is still app.request →
 * Express's request → http.IncomingMessage.prototype (likewise for responses), Express still sets
 * req.res, res.req and res.locals, and a mounted sub-app still swaps in its own prototypes for its part
 * of the route and back again (those requests just do not get the saving).
 */
export function createHttpServer(app: Express, options: ServerOptions = {}): http.Server {
  return http.createServer(
    {
      ...options,
      IncomingMessage: bornWith(http.IncomingMessage, app.request) as unknown as typeof IncomingMessage,
      ServerResponse: bornWith(http.ServerResponse, app.response) as unknown as typeof ServerResponse,
    },
    app,
  );
}

/**
 * A constructor building what `base` builds, but with `prototype` as the new object's own prototype.
 * A class's `prototype` cannot be replaced, so this is a plain function whose `prototype` is set, and
 * Reflect.construct runs `base` (a class or an ES5 constructor alike) for an object of that prototype.
 */
function bornWith(base: new (...args: never[]) => object, prototype: object): new (...args: unknown[]) => object {
  function Born(...args: unknown[]): object {
    return Reflect.construct(base, args, Born) as object;
  }
  Born.prototype = prototype;
  return Born as unknown as new (...args: unknown[]) => object;
}
