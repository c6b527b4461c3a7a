import { conversationEntryOf, type NewConversationEntry } from './conversation-entry-request.ts';
import { apiError } from './interaction-errors.ts';
import { isJsonObject, jsonBodyObject } from './json-body.ts';
import { lenientInteger } from './lenient-number.ts';
import { participantOf, type Participant } from './participant.ts';

export const MAX_HISTORY_PARTICIPANTS = 3;
export const MAX_HISTORY_ENTRIES = 25;

export interface HistoryParticipant {
  participant: Participant;
  joinedTime: number;
  leftTime?: number;
}

export type HistorySession =
  { type: 'EstablishMessagingSession'; startTime: number } | { type: 'AttachMessagingSession'; sessionId: string };

/** `POST /api/v1/conversationHistory`, validated: past entries of a conversation, with who took part when. */
export interface ConversationHistoryRequest {
  channelAddressIdentifier: string;
  participants: HistoryParticipant[];
  entries: (NewConversationEntry & { sender: Participant })[];
  messagingSession?: HistorySession;
}

function historyParticipantOf(value: unknown, where: string): HistoryParticipant {
  if (!isJsonObject(value)) throw apiError('MissingParticipant', { where });
  const participant = participantOf(value.participant, `${where}.participant`);
  if (participant.role !== 'EndUser' && participant.role !== 'Chatbot') throw apiError('HistoryParticipantRole', { where });
  const joinedTime = lenientInteger(value.joinedTime);
  if (joinedTime === undefined || joinedTime < 0) {
    throw apiError('InvalidHistoryPayload', { field: `${where}.joinedTime`, rule: 'must be a Unix epoch time in milliseconds' });
  }
  if (value.leftTime === undefined || value.leftTime === null) return { participant, joinedTime };
  if (participant.role === 'EndUser') throw apiError('EndUserWithLeftTime', { where });
  const leftTime = lenientInteger(value.leftTime);
  if (leftTime === undefined) {
    throw apiError('InvalidHistoryPayload', { field: `${where}.leftTime`, rule: 'must be a Unix epoch time in milliseconds' });
  }
  if (joinedTime >= leftTime) throw apiError('JoinedAfterLeft', { where });
  return { participant, joinedTime, leftTime };
}

function historySessionOf(value: unknown): HistorySession | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) throw apiError('InvalidHistoryPayload', { field: 'messagingSession', rule: 'must be an object' });
  const type = value.messagingSessionRequestType;
  if (type !== 'EstablishMessagingSession' && type !== 'AttachMessagingSession') {
    throw apiError('InvalidHistoryPayload', {
      field: 'messagingSession.messagingSessionRequestType',
      rule: 'must be EstablishMessagingSession or AttachMessagingSession',
    });
  }
  // Both session requests carry their details in a required `payload`.
  const payload = value.payload;
  if (!isJsonObject(payload))
    throw apiError('InvalidHistoryPayload', { field: 'messagingSession.payload', rule: `is required for ${type}` });
  if (type === 'EstablishMessagingSession') {
    const startTime = lenientInteger(payload.startTime);
    if (startTime === undefined || startTime < 0) throw apiError('InvalidSessionStartTime');
    return { type: 'EstablishMessagingSession', startTime };
  }
  if (typeof payload.sessionId !== 'string' || payload.sessionId.trim() === '') throw apiError('MissingSessionId');
  return { type: 'AttachMessagingSession', sessionId: payload.sessionId };
}

export function validateConversationHistoryRequest(raw: unknown): ConversationHistoryRequest {
  const body = jsonBodyObject(raw);
  const { channelAddressIdentifier, conversationParticipants, conversationEntries } = body;
  if (typeof channelAddressIdentifier !== 'string' || channelAddressIdentifier.trim() === '' || channelAddressIdentifier.length > 240) {
    throw apiError('InvalidChannelAddressIdentifier');
  }
  if (!Array.isArray(conversationParticipants) || conversationParticipants.length === 0) {
    throw apiError('MissingParticipant', { where: 'conversationParticipants (a list of 1 to 3)' });
  }
  if (conversationParticipants.length > MAX_HISTORY_PARTICIPANTS) {
    throw apiError('InvalidHistoryPayload', { field: 'conversationParticipants', rule: `may list at most ${MAX_HISTORY_PARTICIPANTS}` });
  }
  const participants = conversationParticipants.map((p: unknown, i) => historyParticipantOf(p, `conversationParticipants[${i}]`));
  if (participants.filter((p) => p.participant.role === 'EndUser').length !== 1) throw apiError('HistoryEndUserCount');
  if (!Array.isArray(conversationEntries) || conversationEntries.length === 0 || conversationEntries.length > MAX_HISTORY_ENTRIES) {
    throw apiError('InvalidHistoryPayload', { field: 'conversationEntries', rule: `must list 1 to ${MAX_HISTORY_ENTRIES} entries` });
  }
  const seen = new Set<string>();
  const entries = conversationEntries.map((e: unknown, i) => {
    const where = `conversationEntries[${i}]`;
    const sender = participantOf(isJsonObject(e) ? e.sender : undefined, `${where}.sender`);
    const entry = conversationEntryOf(e, where, sender.role);
    if (seen.has(entry.entryId)) throw apiError('DuplicateEntryId', { where: `${where}.entryPayload.id`, entryId: entry.entryId });
    seen.add(entry.entryId);
    const listed = participants.find((p) => p.participant.role === sender.role && p.participant.subject === sender.subject);
    if (!listed) throw apiError('SenderNotListed', { where: `${where}.sender` });
    if (entry.clientTimestamp < listed.joinedTime || (listed.leftTime !== undefined && entry.clientTimestamp > listed.leftTime)) {
      throw apiError('HistoryEntryOutsideParticipation', { where });
    }
    return { ...entry, sender };
  });
  const messagingSession = historySessionOf(body.messagingSession);
  return { channelAddressIdentifier, participants, entries, ...(messagingSession ? { messagingSession } : {}) };
}
