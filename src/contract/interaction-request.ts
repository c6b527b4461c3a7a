import { z } from 'zod';
import { apiError } from './interaction-errors.ts';
import { lenientInteger } from './lenient-number.ts';
import { checkJsonLimits, jsonTextWithinLimits, MAX_INT32 } from './json-limits.ts';
import { plainTextInteraction } from './plain-text-interaction.ts';

/*
 * The JSON part of `POST /api/v1/interactions`. Validation goes from the outside in, and each level has
 * its own Interaction API code, so a client learns exactly which part of its request is wrong. Unknown
 * properties are ignored (real clients send extras), except in the objects the contract closes with
 * `additionalProperties: false` (Attachment, SelectedOption, RecordReference); the objects are kept as
 * sent so what is stored is what the client posted. Numbers may come as numeric strings (lenient-number.ts).
 */

export const INTERACTION_TYPES = ['EntryInteraction', 'AttachmentInteraction'] as const;
/** Entry types an end user's platform may post through /interactions (the others have their own APIs or are CRM-side). */
export const INBOUND_ENTRY_TYPES = ['Message', 'TypingStartedIndicator', 'TypingStoppedIndicator', 'MessageDeliveryFailed'] as const;
/** Every entry type of the contract: what /conversationEntry and /conversationHistory may carry. */
export const ENTRY_TYPES = [
  ...INBOUND_ENTRY_TYPES,
  'DeliveryAcknowledgement',
  'ReadAcknowledgement',
  'RoutingWorkResult',
  'ParticipantChanged',
  'RoutingResult',
  'Note',
  'FlagRaise',
  'FlagLower',
  'EndUserConsentUpdated',
  'SessionStatusChanged',
  'ConsultConversationInfo',
] as const;
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
/** Which format types each message type may carry, and in which field, per the contract's discriminator mappings. */
const FORMATS_BY_MESSAGE_TYPE: Record<(typeof MESSAGE_TYPES)[number], { field: string; formats: readonly string[] }> = {
  StaticContentMessage: { field: 'staticContent', formats: ['Text', 'Links', 'ExperienceType', 'Attachments'] },
  ChoicesResponseMessage: { field: 'choicesResponse', formats: ['Selections'] },
  FormResponseMessage: { field: 'formResponse', formats: ['Inputs', 'Result'] },
  ChoicesMessage: { field: 'choices', formats: ['TimePicker', 'MessageDefinition', 'Buttons', 'Carousel', 'QuickReplies', 'ListPicker'] },
  FormMessage: { field: 'form', formats: ['Inputs', 'MessageDefinition'] },
};

/**
 * How far an interaction's timestamp may be from the server's clock (10046). The contract names a window
 * without giving it: a day back covers a partner's retry queue and an outage of its own, a few minutes
 * ahead covers clock skew. Older history goes through its own operation.
 */
export const TIMESTAMP_WINDOW = { pastMs: 24 * 60 * 60 * 1000, futureMs: 10 * 60 * 1000 } as const;

const nonEmpty = z.string().min(1);
/** A non-negative integer, also as a numeric string. */
const count = z.preprocess((v) => lenientInteger(v) ?? v, z.number().int().nonnegative());
const epochMillis = count;
const looseObject = z.looseObject({});
const titleItem = z.looseObject({ itemType: z.enum(['TitleItem', 'TitleImageItem', 'TitleVideoItem']), title: z.string() });

