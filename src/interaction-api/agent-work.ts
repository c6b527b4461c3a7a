import express, { type Router } from 'express';
import { validateAgentWorkRequest, validateUpdateAgentWorkRequest } from '../contract/agent-work-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/agentWork` (assign a work item to an agent) and `PATCH /api/v1/agentWork` (accept, decline, cancel, close). */
export function agentWorkRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/agentWork',
    jsonOperation(deps.idempotency, 'POST /agentWork', validateAgentWorkRequest, (scope, call, r) =>
      deps.crm.createAgentWork(scope, call, r),
    ),
  );
  router.patch(
    '/agentWork',
    jsonOperation(
      deps.idempotency,
      'PATCH /agentWork',
      (body, req) => validateUpdateAgentWorkRequest(body, req.get('AuthorizationContextType')),
      (scope, call, r) => deps.crm.updateAgentWork(scope, call, r),
    ),
  );
  return router;
}
