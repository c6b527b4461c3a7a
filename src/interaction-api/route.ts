import express, { type Router } from 'express';
import { validateCancelRouteRequest, validateRouteRequest } from '../contract/route-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/route` (create a pending service routing) and `DELETE /api/v1/route` (cancel it). */
export function routeRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/route',
    jsonOperation(deps.idempotency, 'POST /route', validateRouteRequest, (scope, call, r) => deps.crm.route(scope, call, r)),
  );
  router.delete(
    '/route',
    jsonOperation(deps.idempotency, 'DELETE /route', validateCancelRouteRequest, (scope, call, r) => deps.crm.cancelRoute(scope, call, r)),
  );
  return router;
}
