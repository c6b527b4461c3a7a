import type { Response } from 'express';
import type { IdempotentOutcome } from '../http/idempotency.ts';

/** Statuses whose answers carry no body, which Express's res.send strips for us. */
const BODILESS = new Set([204, 205, 304]);

export function sendOutcome(res: Response, outcome: IdempotentOutcome) {
  if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
  const { 'Content-Type': contentType, ...others } = outcome.headers ?? {};
  for (const [name, value] of Object.entries(others)) res.setHeader(name, value);
  res.status(outcome.status);
  // An answer the org gave as something other than JSON goes back as the text it was, typed as it was.
  if (contentType !== undefined && typeof outcome.body === 'string' && !/\bjson\b/i.test(contentType)) {
    res.type(contentType).send(outcome.body);
    return;
  }
  const method = res.req.method;
  if (outcome.body === undefined || BODILESS.has(outcome.status) || method === 'GET' || method === 'HEAD') {
    res.json(outcome.body);
    return;
  }
  // The answer to a write, sent as it is: res.json would also hash it for an ETag and check the request's
  // freshness, which only a GET's answer can use, at a cost that shows in every request's profile.
  const text = JSON.stringify(outcome.body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
