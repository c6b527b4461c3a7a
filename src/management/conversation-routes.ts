import express, { type Router } from 'express';
import { notFound } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import type { ManagementAppDeps } from './management-app.ts';

/** `GET /api/conversations` and `GET /api/conversations/{conversationIdentifier}`. */
export function conversationRoutes(deps: Pick<ManagementAppDeps, 'orgId' | 'conversations' | 'routingViews'>): Router {
  const router = express.Router();
  router.get('/conversations', async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1000);
    res.json({ conversations: await deps.conversations.list(deps.orgId, { limit }) });
  });

  router.get('/conversations/:conversationIdentifier', async (req, res) => {
    const conversation = await deps.conversations.get(req.params.conversationIdentifier);
    if (!conversation) throw notFound(ErrorCode.InvalidConversationIdentifier, `No conversation "${req.params.conversationIdentifier}".`);
    res.json({ ...conversation, ...(await deps.routingViews.conversationRouting(conversation)) });
  });
  return router;
}
