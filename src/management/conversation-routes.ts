import express, { type Router } from 'express';
import { z } from 'zod';
import { managementError } from '../contract/management-errors.ts';
import { downloadUrl } from './attachment-routes.ts';
import type { ManagementAppDeps } from './management-app.ts';
import type { ManagementOperation } from './openapi/operation.ts';
import { parseInput } from './parse-input.ts';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('How many, newest first'),
  channelAddressIdentifier: z.string().min(1).max(240).optional().describe('Only this channel’s conversations'),
  endUserClientIdentifier: z.string().min(1).max(240).optional().describe('Only this end user’s conversations'),
});

export const conversationOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/conversations',
    tag: 'Conversations',
    summary: 'Conversations, newest first, with entry counts',
    query: listQuery,
    responses: { 200: '`{conversations: [...]}`', 400: 'A query parameter is not valid (`invalid_request`).' },
  },
  {
    method: 'get',
    path: '/api/conversations/:conversationIdentifier',
    tag: 'Conversations',
    summary: 'One conversation: entries in order with attachments, consent, sessions, routing, agent work and outbound events',
    responses: { 200: 'The conversation.', 404: 'No such conversation (`not_found`).' },
  },
];

/** `GET /api/conversations` and `GET /api/conversations/{conversationIdentifier}`. */
export function conversationRoutes(
  deps: Pick<ManagementAppDeps, 'orgId' | 'conversations' | 'routingViews' | 'attachmentRecords'>,
): Router {
  const router = express.Router();
  router.get('/conversations', async (req, res) => {
    res.json({ conversations: await deps.conversations.list(deps.orgId, parseInput(listQuery, req.query)) });
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
