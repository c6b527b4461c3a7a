import { apiError } from './interaction-errors.ts';
import { conversationIdentifierOf, jsonBodyObject, routingTypeOf, workItemIdOf, type RoutingType } from './json-body.ts';

/** `POST /api/v1/routingResult`, validated. */
export interface RoutingResultRequest {
  conversationIdentifier: string;
  workItemId: string;
  success: boolean;
  externallyRouted: boolean;
  errorMessage?: string;
  routingType?: RoutingType;
}

export function validateRoutingResultRequest(raw: unknown): RoutingResultRequest {
  const body = jsonBodyObject(raw);
  const conversationIdentifier = conversationIdentifierOf(body.conversationIdentifier);
  const workItemId = workItemIdOf(body.workItemId);
  if (typeof body.success !== 'boolean')
    throw apiError('InvalidParameter', { field: 'success', rule: 'is required and must be true or false' });
  if (typeof body.externallyRouted !== 'boolean') {
    throw apiError('InvalidParameter', { field: 'externallyRouted', rule: 'is required and must be true or false' });
  }
  const errorMessage = body.errorMessage;
  if (errorMessage !== undefined && errorMessage !== null && typeof errorMessage !== 'string') {
    throw apiError('InvalidParameter', { field: 'errorMessage', rule: 'must be a string' });
  }
  const hasErrorMessage = typeof errorMessage === 'string' && errorMessage.trim() !== '';
  if (body.success && hasErrorMessage) {
    throw apiError('ErrorMessageWithSuccess');
  }
  if (!body.success && !hasErrorMessage) {
    throw apiError('MissingErrorMessageOnFailure');
  }
  const routingType =
    body.routingType === undefined || body.routingType === null ? undefined : routingTypeOf(body.routingType, '"routingType"');
  return {
    conversationIdentifier,
    workItemId,
    success: body.success,
    externallyRouted: body.externallyRouted,
    ...(hasErrorMessage ? { errorMessage: errorMessage } : {}),
    ...(routingType ? { routingType } : {}),
  };
}
