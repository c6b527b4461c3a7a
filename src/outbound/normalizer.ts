import type { CustomEventFieldNames, NormalizedEvent, Participant, PayloadShape } from '../contract/outbound-event.ts';

export type { NormalizedEvent } from '../contract/outbound-event.ts';

export interface ReceivedEvent {
  eventId: string;
  replayId: number;
  topicName: string;
  /** The decoded field values, unions unwrapped (as salesforce-pubsub-api-client hands them over). */
  fields: Record<string, unknown>;
}

export class MalformedEventError extends Error {}

const malformed = (reason: string): never => {
  throw new MalformedEventError(reason);
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringOrNull = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
const numberOrNull = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null;

function parseJsonObject(text: unknown, what: string): Record<string, unknown> {
  if (typeof text !== 'string' || text.trim() === '') return malformed(`${what} is missing or empty`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return malformed(`${what} is not JSON: ${(err as Error).message}`);
  }
  return isObject(value) ? value : malformed(`${what} is not a JSON object`);
}

function participant(value: unknown, what: string): Participant | null {
  if (value === null || value === undefined) return null;
  if (!isObject(value) || typeof value.subject !== 'string') return malformed(`${what} is not a participant with a subject`);
  return value as Participant;
}

/**
 * Legacy events carry the channel address id and the recipient in fields of their own and the entry
 * alone in the payload field. Spring '24 events carry channelAddressIdentifier, recipient and
 * conversationIdentifier in the payload field, the content nested under `payload` (`spring24`, the
 * InteractionEvent) or flat beside them (`spring24-flat`), and the event type in its own field. The
 * conversation comes from the envelope, else the content, else the entry (RoutingWorkResult names it).
 * Throws MalformedEventError with the reason.
 */
export function normalizeEvent(event: ReceivedEvent, names: CustomEventFieldNames): NormalizedEvent {
  const f = event.fields;
  const body = parseJsonObject(f[names.payload], `the payload field ${names.payload}`);
  let shape: PayloadShape;
  let channelAddressIdentifier: string;
  let recipient: Participant | null;
  let content: Record<string, unknown>;
  let eventType = stringOrNull(f[names.eventType]);

  if (typeof body.channelAddressIdentifier === 'string') {
    channelAddressIdentifier = body.channelAddressIdentifier;
    recipient = participant(body.recipient, 'recipient');
    if (isObject(body.payload)) {
      shape = 'spring24';
      content = body.payload;
    } else {
      shape = 'spring24-flat';
      const { channelAddressIdentifier: _c, recipient: _r, conversationIdentifier: _v, ...rest } = body;
      content = rest;
    }
  } else if (stringOrNull(f[names.channelAddressId])) {
    shape = 'legacy';
    channelAddressIdentifier = f[names.channelAddressId] as string;
    const recipientText = f[names.recipient];
    recipient =
      recipientText === null || recipientText === undefined
        ? null
        : participant(parseJsonObject(recipientText, `the recipient field ${names.recipient}`), 'recipient');
    content = body;
  } else {
    return malformed(
      `neither the channel address id field ${names.channelAddressId} nor channelAddressIdentifier in the payload is present`,
    );
  }

  eventType ??= typeof content.entryType === 'string' ? 'Interaction' : malformed(`the event type field ${names.eventType} is missing`);
  const conversationIdentifier =
    stringOrNull(body.conversationIdentifier) ??
    stringOrNull(content.conversationIdentifier) ??
    (isObject(content.entryPayload) ? stringOrNull(content.entryPayload.conversationIdentifier) : null);
  const timestamps = {
    createdDate: numberOrNull(f.CreatedDate),
    transcriptedTimestamp: numberOrNull(content.transcriptedTimestamp),
    clientTimestamp: numberOrNull(content.clientTimestamp),
  };
  const common = {
    eventId: event.eventId,
    eventType,
    channelAddressIdentifier,
    conversationIdentifier,
    recipient,
    timestamps,
    replayId: event.replayId,
    topicName: event.topicName,
    shape,
  };

  if (eventType !== 'Interaction') {
    return {
      ...common,
      entryType: null,
      entryId: null,
      sender: participant(content.sender, 'sender'),
      senderDisplayName: stringOrNull(content.senderDisplayName),
      payload: content,
    };
  }
  const entryType = stringOrNull(content.entryType) ?? malformed('the entry has no entryType');
  const entryPayload = isObject(content.entryPayload) ? content.entryPayload : malformed('the entry has no entryPayload object');
  return {
    ...common,
    entryType,
    entryId: stringOrNull(content.identifier) ?? stringOrNull(entryPayload.id),
    sender: participant(content.sender, 'sender'),
    senderDisplayName: stringOrNull(content.senderDisplayName),
    payload: entryPayload,
  };
}

/** Events with the same key reach an endpoint in order: one conversation is one channel and one end user. */
export function orderingKeyOf(e: NormalizedEvent): string {
  if (e.recipient?.subject) return `${e.channelAddressIdentifier}|${e.recipient.subject}`;
  return e.conversationIdentifier ?? e.channelAddressIdentifier;
}
