import express, { type Router } from 'express';
import { z } from 'zod';
import { parseInput } from './parse-input.ts';
import type { AgentFiles } from '../local-org/agent-files.ts';
import type { AgentMessages } from '../local-org/agent-messages.ts';
import { managementError } from '../contract/management-errors.ts';
import { downloadUrl } from './attachment-routes.ts';
import type { ManagementOperation } from './openapi/operation.ts';

const shape = z.enum(['legacy', 'spring24']).optional();
const agentMessageBody = z
  .object({
    text: z.string().max(32_000).default(''),
    attachments: z
      .array(
        z.object({
          url: z.url().refine((u) => /^https?:/i.test(u), 'must be an http(s) URL'),
          name: z.string().min(1).max(255).optional(),
          mimeType: z.string().min(1).max(255).optional(),
          id: z.string().min(1).max(255).optional(),
        }),
      )
      .max(10)
      .optional(),
    shape,
    senderDisplayName: z.string().min(1).max(255).optional(),
  })
  .refine((b) => b.text.length > 0 || (b.attachments?.length ?? 0) > 0, 'text is required unless attachments are given');
const typingBody = z.object({ state: z.enum(['started', 'stopped']), shape });
const fileQuery = z.object({
  name: z.string().trim().min(1).max(255).describe('The file name the end user sees'),
  mimeType: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type such as image/png')
    .optional()
    .describe('The file’s type (default: the request’s Content-Type)'),
  text: z.string().max(32_000).default('').describe('Text sent with the file'),
});

export const agentOperations: ManagementOperation[] = [
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/messages',
    tag: 'Agent (local org)',
    summary: 'Send an agent message (text, or attachments by URL) to the end user, published as an outbound event',
    body: agentMessageBody,
    responses: {
      201: 'The entry and its outbound event.',
      400: 'The body is not valid (`invalid_request`).',
      403: 'The end user opted out (`end_user_opted_out`).',
      404: 'No such conversation (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/typing',
    tag: 'Agent (local org)',
    summary: 'Send the agent’s typing started or stopped indicator',
    body: typingBody,
    responses: {
      201: 'The entry and its outbound event.',
      400: 'The body is not valid (`invalid_request`).',
      404: 'No such conversation (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/files',
    tag: 'Agent (local org)',
    summary: 'Send a file as the agent: the request body is the file’s bytes; stored in the attachment bucket and sent as an attachment',
    query: fileQuery,
    rawBody: true,
    responses: {
      201: 'The entry and its outbound event.',
      400: 'A query parameter is not valid, or the body is empty (`invalid_request`).',
      403: 'The end user opted out (`end_user_opted_out`).',
      404: 'No such conversation (`not_found`).',
      413: 'The file is larger than ATTACHMENT_MAX_BYTES.',
    },
  },
];

/** The local org's agent: `POST /api/conversations/{id}/messages`, `.../typing` and `.../files`. */
export function agentRoutes(deps: { agentMessages: AgentMessages; agentFiles: AgentFiles; maxFileBytes: number }): Router {
  const router = express.Router();
  router.post('/conversations/:conversationIdentifier/messages', async (req, res) => {
    const body = parseInput(agentMessageBody, req.body);
    res.status(201).json(await deps.agentMessages.sendMessage(req.params.conversationIdentifier, body));
  });
  // Any Content-Type is the file's own; the management app's JSON parser has already read a JSON file, so
  // such a file is sent as application/octet-stream with ?mimeType=application/json.
  router.post(
    '/conversations/:conversationIdentifier/files',
    express.raw({ type: () => true, limit: deps.maxFileBytes }),
    async (req, res) => {
      const query = parseInput(fileQuery, req.query);
      const bytes: unknown = req.body;
      if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
        throw managementError('invalid_request', 'Send the file’s bytes as the request body (application/octet-stream for JSON files).');
      }
      const mimeType = query.mimeType ?? req.get('content-type')?.split(';')[0]?.trim() ?? 'application/octet-stream';
      const sent = await deps.agentFiles.send(
        req.params.conversationIdentifier,
        { name: query.name, mimeType, bytes, text: query.text },
        (id) => downloadUrl(req, id),
      );
      res.status(201).json(sent);
    },
  );
  router.post('/conversations/:conversationIdentifier/typing', async (req, res) => {
    const body = parseInput(typingBody, req.body);
    res.status(201).json(await deps.agentMessages.sendTyping(req.params.conversationIdentifier, body.state, body.shape));
  });
  return router;
}
