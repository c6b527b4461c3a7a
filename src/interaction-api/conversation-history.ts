import express, { type Router } from 'express';
import { validateConversationHistoryRequest } from '../contract/conversation-history-request.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { jsonOperation } from './json-operation.ts';

/** `POST /api/v1/conversationHistory`: backfills a conversation's past entries and who took part. */
export function conversationHistoryRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/conversationHistory',
    jsonOperation(deps.idempotency, 'POST /conversationHistory', validateConversationHistoryRequest, (scope, call, r) =>
      deps.crm.addConversationHistory(scope, call, r),
    ),
  );
  return router;
}
