import { apiError } from './interaction-errors.ts';
import { conversationIdentifierOf, jsonBodyObject } from './json-body.ts';

export const SESSION_OPERATIONS = ['End', 'Inactivate'] as const;
export const SESSION_OPERATORS = ['EndUser', 'System'] as const;

/** `POST /api/v1/messagingSession`, validated: end or inactivate a conversation's messaging session. */
export interface MessagingSessionRequest {
  channelAddressIdentifier: string;
  endUserClientId: string;
  conversationIdentifier: string;
  operation: (typeof SESSION_OPERATIONS)[number];
  operationBy?: (typeof SESSION_OPERATORS)[number];
  sessionId?: string;
}

export function validateMessagingSessionRequest(raw: unknown): MessagingSessionRequest {
  const body = jsonBodyObject(raw);
  const { channelAddressIdentifier, endUserClientId, operation, operationBy, sessionId } = body;
  if (typeof channelAddressIdentifier !== 'string' || channelAddressIdentifier.trim() === '' || channelAddressIdentifier.length > 240) {
    throw apiError('InvalidChannelAddressIdentifier');
  }
  if (typeof endUserClientId !== 'string' || endUserClientId.trim() === '' || endUserClientId.length > 240) {
    throw apiError('InvalidEndUserClientId');
  }
  const conversationIdentifier = conversationIdentifierOf(body.conversationIdentifier);
  if (!SESSION_OPERATIONS.includes(operation as never)) {
    throw apiError('InvalidSessionOperation', { allowed: SESSION_OPERATIONS, value: operation });
  }
  if (operationBy !== undefined && !SESSION_OPERATORS.includes(operationBy as never)) {
    throw apiError('InvalidSessionOperationBy', { allowed: SESSION_OPERATORS, value: operationBy });
  }
  if (sessionId !== undefined && (typeof sessionId !== 'string' || sessionId.trim() === '')) {
    throw apiError('InvalidParameter', { field: 'sessionId', rule: 'must be a messaging session id' });
  }
  if (operation === 'Inactivate' && sessionId === undefined) throw apiError('MissingSessionId');
  return {
    channelAddressIdentifier,
    endUserClientId,
    conversationIdentifier,
    operation: operation as MessagingSessionRequest['operation'],
    ...(operationBy === undefined ? {} : { operationBy: operationBy as MessagingSessionRequest['operationBy'] }),
    ...(typeof sessionId === 'string' ? { sessionId } : {}),
  };
}
