import { badRequest } from './api-error.ts';
import { ErrorCode } from './error-codes.ts';
import { isJsonObject, jsonBodyObject, routingTypeOf, workItemIdOf, type RoutingType } from './json-body.ts';
import { hasSalesforceIdShape } from './salesforce-ids.ts';

export interface RoutingContext {
  conversationIdentifier: string;
  routingType: RoutingType;
  routingCorrelationId: string;
}

/** `POST /api/v1/agentWork`, validated: at most one of the two capacities. */
export interface AgentWorkRequest {
  userId: string;
  workItemId: string;
  capacityPercentage?: number;
  capacityWeight?: number;
  routingContext?: RoutingContext;
}

export const AGENT_WORK_STATUSES = ['Accept', 'Close', 'Decline', 'Cancel'] as const;
export type AgentWorkStatus = (typeof AGENT_WORK_STATUSES)[number];
export const AUTHORIZATION_CONTEXT_TYPES = [
  'ConversationChannelDefinition',
  'EmbeddedMessagingChannel',
  'ExternalConversationParticipant',
] as const;

/** `PATCH /api/v1/agentWork`, validated: an agent's work, or an external bot's (with its botId and work item). */
export type UpdateAgentWorkRequest = {
  workId: string;
  status: AgentWorkStatus;
  authorizationContextType: (typeof AUTHORIZATION_CONTEXT_TYPES)[number];
} & ({ contextType: 'Agent' } | { contextType: 'Chatbot'; botId: string; workItemId: string });

const present = (v: unknown) => v !== undefined && v !== null;

export function validateAgentWorkRequest(raw: unknown): AgentWorkRequest {
  const body = jsonBodyObject(raw);
  if (!hasSalesforceIdShape(body.userId)) {
    throw badRequest(
      ErrorCode.InvalidUserId,
      `"userId" must be the 15 or 18 character id of an agent user; got ${JSON.stringify(body.userId ?? null)}.`,
    );
  }
  const workItemId = workItemIdOf(body.workItemId);
  if (present(body.capacityPercentage) && present(body.capacityWeight)) {
    throw badRequest(ErrorCode.CapacityPercentageOrWeight, 'Send either "capacityPercentage" or "capacityWeight", not both.');
  }
  const request: AgentWorkRequest = { userId: body.userId, workItemId };
  if (present(body.capacityPercentage)) {
    const p = body.capacityPercentage;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) {
      throw badRequest(
        ErrorCode.InvalidCapacityPercentage,
        `"capacityPercentage" must be a number from 0 to 100; got ${JSON.stringify(p)}.`,
      );
    }
    request.capacityPercentage = p;
  }
  if (present(body.capacityWeight)) {
    const w = body.capacityWeight;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw badRequest(
        ErrorCode.InvalidCapacityWeight,
        `"capacityWeight" must be a number greater than or equal to 0; got ${JSON.stringify(w)}.`,
      );
    }
    request.capacityWeight = w;
  }
  if (present(body.routingContext)) request.routingContext = routingContextOf(body.routingContext);
  return request;
}

function routingContextOf(raw: unknown): RoutingContext {
  if (!isJsonObject(raw)) throw badRequest(ErrorCode.InvalidParameters, '"routingContext" must be an object.');
  const { conversationIdentifier, routingCorrelationId } = raw;
  if (typeof conversationIdentifier !== 'string' || conversationIdentifier.trim() === '') {
    throw badRequest(ErrorCode.InvalidParameters, '"routingContext.conversationIdentifier" is required.');
  }
  if (typeof routingCorrelationId !== 'string' || routingCorrelationId.trim() === '') {
    throw badRequest(
      ErrorCode.InvalidParameters,
      '"routingContext.routingCorrelationId" is required: the routing event or route answer it answers.',
    );
  }
  return { conversationIdentifier, routingType: routingTypeOf(raw.routingType, '"routingContext.routingType"'), routingCorrelationId };
}

export function validateUpdateAgentWorkRequest(raw: unknown, authorizationContextTypeHeader: string | undefined): UpdateAgentWorkRequest {
  const authorizationContextType = authorizationContextTypeHeader?.trim();
  if (!AUTHORIZATION_CONTEXT_TYPES.includes(authorizationContextType as never)) {
    throw badRequest(
      ErrorCode.InvalidAuthorizationContextType,
      `The AuthorizationContextType header is required and must be one of ${AUTHORIZATION_CONTEXT_TYPES.join(', ')}.`,
    );
  }
  const body = jsonBodyObject(raw);
  if (!hasSalesforceIdShape(body.workId)) {
    throw badRequest(
      ErrorCode.InvalidWorkId,
      `"workId" must be the 15 or 18 character id of an agent work; got ${JSON.stringify(body.workId ?? null)}.`,
    );
  }
  if (body.contextType !== 'Agent' && body.contextType !== 'Chatbot') {
    throw badRequest(
      ErrorCode.InvalidContextType,
      `"contextType" must be Agent or Chatbot; got ${JSON.stringify(body.contextType ?? null)}.`,
    );
  }
  if (!AGENT_WORK_STATUSES.includes(body.status as never)) {
    throw badRequest(
      ErrorCode.InvalidAgentWorkStatus,
      `"status" must be one of ${AGENT_WORK_STATUSES.join(', ')}; got ${JSON.stringify(body.status ?? null)}.`,
    );
  }
  const common = {
    workId: body.workId,
    status: body.status as AgentWorkStatus,
    authorizationContextType: authorizationContextType as UpdateAgentWorkRequest['authorizationContextType'],
  };
  if (body.contextType === 'Agent') return { ...common, contextType: 'Agent' };
  if (typeof body.botId !== 'string' || body.botId.trim() === '') {
    throw badRequest(ErrorCode.InvalidBotId, '"botId" is required for "contextType": "Chatbot": the external bot handling the work.');
  }
  if (typeof body.workItemId !== 'string' || body.workItemId.trim() === '') {
    throw badRequest(ErrorCode.InvalidWorkItemId, '"workItemId" is required for "contextType": "Chatbot".');
  }
  return { ...common, contextType: 'Chatbot', botId: body.botId, workItemId: body.workItemId };
}
