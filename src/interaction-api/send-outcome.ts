import type { Response } from 'express';
import type { IdempotentOutcome } from '../http/idempotency.ts';

export function sendOutcome(res: Response, outcome: IdempotentOutcome) {
  if (outcome.replayed) res.set('Idempotent-Replayed', 'true');
  res.status(outcome.status).json(outcome.body);
}
