import { apiError } from './interaction-errors.ts';
import { isJsonObject, jsonBodyObject } from './json-body.ts';
import { participantOf, type Participant } from './participant.ts';

/** `POST /api/v1/conversation`, validated: an end user's conversation on a channel, before any message. */
export interface ConversationRequest {
  channelAddressIdentifier: string;
  endUser: Participant;
  routingAttributes?: Record<string, string>;
}

export function validateConversationRequest(raw: unknown): ConversationRequest {
  const body = jsonBodyObject(raw);
  const { channelAddressIdentifier, participants, routingAttributes } = body;
  if (typeof channelAddressIdentifier !== 'string' || channelAddressIdentifier.trim() === '' || channelAddressIdentifier.length > 240) {
    throw apiError('InvalidConversationChannel');
  }
  if (!Array.isArray(participants) || participants.length !== 1) {
    throw apiError('InvalidConversationParticipants', { rule: 'must list exactly one participant: the end user' });
  }
  const endUser = participantOf(participants[0], 'participants[0]');
  if (endUser.role !== 'EndUser') throw apiError('ConversationNeedsEndUser');
  const request: ConversationRequest = { channelAddressIdentifier, endUser };
  if (routingAttributes !== undefined && routingAttributes !== null) {
    if (!isJsonObject(routingAttributes) || !Object.values(routingAttributes).every((v) => typeof v === 'string')) {
      throw apiError('InvalidParameter', { field: 'routingAttributes', rule: 'must map channel variable names to string values' });
    }
    request.routingAttributes = routingAttributes as Record<string, string>;
  }
  return request;
}
