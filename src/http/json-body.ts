import express, { type RequestHandler } from 'express';
import { hasNul, jsonLimitProblem, type JsonLimitProblem } from '../contract/json-limits.ts';
import { keepRawBody } from './raw-body.ts';

/**
 * express.json with the bridge's limits: `limitBytes` on the body's size, depth and NUL as jsonLimitProblem
 * says, refused in the words of the API that mounts it. The body's text is kept (raw-body.ts) for bridge mode.
 */
export function jsonBodyParser(limitBytes: number, refuse: (problem: JsonLimitProblem) => Error): RequestHandler[] {
  return [
    express.json({ limit: limitBytes, verify: keepRawBody }),
    (req, _res, next) => {
      const problem = jsonLimitProblem(req.body);
      next(problem === undefined ? undefined : refuse(problem));
    },
  ];
}

/**
 * Path and query parameters reach the store as text; U+0000 (`%00`) cannot be stored by PostgreSQL and is
 * in no identifier, so a URL carrying it is refused before any route reads it.
 */
export function refuseNulInUrl(refuse: () => Error): RequestHandler {
  return (req, _res, next) => {
    next(/%00/i.test(req.originalUrl) || hasNul(req.originalUrl) ? refuse() : undefined);
  };
}
