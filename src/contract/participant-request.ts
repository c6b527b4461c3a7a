import { apiError } from './interaction-errors.ts';
import { conversationIdentifierOf, jsonBodyObject } from './json-body.ts';
import { participantOf, type Participant } from './participant.ts';

export const PARTICIPANT_OPERATIONS = ['Remove'] as const;

/** `POST /api/v1/participant`, validated: one participant leaving a conversation (the only operation the contract has). */
export interface ParticipantRequest {
  conversationIdentifier: string;
  participant: Participant;
  operation: (typeof PARTICIPANT_OPERATIONS)[number];
}

export function validateParticipantRequest(raw: unknown): ParticipantRequest {
  const body = jsonBodyObject(raw);
  const conversationIdentifier = conversationIdentifierOf(body.conversationIdentifier);
  if (!PARTICIPANT_OPERATIONS.includes(body.operation as never)) {
    throw apiError('InvalidParticipantOperation', { allowed: PARTICIPANT_OPERATIONS, value: body.operation });
  }
  if (!Array.isArray(body.participants) || body.participants.length !== 1) {
    throw apiError('MissingParticipant', { where: 'participants (a list of exactly one)' });
  }
  return {
    conversationIdentifier,
    participant: participantOf(body.participants[0], 'participants[0]'),
    operation: body.operation as ParticipantRequest['operation'],
  };
}
