import express, { type Router } from 'express';
import { validateParticipantRequest } from '../contract/participant-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/participant`: a participant leaves a conversation. */
export function participantRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/participant',
    jsonOperation(deps.idempotency, 'POST /participant', validateParticipantRequest, (scope, call, r) =>
      deps.crm.changeParticipant(scope, call, r),
    ),
  );
  return router;
}
