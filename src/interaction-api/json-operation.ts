import type { Request, RequestHandler } from 'express';
import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall, CrmResponse, PortRequest } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { callOf } from '../http/interaction-guard.ts';
import { rawBodyOf } from '../http/raw-body.ts';
import { requestFingerprint } from './request-fingerprint.ts';
import { sendOutcome } from './send-outcome.ts';

/** Operation headers beyond the guard's, passed on when the CRM is a real org. */
const FORWARDED_HEADERS = ['AuthorizationContextType'];

/** The operation headers a request carries, as received, for an adapter that forwards them. */
export function operationHeadersOf(req: Request): Record<string, string> {
  const headers = FORWARDED_HEADERS.flatMap((h) => {
    const value = req.get(h);
    return value === undefined ? [] : [[h, value] as const];
  });
  return Object.fromEntries(headers);
}

/**
 * The handler of a JSON /api/v1 operation: validate the body (refusing before anything changes), then run
 * the CRM call once per (operation, RequestId, body) with the request in both forms, and answer with its
 * outcome.
 */
export function jsonOperation<T, Scope>(
  idempotency: Idempotency<Scope>,
  operation: string,
  validate: (body: unknown, req: Request) => T,
  perform: (scope: Scope, call: CrmCall, request: PortRequest<T>) => Promise<CrmResponse>,
): RequestHandler {
  return async (req, res) => {
    const call = callOf(res);
    const text = rawBodyOf(req);
    const parsed = validate(text === undefined ? undefined : req.body, req);
    // Validators refuse a missing body; this keeps a request without its text from going further whatever one accepts.
    if (text === undefined) throw apiError('MissingJsonBody');
    const request: PortRequest<T> = { parsed, raw: { body: text, headers: operationHeadersOf(req) } };
    const fingerprint = requestFingerprint(call, JSON.stringify(req.body ?? null));
    const outcome = await idempotency.run({ operation, requestId: call.requestId, fingerprint }, req.log, (scope) =>
      perform(scope, call, request),
    );
    sendOutcome(res, outcome);
  };
}
