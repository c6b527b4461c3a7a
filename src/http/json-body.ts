import express, { type RequestHandler } from 'express';
import { hasNul, jsonLimitProblem, type JsonLimitProblem } from '../contract/json-limits.ts';
import { keepRawBody } from './raw-body.ts';

/**
 * express.json with the bridge's limits: `limitBytes` on the body's size, depth and NUL as jsonLimitProblem
 * says, refused in the words of the API that mounts it. The body's text is kept (raw-body.ts) for bridge mode.
 */
export function jsonBodyParser(limitBytes: number, refuse: (problem: JsonLimitProblem) => Error): RequestHandler {
  const json: RequestHandler = express.json({ limit: limitBytes, verify: keepRawBody });
  return (req, res, next) => {
    // A multipart body (POST /interactions, most of the traffic) is never JSON: passed on before express.json
    // parses its Content-Type to find that out, as it would, leaving no body.
    if (MULTIPART.test(req.headers['content-type'] ?? '')) {
      next();
      return;
    }
    json(req, res, (err?: unknown) => {
      if (err) {
        next(err);
        return;
      }
      const problem = jsonLimitProblem(req.body);
      next(problem === undefined ? undefined : refuse(problem));
    });
  };
}

const MULTIPART = /^\s*multipart\//i;

/**
 * Path and query parameters reach the store as text; U+0000 (`%00`) cannot be stored by PostgreSQL and is
 * in no identifier, so a URL carrying it is refused before any route reads it.
 */
export function refuseNulInUrl(refuse: () => Error): RequestHandler {
  return (req, _res, next) => {
    next(/%00/i.test(req.originalUrl) || hasNul(req.originalUrl) ? refuse() : undefined);
  };
}
