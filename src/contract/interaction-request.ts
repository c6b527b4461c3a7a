import { z } from 'zod';
import { apiError } from './interaction-errors.ts';
import { checkJsonLimits, MAX_INT32 } from './json-limits.ts';

/*
 * The JSON part of `POST /api/v1/interactions`. Validation goes from the outside in, and each level has
 * its own Interaction API code, so a client learns exactly which part of its request is wrong. Unknown
 * properties are ignored; the objects are kept as sent so what is stored is what the client posted.
 */

export const INTERACTION_TYPES = ['EntryInteraction', 'AttachmentInteraction'] as const;
/** Entry types an end user's platform may post through /interactions (the others have their own APIs or are CRM-side). */
export const INBOUND_ENTRY_TYPES = ['Message', 'TypingStartedIndicator', 'TypingStoppedIndicator', 'MessageDeliveryFailed'] as const;
export const MESSAGE_TYPES = [
  'ChoicesMessage',
  'ChoicesResponseMessage',
  'FormMessage',
  'FormResponseMessage',
  'StaticContentMessage',
] as const;
export const END_USER_MESSAGE_TYPES = ['StaticContentMessage', 'ChoicesResponseMessage', 'FormResponseMessage'] as const;
export const FORMAT_TYPES = [
  'Attachments',
  'RichLink',
  'Media',
  'Buttons',
  'Carousel',
  'QuickReplies',
  'ListPicker',
  'Selections',
  'Links',
  'TimePicker',
  'Application',
  'Result',
  'Inputs',
  'WebView',
  'Text',
  'ExperienceType',
  'Flow',
  'MessageDefinition',
] as const;
/** Which format types each end-user message type may carry, per the contract's discriminator mappings. */
const FORMATS_BY_MESSAGE_TYPE: Record<(typeof END_USER_MESSAGE_TYPES)[number], { field: string; formats: readonly string[] }> = {
  StaticContentMessage: { field: 'staticContent', formats: ['Text', 'Links', 'ExperienceType', 'Attachments'] },
  ChoicesResponseMessage: { field: 'choicesResponse', formats: ['Selections'] },
  FormResponseMessage: { field: 'formResponse', formats: ['Inputs', 'Result'] },
};

const nonEmpty = z.string().min(1);
const epochMillis = z.number().int().nonnegative();
const looseObject = z.looseObject({});

const attachmentSchema = z.looseObject({ id: nonEmpty, name: z.string(), mimeType: nonEmpty, url: z.string() });
const formatContentSchemas: Record<string, z.ZodType> = {
  Text: z.looseObject({ text: z.string().min(1) }),
  Links: z.looseObject({ links: z.array(z.looseObject({ url: nonEmpty })).length(1) }),
  ExperienceType: z.looseObject({ values: z.array(z.looseObject({ type: z.unknown(), value: looseObject })).min(1) }),
  Attachments: z.looseObject({ text: z.string().optional(), attachments: z.array(attachmentSchema).min(1) }),
  Selections: z.looseObject({ selectedOptions: z.array(z.looseObject({ optionIdentifier: nonEmpty })).min(1) }),
  Inputs: z.looseObject({ inputValues: z.array(looseObject) }),
  Result: z.looseObject({ result: z.looseObject({ resultType: z.enum(['FormRecordsResult', 'FormErrorResult']) }) }),
};
const messageCommonSchema = z.looseObject({
  inReplyToMessageId: z.string().optional(),
  customHandlingType: z.enum(['None', 'Survey']).optional(),
  references: z.array(z.looseObject({ id: nonEmpty, recordId: nonEmpty })).optional(),
});
const indicatorSchema = z.looseObject({ timestamp: epochMillis });
const deliveryFailedSchema = z.looseObject({
  errorCode: nonEmpty,
  errorMessage: z.string().optional(),
  failedConversationEntryIdentifier: z.string().optional(),
});
const routingAttributesSchema = z.record(z.string(), z.string());
const attachmentInteractionSchema = z.looseObject({
  id: z.string(),
  attachmentIndex: z.number().int().nonnegative().max(MAX_INT32),
  contentLength: z.number().int().nonnegative(),
  text: z.string().nullable().optional(),
});

export type JsonObject = Record<string, unknown>;

export interface EntryInteraction {
  interactionType: 'EntryInteraction';
  timestamp: number;
  entryType: (typeof INBOUND_ENTRY_TYPES)[number];
  entryId: string;
  /** The entry exactly as the client sent it. */
  payload: JsonObject;
}

