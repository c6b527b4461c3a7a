import express, { type Router } from 'express';
import { z } from 'zod';
import { PAYLOAD_SHAPES } from '../contract/outbound-event.ts';
import { parseInput } from './parse-input.ts';
import type { AgentFiles } from '../local-org/agent-files.ts';
import type { AgentMessages } from '../local-org/agent-messages.ts';
import { managementError } from '../contract/management-errors.ts';
import type { ManagementOperation } from './openapi/operation.ts';

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

const fileQuery = z.object({
  name: z.string().trim().min(1).max(255).describe('The file name the end user sees'),
  mimeType: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type such as image/png')
    .optional()
    .describe('The file’s type (default: the request’s Content-Type)'),
  text: z.string().max(32_000).default('').describe('Text sent with the file'),
});

const answersWithConflict = (what: string) => ({
  201: 'The entry and its outbound event.',
  400: 'The body is not valid (`invalid_request`).',
  404: 'No such conversation (`not_found`).',
  409: what,
});

export const agentOperations: ManagementOperation[] = [
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/messages',
    tag: 'Agent (local org)',
    summary:
      'Send an agent message (text, attachments by URL, or any message format of the contract) to the end user, published as an outbound event',
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
      403: 'The end user opted out (`end_user_opted_out`).',
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
  {
    method: 'patch',
    path: '/api/conversations/:conversationIdentifier/messages/:entryId',
    tag: 'Agent (local org)',
    summary: 'Edit one of the agent’s messages: published as MessageUpdated with the new version under the message’s id',
    body: agentMessageBody,
    responses: {
      201: 'The entry and its outbound event.',
      400: 'The body is not valid (`invalid_request`).',
      403: 'The end user opted out (`end_user_opted_out`).',
      404: 'No such conversation, or no such agent message in it (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/delivered',
    tag: 'Agent (local org)',
    summary: 'Acknowledge delivery of an end user’s entry (by default the latest)',
    body: acknowledgementBody,
    responses: {
      ...answersWithConflict('The conversation has no end-user entry to acknowledge (`conflict`).'),
      404: 'No such conversation, or no such end-user entry (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/read',
    tag: 'Agent (local org)',
    summary: 'Acknowledge that the agent read an end user’s entry (by default the latest)',
    body: acknowledgementBody,
    responses: {
      ...answersWithConflict('The conversation has no end-user entry to acknowledge (`conflict`).'),
      404: 'No such conversation, or no such end-user entry (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/participants',
    tag: 'Agent (local org)',
    summary: 'Add, remove or update a participant of the conversation (ParticipantChanged)',
    body: participantBody,
    responses: {
      201: 'The entry and its outbound event.',
      400: 'The body is not valid (`invalid_request`).',
      404: 'No such conversation (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/end',
    tag: 'Agent (local org)',
    summary: 'End the conversation’s open messaging session as the agent (SessionStatusChanged)',
    body: endBody,
    responses: answersWithConflict('The conversation has no open messaging session (`conflict`).'),
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/delivery-failed',
    tag: 'Agent (local org)',
    summary: 'Report that the end user’s channel could not take one of the agent’s entries (MessageDeliveryFailed)',
    body: deliveryFailedBody,
    responses: {
      201: 'The entry and its outbound event.',
      400: 'The body is not valid (`invalid_request`).',
      404: 'No such conversation, or no such entry of the agent side (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/progress',
    tag: 'Agent (local org)',
    summary: 'Send a progress indicator (“still working on it”)',
    body: endBody,
    responses: {
      201: 'The entry and its outbound event.',
      400: 'The body is not valid (`invalid_request`).',
      403: 'The end user opted out (`end_user_opted_out`).',
      404: 'No such conversation (`not_found`).',
    },
  },
  {
    method: 'post',
    path: '/api/conversations/:conversationIdentifier/queue-position',
    tag: 'Agent (local org)',
    summary: 'Tell the end user their place in the queue of the session’s open routing (QueuePosition)',
    body: queuePositionBody,
    responses: {
      ...answersWithConflict('Nothing is being routed in the conversation (`conflict`).'),
      403: 'The end user opted out (`end_user_opted_out`).',
    },
  },
];

/**
 * The local org's agent, one route per thing an agent does in a conversation; each answers 201 with the
 * entry and the outbound event it published.
 */
export function agentRoutes(deps: { agentMessages: AgentMessages; agentFiles: AgentFiles; maxFileBytes: number }): Router {
  const router = express.Router();
  const agent = deps.agentMessages;
  router.post('/conversations/:conversationIdentifier/messages', async (req, res) => {
    const body = parseInput(agentMessageBody, req.body);
    res.status(201).json(await agent.sendMessage(req.params.conversationIdentifier, body));
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
      const sent = await deps.agentFiles.send(req.params.conversationIdentifier, { name: query.name, mimeType, bytes, text: query.text });
      res.status(201).json(sent);
    },
  );
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
