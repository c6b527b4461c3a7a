import express, { type Router } from 'express';
import { managementError } from '../contract/management-errors.ts';
import { downloadUrl } from './attachment-routes.ts';
import type { ManagementAppDeps } from './management-app.ts';

/** `GET /api/conversations` and `GET /api/conversations/{conversationIdentifier}`. */
export function conversationRoutes(
  deps: Pick<ManagementAppDeps, 'orgId' | 'conversations' | 'routingViews' | 'attachmentRecords'>,
): Router {
  const router = express.Router();
  router.get('/conversations', async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1000);
    res.json({ conversations: await deps.conversations.list(deps.orgId, { limit }) });
  });

  router.get('/conversations/:conversationIdentifier', async (req, res) => {
    const conversation = await deps.conversations.get(req.params.conversationIdentifier);
    if (!conversation) throw managementError('not_found', `No conversation "${req.params.conversationIdentifier}".`);
    const records = await deps.attachmentRecords.ofConversation(conversation.conversationIdentifier);
    const entries = conversation.entries.map((entry) => {
      const mine = records.filter((r) => r.entryId === entry.entryId);
      if (mine.length === 0) return entry;
      const attachments = mine.map((r) => ({
        id: r.id,
        name: r.name,
        mimeType: r.mimeType,
        size: r.size,
        sha256: r.sha256,
        url: `s3://${r.bucket}/${r.objectKey}`,
        downloadUrl: downloadUrl(req, r.id),
      }));
      return { ...entry, attachments };
    });
    res.json({ ...conversation, entries, ...(await deps.routingViews.conversationRouting(conversation)) });
  });
  return router;
}