export interface AttachmentInteraction {
  interactionType: 'AttachmentInteraction';
  timestamp: number;
  id: string;
  attachmentIndex: number;
  contentLength: number;
  text?: string | null;
}

export type Interaction = EntryInteraction | AttachmentInteraction;

export interface InteractionRequest {
  to: string;
  from: string;
  routingAttributes?: Record<string, string>;
  interactions: Interaction[];
}

export const attachmentInteractionsOf = (request: InteractionRequest): AttachmentInteraction[] =>
  request.interactions.filter((i): i is AttachmentInteraction => i.interactionType === 'AttachmentInteraction');

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: JsonObject, key: string) => o[key] !== undefined && o[key] !== null;

/** Parses the raw text of the `json` part. */
export function parseInteractionJsonPart(text: string | undefined): InteractionRequest & { jsonText: string } {
  if (text === undefined || text.trim() === '') {
    throw apiError('MissingJsonPart');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw apiError('MalformedBody', { problem: 'the "json" part is not valid JSON' });
  }
  checkJsonLimits(raw, 'The "json" part');
  return { jsonText: text, ...validateInteractionRequest(raw) };
}

export function validateInteractionRequest(raw: unknown): InteractionRequest {
  if (!isObject(raw)) throw apiError('MalformedBody', { problem: 'the interaction request must be a JSON object' });
  const { to, from, interactions, routingAttributes } = raw;
  if (typeof to !== 'string' || to.trim() === '' || to.length > 240) {
    throw apiError('InvalidTo');
  }
  if (typeof from !== 'string' || from.trim() === '' || from.length > 255) {
    throw apiError('InvalidFrom');
  }
  let attributes: Record<string, string> | undefined;
  if (routingAttributes !== undefined && routingAttributes !== null) {
    const parsed = routingAttributesSchema.safeParse(routingAttributes);
    if (!parsed.success) {
      throw apiError('InvalidParameter', {
        field: 'routingAttributes',
        rule: 'must be an object mapping channel variable names to string values',
      });
    }
    attributes = parsed.data;
  }
  if (!Array.isArray(interactions) || interactions.length === 0) {
    throw apiError('InvalidInteractionList', { where: '"interactions"', rule: 'must be a non-empty list' });
  }
  const parsedInteractions = interactions.map((interaction, index) => parseInteraction(interaction, index));
  const entryCount = parsedInteractions.filter((i) => i.interactionType === 'EntryInteraction').length;
  if (entryCount > 0 && parsedInteractions.length > 1) {
    throw apiError('InvalidInteractionList', { where: 'An EntryInteraction', rule: 'must be the only interaction of its request' });
  }
  return { to, from, ...(attributes ? { routingAttributes: attributes } : {}), interactions: parsedInteractions };
}

function parseInteraction(raw: unknown, index: number): Interaction {
  const where = `interactions[${index}]`;
  if (!isObject(raw)) throw apiError('InvalidInteractionList', { where, rule: 'must be an object' });
  const type = raw.interactionType;
  if (!INTERACTION_TYPES.includes(type as never)) {
    throw apiError('InvalidInteractionList', { where: `${where}.interactionType`, rule: `must be one of ${INTERACTION_TYPES.join(', ')}` });
  }
  if (!epochMillis.safeParse(raw.timestamp).success) {
    throw apiError('InvalidInteractionList', { where: `${where}.timestamp`, rule: 'must be a Unix epoch time in milliseconds' });
  }
  const timestamp = raw.timestamp as number;
  if (type === 'AttachmentInteraction') return parseAttachmentInteraction(raw, timestamp, where);
  return parseEntryInteraction(raw.payload, timestamp, `${where}.payload`);
}

function parseAttachmentInteraction(raw: JsonObject, timestamp: number, where: string): AttachmentInteraction {
  if (typeof raw.id !== 'string' || raw.id.trim() === '') {
    throw apiError('MissingFileId', { where });
  }
  if (!has(raw, 'contentLength')) {
    throw apiError('MissingContentLength', { where });
  }
  const parsed = attachmentInteractionSchema.safeParse(raw);
  if (!parsed.success) {
    throw apiError('InvalidInteractionList', {
      where,
      rule: 'needs an integer attachmentIndex and contentLength, and text (if any) must be a string',
    });
  }
  return { interactionType: 'AttachmentInteraction', timestamp, ...parsed.data };
}

