import { apiError } from './interaction-errors.ts';
import { conversationIdentifierOf, isJsonObject, jsonBodyObject } from './json-body.ts';
import { lenientInteger } from './lenient-number.ts';
import { participantOf, type Participant } from './participant.ts';

export const ACKNOWLEDGEMENT_TYPES = ['Read', 'Delivered'] as const;
export type AcknowledgementType = (typeof ACKNOWLEDGEMENT_TYPES)[number];
export const MAX_ACKNOWLEDGEMENTS = 25;

/** One receipt: which entry it acknowledges, how, when, and the id the client gives the receipt itself. */
export interface Acknowledgement {
  acknowledgementType: AcknowledgementType;
  acknowledgedConversationEntryIdentifier: string;
  acknowledgmentCreatedConversationEntryIdentifier: string;
  /** Epoch milliseconds. The contract types it as a string; clients send the number either way. */
  acknowledgementTimestamp: number;
}

/** `POST /api/v1/acknowledgement`, validated. */
export interface AcknowledgementRequest {
  conversationIdentifier: string;
  sender: Participant;
  acknowledgements: Acknowledgement[];
}

const entryIdOf = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 255) {
    throw apiError('InvalidParameter', { field, rule: 'must be a conversation entry id: a non-empty string of at most 255 characters' });
  }
  return value;
};

export function validateAcknowledgementRequest(raw: unknown): AcknowledgementRequest {
  const body = jsonBodyObject(raw);
  const conversationIdentifier = conversationIdentifierOf(body.conversationIdentifier);
  const sender = participantOf(body.sender, 'sender');
  const list = body.acknowledgements;
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_ACKNOWLEDGEMENTS) {
    throw apiError('InvalidParameter', {
      field: 'acknowledgements',
      rule: `must be a list of 1 to ${MAX_ACKNOWLEDGEMENTS} acknowledgements`,
    });
  }
  const seen = new Set<string>();
  const acknowledgements = list.map((item: unknown, i): Acknowledgement => {
    const where = `acknowledgements[${i}]`;
    if (!isJsonObject(item)) throw apiError('InvalidParameter', { field: where, rule: 'must be an object' });
    if (!ACKNOWLEDGEMENT_TYPES.includes(item.acknowledgementType as never)) {
      throw apiError('InvalidParameter', {
        field: `${where}.acknowledgementType`,
        rule: `must be one of ${ACKNOWLEDGEMENT_TYPES.join(', ')}`,
      });
    }
    const acknowledgementTimestamp = lenientInteger(item.acknowledgementTimestamp);
    if (acknowledgementTimestamp === undefined || acknowledgementTimestamp < 0) {
      throw apiError('InvalidParameter', { field: `${where}.acknowledgementTimestamp`, rule: 'must be a time in epoch milliseconds' });
    }
    const created = entryIdOf(
      item.acknowledgmentCreatedConversationEntryIdentifier,
      `${where}.acknowledgmentCreatedConversationEntryIdentifier`,
    );
    if (seen.has(created)) {
      throw apiError('DuplicateEntryId', { where: `${where}.acknowledgmentCreatedConversationEntryIdentifier`, entryId: created });
    }
    seen.add(created);
    return {
      acknowledgementType: item.acknowledgementType as AcknowledgementType,
      acknowledgedConversationEntryIdentifier: entryIdOf(
        item.acknowledgedConversationEntryIdentifier,
        `${where}.acknowledgedConversationEntryIdentifier`,
      ),
      acknowledgmentCreatedConversationEntryIdentifier: created,
      acknowledgementTimestamp,
    };
  });
  return { conversationIdentifier, sender, acknowledgements };
}
