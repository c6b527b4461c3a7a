import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's headers (Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, ...), worked
 * out once by running helmet against a recorder and then set on each response in one middleware, instead
 * of helmet's chain of a dozen middlewares per request. The options must be static: a directive given as
 * a function of the request would be evaluated once only, so that is refused.
 */
export function securityHeaders(options?: Readonly<HelmetOptions>): RequestHandler {
  const set: Array<[name: string, value: string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void set.push([name, value]),
    removeHeader: (name: string) => void removed.push(name),
  };
  const outcome: { finished: boolean; err?: unknown } = { finished: false };
  helmet(options)(undefined as unknown as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    outcome.finished = true;
    outcome.err = err;
  });
  if (!outcome.finished || outcome.err !== undefined) {
    throw new Error('security headers: helmet did not set them synchronously', { cause: outcome.err });
  }
  const directives = options?.contentSecurityPolicy;
  if (typeof directives === 'object' && Object.values(directives.directives ?? {}).some(hasFunction)) {
    throw new Error('security headers: Content-Security-Policy directives must not depend on the request');
  }
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}

const hasFunction = (value: unknown): boolean =>
  typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v === 'function'));