function parseEntryInteraction(payload: unknown, timestamp: number, where: string): EntryInteraction {
  if (!isObject(payload)) throw apiError('InvalidEntryFormat', { where, rule: 'must be an entry object' });
  const entryType = payload.entryType;
  if (!INBOUND_ENTRY_TYPES.includes(entryType as never)) {
    throw apiError('InvalidEntryFormat', {
      where: `${where}.entryType`,
      rule: `must be one of ${INBOUND_ENTRY_TYPES.join(', ')}; got ${JSON.stringify(entryType ?? null)}`,
    });
  }
  if (typeof payload.id !== 'string' || payload.id.trim() === '') {
    throw apiError('MissingEntryId', { where });
  }
  switch (entryType as EntryInteraction['entryType']) {
    case 'Message':
      checkMessage(payload, where);
      break;
    case 'TypingStartedIndicator':
    case 'TypingStoppedIndicator':
      if (!indicatorSchema.safeParse(payload).success) {
        throw apiError('InvalidEntryFormat', {
          where: `${where}.timestamp`,
          rule: 'is required for a typing indicator: a Unix epoch time in milliseconds',
        });
      }
      break;
    case 'MessageDeliveryFailed':
      checkDeliveryFailed(payload, where);
      break;
  }
  return {
    interactionType: 'EntryInteraction',
    timestamp,
    entryType: entryType as EntryInteraction['entryType'],
    entryId: payload.id,
    payload,
  };
}

function checkMessage(payload: JsonObject, where: string) {
  const message = payload.abstractMessage;
  if (!isObject(message))
    throw apiError('InvalidEntryFormat', { where: `${where}.abstractMessage`, rule: 'is required for a Message entry' });
  const messageType = message.messageType;
  if (!MESSAGE_TYPES.includes(messageType as never)) {
    throw apiError('InvalidMessageType', { where, allowed: MESSAGE_TYPES });
  }
  if (!END_USER_MESSAGE_TYPES.includes(messageType as never)) {
    throw apiError('MessageTypeNotAllowedFromEndUser', { allowed: END_USER_MESSAGE_TYPES, messageType });
  }
  if (typeof message.id !== 'string' || message.id.trim() === '') {
    throw apiError('MissingEntryId', { where: `${where}.abstractMessage` });
  }
  if (message.id !== payload.id) {
    throw apiError('MismatchedInteractionAndMessageId', { where });
  }
  if (!messageCommonSchema.safeParse(message).success) {
    throw apiError('InvalidEntryFormat', {
      where: `${where}.abstractMessage`,
      rule: 'has an invalid inReplyToMessageId, customHandlingType or references',
    });
  }
  const { field, formats } = FORMATS_BY_MESSAGE_TYPE[messageType as keyof typeof FORMATS_BY_MESSAGE_TYPE];
  const content = message[field];
  const path = `${where}.abstractMessage.${field}`;
  if (!isObject(content)) throw apiError('InvalidEntryFormat', { where: path, rule: `is required for a ${String(messageType)}` });
  const formatType = content.formatType;
  if (!FORMAT_TYPES.includes(formatType as never)) {
    throw apiError('InvalidFormatType', { where: path, formatType });
  }
  if (!formats.includes(formatType as string)) {
    throw apiError('InvalidMessageFormatCombination', { messageType, allowed: formats, formatType });
  }
  const contentCheck = formatContentSchemas[formatType as string]?.safeParse(content);
  if (contentCheck && !contentCheck.success) {
    const issue = contentCheck.error.issues[0];
    throw apiError('InvalidEntryFormat', {
      where: `${path}${issue?.path.length ? `.${issue.path.join('.')}` : ''}`,
      rule: `is not valid for formatType ${String(formatType)}: ${issue?.message ?? 'invalid'}`,
    });
  }
}

function checkDeliveryFailed(payload: JsonObject, where: string) {
  const recipient = payload.recipient;
  if (!isObject(recipient))
    throw apiError('InvalidEntryFormat', { where: `${where}.recipient`, rule: 'is required for MessageDeliveryFailed' });
  if (recipient.appType !== 'custom') {
    throw apiError('UnsupportedAppType', { where });
  }
  if (recipient.role !== 'EndUser') {
    throw apiError('UnsupportedParticipantRole', { where });
  }
  if (typeof recipient.subject !== 'string' || recipient.subject.trim() === '') {
    throw apiError('UnknownParticipant', { where });
  }
  const parsed = deliveryFailedSchema.safeParse(payload);
  if (!parsed.success) {
    throw apiError('InvalidEntryFormat', {
      where,
      rule: 'needs a string errorCode; errorMessage and failedConversationEntryIdentifier must be strings',
    });
  }
}
