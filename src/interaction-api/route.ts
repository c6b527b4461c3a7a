import express, { type Router } from 'express';
import { validateCancelRouteRequest, validateRouteRequest } from '../contract/route-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/route` (create a pending service routing) and `DELETE /api/v1/route` (cancel it). */
export function routeRoutes(deps: { crm: CrmPort; idempotency: Idempotency }): Router {
  const router = express.Router();
  router.post(
    '/route',
    jsonOperation(deps.idempotency, 'POST /route', validateRouteRequest, (call, r) => deps.crm.route(call, r)),
  );
  router.delete(
    '/route',
    jsonOperation(deps.idempotency, 'DELETE /route', validateCancelRouteRequest, (call, r) => deps.crm.cancelRoute(call, r)),
  );
  return router;
}
