import express, { type Router } from 'express';
import { z } from 'zod';
import { parseInput } from './parse-input.ts';
import type { AgentMessages } from '../local-org/agent-messages.ts';

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

/** The local org's agent: `POST /api/conversations/{id}/messages` and `POST /api/conversations/{id}/typing`. */
export function agentRoutes(deps: { agentMessages: AgentMessages }): Router {
  const router = express.Router();
  router.post('/conversations/:conversationIdentifier/messages', async (req, res) => {
    const body = parseInput(agentMessageBody, req.body);
    res.status(201).json(await deps.agentMessages.sendMessage(req.params.conversationIdentifier, body));
  });
  router.post('/conversations/:conversationIdentifier/typing', async (req, res) => {
    const body = parseInput(typingBody, req.body);
    res.status(201).json(await deps.agentMessages.sendTyping(req.params.conversationIdentifier, body.state, body.shape));
  });
  return router;
}
