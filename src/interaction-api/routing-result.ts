import express, { type Router } from 'express';
import { validateRoutingResultRequest } from '../contract/routing-result-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/routingResult`: the partner reports where its routing of a work item went. */
export function routingResultRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/routingResult',
    jsonOperation(deps.idempotency, 'POST /routingResult', validateRoutingResultRequest, (scope, call, r) =>
      deps.crm.postRoutingResult(scope, call, r),
    ),
  );
  return router;
}
