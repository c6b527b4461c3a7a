import express, { type Router } from 'express';
import { validateConsentRequest } from '../contract/consent-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `PATCH /api/v1/consent`: an end user's messaging consent on a channel. */
export function consentRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.patch(
    '/consent',
    jsonOperation(deps.idempotency, 'PATCH /consent', validateConsentRequest, (scope, call, r) => deps.crm.updateConsent(scope, call, r)),
  );
  return router;
}
