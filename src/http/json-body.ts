import express, { type RequestHandler } from 'express';
import { badRequest } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import { checkJsonLimits, hasNul } from '../contract/json-limits.ts';

/** express.json with the bridge's limits: `limitBytes` on the body's size, depth and NUL as checkJsonLimits says. */
export function jsonBodyParser(limitBytes: number): RequestHandler[] {
  return [
    express.json({ limit: limitBytes }),
    (req, _res, next) => {
      try {
        checkJsonLimits(req.body);
        next();
      } catch (err) {
        next(err);
      }
    },
  ];
}

/**
 * Path and query parameters reach the store as text; U+0000 (`%00`) cannot be stored by PostgreSQL and is
 * in no identifier, so a URL carrying it is refused before any route reads it.
 */
export const refuseNulInUrl: RequestHandler = (req, _res, next) => {
  if (/%00/i.test(req.originalUrl) || hasNul(req.originalUrl)) {
    next(badRequest(ErrorCode.InvalidParameters, 'The URL holds a NUL character (%00), which is not accepted.'));
  } else next();
};
