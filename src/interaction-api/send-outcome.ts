import type { Response } from 'express';
import type { IdempotentOutcome } from '../http/idempotency.ts';

export function sendOutcome(res: Response, outcome: IdempotentOutcome) {
  if (outcome.replayed) res.set('Idempotent-Replayed', 'true');
  const { 'Content-Type': contentType, ...others } = outcome.headers ?? {};
  res.set(others).status(outcome.status);
  // An answer the org gave as something other than JSON goes back as the text it was, typed as it was.
  if (contentType !== undefined && typeof outcome.body === 'string' && !/\bjson\b/i.test(contentType)) {
    res.type(contentType).send(outcome.body);
    return;
  }
  res.json(outcome.body);
}
