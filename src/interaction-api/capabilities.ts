import express, { type Router } from 'express';
import { validateCapabilitiesRequest } from '../contract/capabilities-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `PATCH /api/v1/capabilities`: registers the structured content a channel's app can render. */
export function capabilitiesRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.patch(
    '/capabilities',
    jsonOperation(deps.idempotency, 'PATCH /capabilities', validateCapabilitiesRequest, (scope, call, r) =>
      deps.crm.registerCapabilities(scope, call, r),
    ),
  );
  return router;
}
