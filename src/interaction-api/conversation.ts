import express, { type Router } from 'express';
import { validateConversationRequest } from '../contract/conversation-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/conversation`: establishes an end user's conversation on a channel before any message. */
export function conversationRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/conversation',
    jsonOperation(deps.idempotency, 'POST /conversation', validateConversationRequest, (scope, call, r) =>
      deps.crm.establishConversation(scope, call, r),
    ),
  );
  return router;
}
