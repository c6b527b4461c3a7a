import { createHash } from 'node:crypto';
import express, { type Router } from 'express';
import { validateConversationEntriesQuery } from '../contract/conversation-entries-query.ts';
import { validateConversationEntryRequest } from '../contract/conversation-entry-request.ts';
import { isJsonObject } from '../contract/json-body.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import type { Idempotency } from '../http/idempotency.ts';
import { callOf } from '../http/interaction-guard.ts';
import { rawBodyOf } from '../http/raw-body.ts';
import { jsonOperation, operationHeadersOf } from './json-operation.ts';
import { sendOutcome } from './send-outcome.ts';

/**
 * `POST /api/v1/conversationEntry` (add an entry to a conversation) and `GET /api/v1/conversationEntry`
 * (a page of its entries). The GET takes its fields from a JSON body, as the contract has it, or from query
 * parameters of the same names for clients that cannot send a body with GET; a body, when sent, wins.
 */
export function conversationEntryRoutes<Scope>(deps: { crm: CrmPort<Scope>; idempotency: Idempotency<Scope> }): Router {
  const router = express.Router();
  router.post(
    '/conversationEntry',
    jsonOperation(deps.idempotency, 'POST /conversationEntry', validateConversationEntryRequest, (scope, call, r) =>
      deps.crm.addConversationEntry(scope, call, r),
    ),
  );
  router.get('/conversationEntry', async (req, res) => {
    const call = callOf(res);
    const text = rawBodyOf(req);
    const fromBody = text !== undefined && isJsonObject(req.body) && Object.keys(req.body).length > 0;
    const source = fromBody ? (req.body as Record<string, unknown>) : { ...(req.query as Record<string, unknown>) };
    const parsed = validateConversationEntriesQuery(source);
    const queryAt = req.originalUrl.indexOf('?');
    const raw = {
      body: text ?? '',
      headers: operationHeadersOf(req),
      ...(queryAt === -1 ? {} : { query: req.originalUrl.slice(queryAt + 1) }),
    };
    // A read: the RequestId still makes it idempotent, so a retried page answers as the first did.
    const fingerprint = createHash('sha256').update(JSON.stringify(source)).digest('hex');
    const outcome = await deps.idempotency.run(
      { operation: 'GET /conversationEntry', requestId: call.requestId, fingerprint },
      req.log,
      (scope) => deps.crm.listConversationEntries(scope, call, { parsed, raw }),
    );
    sendOutcome(res, outcome);
  });
  return router;
}
