import express, { type Router } from 'express';
import { validateMessagingSessionRequest } from '../contract/messaging-session-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/messagingSession`: ends or inactivates a conversation's messaging session. */
export function messagingSessionRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/messagingSession',
    jsonOperation(deps.idempotency, 'POST /messagingSession', validateMessagingSessionRequest, (scope, call, r) =>
      deps.crm.changeMessagingSession(scope, call, r),
    ),
  );
  return router;
}
