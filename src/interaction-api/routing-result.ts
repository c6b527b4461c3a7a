import express, { type Router } from 'express';
import { validateRoutingResultRequest } from '../contract/routing-result-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/routingResult`: the partner reports where its routing of a work item went. */
export function routingResultRoutes(deps: { crm: CrmPort; idempotency: Idempotency }): Router {
  const router = express.Router();
  router.post(
    '/routingResult',
    jsonOperation(deps.idempotency, 'POST /routingResult', validateRoutingResultRequest, (call, r) => deps.crm.postRoutingResult(call, r)),
  );
  return router;
}
