import { apiError } from './interaction-errors.ts';
import { checkConversationEntryPayload } from './interaction-request.ts';
import { conversationIdentifierOf, isJsonObject, jsonBodyObject, type JsonObject } from './json-body.ts';
import { lenientInteger } from './lenient-number.ts';
import { participantOf, type Participant } from './participant.ts';

/** One entry to add: its payload as sent, with the id and type read out of it. */
export interface NewConversationEntry {
  clientTimestamp: number;
  entryId: string;
  entryType: string;
  payload: JsonObject;
}

/** `POST /api/v1/conversationEntry`, validated: a participant's entry added to an existing conversation. */
export interface ConversationEntryRequest {
  conversationIdentifier: string;
  sender: Participant;
  entry: NewConversationEntry;
}

/** An entry as the contract's ConversationEntryRequest and ConversationEntryHistory carry it, from a sender in `senderRole`. */
export function conversationEntryOf(value: unknown, where: string, senderRole: Participant['role']): NewConversationEntry {
  if (!isJsonObject(value))
    throw apiError('InvalidEntryFormat', { where, rule: 'must be an object with clientTimestamp and entryPayload' });
  const clientTimestamp = lenientInteger(value.clientTimestamp);
  if (clientTimestamp === undefined || clientTimestamp < 0) {
    throw apiError('InvalidEntryFormat', { where: `${where}.clientTimestamp`, rule: 'must be a Unix epoch time in milliseconds' });
  }
  const payload = value.entryPayload;
  if (!isJsonObject(payload)) throw apiError('InvalidEntryFormat', { where: `${where}.entryPayload`, rule: 'must be an entry object' });
  checkConversationEntryPayload(payload, `${where}.entryPayload`, senderRole);
  return { clientTimestamp, entryId: payload.id as string, entryType: payload.entryType as string, payload };
}

export function validateConversationEntryRequest(raw: unknown): ConversationEntryRequest {
  const body = jsonBodyObject(raw);
  const conversationIdentifier = conversationIdentifierOf(body.conversationIdentifier);
  const sender = participantOf(body.sender, 'sender');
  const entries = body.conversationEntries;
  if (!Array.isArray(entries) || entries.length !== 1) {
    throw apiError('InvalidEntryFormat', { where: '"conversationEntries"', rule: 'must list exactly one entry' });
  }
  return { conversationIdentifier, sender, entry: conversationEntryOf(entries[0], 'conversationEntries[0]', sender.role) };
}
