import express, { type Router } from 'express';
import { validateConversationEntryRequest } from '../contract/conversation-entry-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/conversationEntry`: adds a participant's entry to a conversation. */
export function conversationEntryRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/conversationEntry',
    jsonOperation(deps.idempotency, 'POST /conversationEntry', validateConversationEntryRequest, (scope, call, r) =>
      deps.crm.addConversationEntry(scope, call, r),
    ),
  );
  return router;
}
