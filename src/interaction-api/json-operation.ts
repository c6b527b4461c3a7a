import type { Request, RequestHandler } from 'express';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { callOf } from '../http/interaction-guard.ts';
import { requestFingerprint } from './request-fingerprint.ts';
import { sendOutcome } from './send-outcome.ts';

/** Operation headers beyond the guard's, passed on when the CRM is a real org. */
const FORWARDED_HEADERS = ['AuthorizationContextType'];

/**
 * The handler of a JSON /api/v1 operation: validate the body (refusing before anything changes), then run
 * the CRM call once per (operation, RequestId, body) and answer with its outcome.
 */
export function jsonOperation<T>(
  idempotency: Idempotency,
  operation: string,
  validate: (body: unknown, req: Request) => T,
  perform: (call: CrmCall, request: T) => Promise<CrmResponse>,
): RequestHandler {
  return async (req, res) => {
    const headers = FORWARDED_HEADERS.flatMap((h) => (req.get(h) ? [[h, req.get(h)!] as const] : []));
    const call = { ...callOf(res), original: { body: req.body, headers: Object.fromEntries(headers) } };
    const request = validate(req.body, req);
    const fingerprint = requestFingerprint(call, JSON.stringify(req.body ?? null));
    const outcome = await idempotency.run({ operation, requestId: call.requestId, fingerprint }, req.log, () => perform(call, request));
    sendOutcome(res, outcome);
  };
}
