import { apiError } from './interaction-errors.ts';
import { isFifteenCharId } from './salesforce-ids.ts';

export type JsonObject = Record<string, unknown>;

export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The parsed JSON body of an /api/v1 operation; express.json leaves it undefined when there was none. */
export function jsonBodyObject(raw: unknown): JsonObject {
  if (raw === undefined || raw === null || (isJsonObject(raw) && Object.keys(raw).length === 0)) {
    throw apiError('MissingJsonBody');
  }
  if (!isJsonObject(raw)) throw apiError('UnreadableRequest', { problem: 'the request body must be a JSON object' });
  return raw;
}

export const ROUTING_TYPES = ['Initial', 'Transfer', 'Conference'] as const;
export type RoutingType = (typeof ROUTING_TYPES)[number];

export function routingTypeOf(value: unknown, where: string): RoutingType {
  if (!ROUTING_TYPES.includes(value as RoutingType)) {
    throw apiError('InvalidRoutingType', { field: where, allowed: ROUTING_TYPES, value });
  }
  return value as RoutingType;
}

/** A conversation identifier as the API takes it: present and a non-empty string of at most 240 characters. */
export function conversationIdentifierOf(value: unknown, where = 'conversationIdentifier'): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 240) {
    throw apiError('InvalidConversationIdentifier', { field: where });
  }
  return value;
}

/** A work item (messaging session) id: the contract takes exactly the 15-character form. */
export function workItemIdOf(value: unknown): string {
  if (!isFifteenCharId(value)) {
    throw apiError('InvalidWorkItemId', { value });
  }
  return value;
}