const attachmentSchema = z.strictObject({
  id: nonEmpty,
  name: z.string(),
  mimeType: nonEmpty,
  url: z.string(),
  attachmentUploadResult: looseObject.optional(),
  referenceId: z.string().optional(),
});
const selectedOptionSchema = z.strictObject({ optionIdentifier: nonEmpty, optionTitle: titleItem.optional() });
/** The value types of a form's single input, each with the field that carries its value. */
const VALUE_FIELDS = {
  TextValue: ['textValue'],
  BooleanValue: ['booleanValue'],
  IntegerValue: ['integerValue'],
  DoubleValue: ['doubleValue'],
  UrlValue: ['urlValue'],
  DateValue: ['dateValue'],
  DateTimeValue: ['dateTimeValue'],
  ReferenceValue: ['referenceId'],
  ImageReferenceValue: ['imageReferenceId'],
  ListValue: ['items'],
  CompositeValue: ['items'],
  LocationValue: ['location'],
  AssetReferenceValue: ['assetReferenceId'],
  ExperienceTypeValue: ['type', 'value'],
} as const;
export const VALUE_TYPES = Object.keys(VALUE_FIELDS) as Array<keyof typeof VALUE_FIELDS>;
const valueSchema = z.discriminatedUnion(
  'valueType',
  Object.entries(VALUE_FIELDS).map(([valueType, fields]) =>
    z.looseObject({
      valueType: z.literal(valueType),
      ...Object.fromEntries(fields.map((f) => [f, z.unknown().refine((v) => v !== undefined && v !== null, 'is required')])),
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);
const inputValueSchema = z.discriminatedUnion('inputValueType', [
  z.looseObject({
    inputValueType: z.literal('SingleInputValue'),
    inputId: z.string(),
    value: valueSchema,
  }),
  z.looseObject({
    inputValueType: z.literal('SelectedOptionsInputValue'),
    inputId: z.string(),
    selectedOptions: z.array(selectedOptionSchema),
  }),
]);
const formResultSchema = z.discriminatedUnion('resultType', [
  z.looseObject({
    resultType: z.literal('FormRecordsResult'),
    records: z.array(z.looseObject({ recordReferenceId: z.string(), isCreated: z.boolean() })).length(1),
  }),
  z.looseObject({
    resultType: z.literal('FormErrorResult'),
    errors: z.array(z.looseObject({ errorType: z.string(), errorMessage: z.string() })).min(1),
  }),
]);
const formatContentSchemas: Record<string, z.ZodType> = {
  Text: z.looseObject({ text: z.string() }),
  Links: z.looseObject({ links: z.array(z.looseObject({ url: nonEmpty })).length(1) }),
  ExperienceType: z.looseObject({ values: z.array(z.looseObject({ type: z.unknown(), value: looseObject })).min(1) }),
  Attachments: z.looseObject({ text: z.string().optional(), attachments: z.array(attachmentSchema).min(1) }),
  Selections: z.looseObject({ selectedOptions: z.array(selectedOptionSchema).min(1) }),
  Inputs: z.looseObject({ inputValues: z.array(inputValueSchema) }),
  Result: z.looseObject({ result: formResultSchema }),
};
const messageCommonSchema = z.looseObject({
  inReplyToMessageId: z.string().optional(),
  customHandlingType: z.enum(['None', 'Survey']).optional(),
  references: z.array(z.strictObject({ id: nonEmpty, recordId: nonEmpty })).optional(),
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
  attachmentIndex: z.preprocess((v) => lenientInteger(v) ?? v, z.number().int().nonnegative().max(MAX_INT32)),
  contentLength: count,
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
  if (!jsonTextWithinLimits(text)) checkJsonLimits(raw, 'The "json" part');
  return { jsonText: text, ...(plainTextInteraction(raw) ?? validateInteractionRequest(raw)) };
}

/**
 * The local org's time window for interactions (10046). Not part of `validateInteractionRequest`: the
 * window is this project's choice, and in bridge mode the real org applies its own.
 */
export function checkInteractionTimestamps(request: InteractionRequest, now = Date.now()): void {
  request.interactions.forEach(({ timestamp }, index) => {
    if (timestamp < now - TIMESTAMP_WINDOW.pastMs || timestamp > now + TIMESTAMP_WINDOW.futureMs) {
      throw apiError('TimestampOutsideWindow', {
        where: `interactions[${index}].timestamp`,
        pastHours: TIMESTAMP_WINDOW.pastMs / 3_600_000,
        futureMinutes: TIMESTAMP_WINDOW.futureMs / 60_000,
      });
    }
  });
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
  if (!Array.isArray(interactions)) {
    throw apiError('InvalidInteractionList', { where: '"interactions"', rule: 'must be a list holding one interaction' });
  }
  if (interactions.length === 0) throw apiError('EmptyInteractionList');
  if (interactions.length > 1) {
    throw apiError('InvalidInteractionList', {
      where: '"interactions"',
      rule: `may hold one interaction; it holds ${interactions.length}`,
    });
  }
  const parsedInteractions = interactions.map((interaction, index) => parseInteraction(interaction, index));
  return { to, from, ...(attributes ? { routingAttributes: attributes } : {}), interactions: parsedInteractions };
}

function parseInteraction(raw: unknown, index: number): Interaction {
  const where = `interactions[${index}]`;
  if (!isObject(raw)) throw apiError('InvalidInteractionList', { where, rule: 'must be an object' });
  const type = raw.interactionType;
  if (!INTERACTION_TYPES.includes(type as never)) {
    throw apiError('InvalidInteractionList', { where: `${where}.interactionType`, rule: `must be one of ${INTERACTION_TYPES.join(', ')}` });
  }
  const time = epochMillis.safeParse(raw.timestamp);
  if (!time.success) {
    throw apiError('InvalidInteractionList', { where: `${where}.timestamp`, rule: 'must be a Unix epoch time in milliseconds' });
  }
  const timestamp = time.data;
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

/**
 * An entry of `POST /conversationEntry` and `POST /conversationHistory` (`entryPayload`): any entry type of
 * the contract, a Message checked as /interactions checks it; an end user's message limited to the types an
 * end user may send, another participant's (a bot's, an agent's) to any message type.
 */
export function checkConversationEntryPayload(payload: JsonObject, where: string, senderRole: string): void {
  if (!ENTRY_TYPES.includes(payload.entryType as never)) {
    throw apiError('InvalidEntryFormat', {
      where: `${where}.entryType`,
      rule: `must be one of ${ENTRY_TYPES.join(', ')}; got ${JSON.stringify(payload.entryType ?? null)}`,
    });
  }
  if (typeof payload.id !== 'string' || payload.id.trim() === '') throw apiError('MissingEntryId', { where });
  if (payload.entryType === 'Message') {
    checkMessage(payload, where, senderRole === 'EndUser' ? END_USER_MESSAGE_TYPES : MESSAGE_TYPES, false);
  }
  if (
    (payload.entryType === 'TypingStartedIndicator' || payload.entryType === 'TypingStoppedIndicator') &&
    !indicatorSchema.safeParse(payload).success
  ) {
    throw apiError('InvalidEntryFormat', {
      where: `${where}.timestamp`,
      rule: 'is required for a typing indicator: a Unix epoch time in milliseconds',
    });
  }
}

/**
 * A Message entry's abstractMessage. `allowed`: the message types its sender may send. `sameId`: the
 * message's id must be the entry's (10060, "Interaction ID and Message ID": a rule of /interactions; the
 * entries of the other operations are stored under the entry's id and left to the org on this point).
 */
function checkMessage(payload: JsonObject, where: string, allowed: readonly string[] = END_USER_MESSAGE_TYPES, sameId = true) {
  const message = payload.abstractMessage;
  if (!isObject(message))
    throw apiError('InvalidEntryFormat', { where: `${where}.abstractMessage`, rule: 'is required for a Message entry' });
  const messageType = message.messageType;
  if (!MESSAGE_TYPES.includes(messageType as never)) {
    throw apiError('InvalidMessageType', { where, allowed: MESSAGE_TYPES });
  }
  if (!allowed.includes(messageType as string)) {
    throw apiError('MessageTypeNotAllowedFromEndUser', { allowed: END_USER_MESSAGE_TYPES, messageType });
  }
  if (typeof message.id !== 'string' || message.id.trim() === '') {
    throw apiError('MissingEntryId', { where: `${where}.abstractMessage` });
  }
  if (sameId && message.id !== payload.id) {
    throw apiError('MismatchedInteractionAndMessageId', { where });
  }
  if (!messageCommonSchema.safeParse(message).success) {
    throw apiError('InvalidEntryFormat', {
      where: `${where}.abstractMessage`,
      rule: 'has an invalid inReplyToMessageId, customHandlingType or references',
    });
  }
  const { field, formats } = FORMATS_BY_MESSAGE_TYPE[messageType as (typeof MESSAGE_TYPES)[number]];
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
