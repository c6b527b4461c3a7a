import express, { type Router } from 'express';
import { validateAcknowledgementRequest } from '../contract/acknowledgement-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/acknowledgement`: delivery and read receipts for the entries an end user received. */
export function acknowledgementRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/acknowledgement',
    jsonOperation(deps.idempotency, 'POST /acknowledgement', validateAcknowledgementRequest, (scope, call, r) =>
      deps.crm.acknowledge(scope, call, r),
    ),
  );
  return router;
}
