import express, { type Router } from 'express';
import { z } from 'zod';
import { PAYLOAD_SHAPES } from '../contract/outbound-event.ts';
import { parseInput } from './parse-input.ts';
import type { AgentMessages } from '../local-org/agent-messages.ts';

const shape = z.enum(PAYLOAD_SHAPES).optional();

/**
 * The message formats of the outbound contract, by message type: the content object's key and its
 * format types. The rest of a message is passed through as given (the contract is wide and versioned).
 */
const MESSAGE_FORMATS = {
  StaticContentMessage: {
    key: 'staticContent',
    formats: ['Text', 'Attachments', 'Links', 'RichLink', 'Media', 'WebView', 'ExperienceType', 'Application'],
  },
  ChoicesMessage: { key: 'choices', formats: ['Buttons', 'QuickReplies', 'ListPicker', 'Carousel', 'TimePicker', 'MessageDefinition'] },
  FormMessage: { key: 'form', formats: ['Inputs', 'MessageDefinition'] },
} as const;

const abstractMessage = z
  .looseObject({ messageType: z.enum(Object.keys(MESSAGE_FORMATS) as [keyof typeof MESSAGE_FORMATS]) })
  .superRefine((m, ctx) => {
    const { key, formats } = MESSAGE_FORMATS[m.messageType];
    const content = (m as Record<string, unknown>)[key];
    const formatType = typeof content === 'object' && content !== null ? (content as Record<string, unknown>).formatType : undefined;
    if (typeof formatType !== 'string' || !(formats as readonly string[]).includes(formatType)) {
      ctx.addIssue({
        code: 'custom',
        path: [key, 'formatType'],
        message: `a ${m.messageType} needs ${key}.formatType, one of ${formats.join(', ')}`,
      });
    }
  });

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
    message: abstractMessage.optional(),
    shape,
    senderDisplayName: z.string().min(1).max(255).optional(),
  })
  .refine(
    (b) => (b.message === undefined ? b.text.length > 0 || (b.attachments?.length ?? 0) > 0 : b.text === '' && !b.attachments),
    'give either text (and/or attachments) or message',
  );
const typingBody = z.object({ state: z.enum(['started', 'stopped']), shape });
const acknowledgementBody = z.object({ entryId: z.string().min(1).max(255).optional(), shape }).default({});
const participantBody = z.object({
  operation: z.enum(['add', 'remove', 'update']),
  participant: z.object({
    subject: z.string().min(1).max(255),
    role: z.enum(['Agent', 'Chatbot', 'Supervisor', 'System']).default('Agent'),
    appType: z.enum(['agent', 'chatbot', 'custom', 'conversation']).default('agent'),
  }),
  displayName: z.string().min(1).max(255),
  shape,
});
const endBody = z.object({ shape }).default({});
const deliveryFailedBody = z.object({
  entryId: z.string().min(1).max(255),
  errorCode: z.string().min(1).max(255),
  errorMessage: z.string().min(1).max(1000).optional(),
  shape,
});
const queuePositionBody = z.object({ position: z.number().int().min(0).max(1_000_000), shape });

/**
 * The local org's agent, one route per thing an agent does in a conversation; each answers 201 with the
 * entry and the outbound event it published.
 */
export function agentRoutes(deps: { agentMessages: AgentMessages }): Router {
  const router = express.Router();
  const agent = deps.agentMessages;
  router.post('/conversations/:conversationIdentifier/messages', async (req, res) => {
    const body = parseInput(agentMessageBody, req.body);
    res.status(201).json(await agent.sendMessage(req.params.conversationIdentifier, body));
  });
  router.post('/conversations/:conversationIdentifier/typing', async (req, res) => {
    const body = parseInput(typingBody, req.body);
    res.status(201).json(await agent.sendTyping(req.params.conversationIdentifier, body.state, body.shape));
  });
  router.post('/conversations/:conversationIdentifier/delivered', async (req, res) => {
    const body = parseInput(acknowledgementBody, req.body);
    res.status(201).json(await agent.acknowledge(req.params.conversationIdentifier, 'DeliveryAcknowledgement', body.entryId, body.shape));
  });
  router.post('/conversations/:conversationIdentifier/read', async (req, res) => {
    const body = parseInput(acknowledgementBody, req.body);
    res.status(201).json(await agent.acknowledge(req.params.conversationIdentifier, 'ReadAcknowledgement', body.entryId, body.shape));
  });
  router.post('/conversations/:conversationIdentifier/participants', async (req, res) => {
    const { shape: s, ...change } = parseInput(participantBody, req.body);
    res.status(201).json(await agent.changeParticipant(req.params.conversationIdentifier, change, s));
  });
  router.post('/conversations/:conversationIdentifier/end', async (req, res) => {
    const body = parseInput(endBody, req.body);
    res.status(201).json(await agent.endSession(req.params.conversationIdentifier, body.shape));
  });
  router.patch('/conversations/:conversationIdentifier/messages/:entryId', async (req, res) => {
    const body = parseInput(agentMessageBody, req.body);
    res.status(201).json(await agent.updateMessage(req.params.conversationIdentifier, req.params.entryId, body));
  });
  router.post('/conversations/:conversationIdentifier/delivery-failed', async (req, res) => {
    const { shape: s, ...failure } = parseInput(deliveryFailedBody, req.body);
    res.status(201).json(await agent.reportDeliveryFailure(req.params.conversationIdentifier, failure, s));
  });
  router.post('/conversations/:conversationIdentifier/progress', async (req, res) => {
    const body = parseInput(endBody, req.body);
    res.status(201).json(await agent.sendProgress(req.params.conversationIdentifier, body.shape));
  });
  router.post('/conversations/:conversationIdentifier/queue-position', async (req, res) => {
    const body = parseInput(queuePositionBody, req.body);
    res.status(201).json(await agent.sendQueuePosition(req.params.conversationIdentifier, body.position, body.shape));
  });
  return router;
}
