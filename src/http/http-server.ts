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
      IncomingMessage: bornWith(
        http.IncomingMessage as unknown as (...args: unknown[]) => void,
        app.request,
      ) as unknown as typeof IncomingMessage,
      ServerResponse: bornWith(
        http.ServerResponse as unknown as (...args: unknown[]) => void,
        app.response,
      ) as unknown as typeof ServerResponse,
    },
    app,
  );
}

/**
 * A constructor building what `base` builds, but with `prototype` as the new object's own prototype:
 * an ES5-style subclass (a class's `prototype` cannot be replaced) whose instances V8 builds from one
 * initial map of that prototype. node:http's IncomingMessage and ServerResponse are ES5 constructors
 * themselves, callable on an object built here, as node:http's own subclassing does. (Reflect.construct
 * with this function as new.target would work for classes too, but V8 then builds each object on its slow
 * path: it measured slower than the stock server.)
 */
function bornWith(base: (...args: unknown[]) => void, prototype: object): new (...args: unknown[]) => object {
  if (Function.prototype.toString.call(base).startsWith('class')) {
    throw new Error(`node:http's ${base.name} is a class in this Node version: createHttpServer needs another way to subclass it`);
  }
  function Born(this: object, a: unknown, b: unknown): void {
    base.call(this, a, b);
  }
  Born.prototype = prototype;
  return Born as unknown as new (...args: unknown[]) => object;
}
