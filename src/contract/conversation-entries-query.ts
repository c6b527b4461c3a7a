import { apiError } from './interaction-errors.ts';
import { conversationIdentifierOf, type JsonObject } from './json-body.ts';
import { lenientInteger } from './lenient-number.ts';

export const ENTRY_DIRECTIONS = ['FROM_START', 'FROM_END'] as const;
/** The contract's response holds at most this many entries. */
export const MAX_ENTRIES_PAGE = 20;

/** `GET /api/v1/conversationEntry`, validated: a page of a conversation's entries within a time window. */
export interface ConversationEntriesQuery {
  conversationIdentifier: string;
  startTime: number;
  endTime?: number;
  limit: number;
  direction: (typeof ENTRY_DIRECTIONS)[number];
}

/**
 * Reads the query from the JSON body (the contract's form) or, for clients that cannot send a body with
 * GET, from query parameters of the same names: numbers then arrive as strings, hence the lenient reading.
 */
export function validateConversationEntriesQuery(source: JsonObject): ConversationEntriesQuery {
  const conversationIdentifier = conversationIdentifierOf(source.conversationIdentifier);
  const startTime = lenientInteger(source.startTime);
  if (startTime === undefined || startTime < 0) throw apiError('InvalidEntriesStartTime');
  let endTime: number | undefined;
  if (source.endTime !== undefined) {
    endTime = lenientInteger(source.endTime);
    if (endTime === undefined || endTime <= startTime) throw apiError('InvalidEntriesEndTime');
  }
  let limit = MAX_ENTRIES_PAGE;
  if (source.limit !== undefined) {
    const given = lenientInteger(source.limit);
    if (given === undefined || given < 1 || given > MAX_ENTRIES_PAGE) throw apiError('InvalidEntriesLimit', { max: MAX_ENTRIES_PAGE });
    limit = given;
  }
  const direction = source.direction ?? 'FROM_START';
  if (!ENTRY_DIRECTIONS.includes(direction as never)) {
    throw apiError('InvalidParameter', { field: 'direction', rule: `must be one of ${ENTRY_DIRECTIONS.join(', ')}` });
  }
  return {
    conversationIdentifier,
    startTime,
    ...(endTime === undefined ? {} : { endTime }),
    limit,
    direction: direction as ConversationEntriesQuery['direction'],
  };
}
