import { apiError } from './interaction-errors.ts';
import { isJsonObject, jsonBodyObject, routingTypeOf, workItemIdOf, type RoutingType } from './json-body.ts';
import { lenientNumber } from './lenient-number.ts';
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
  // "Salesforce User Id or External User Id" (the contract): any id is the org's to judge, so only its
  // presence is checked here; the local org refuses one that is not its agent (15106, agent-work.ts).
  if (typeof body.userId !== 'string' || body.userId.trim() === '') {
    throw apiError('InvalidUserId', { value: body.userId });
  }
  const workItemId = workItemIdOf(body.workItemId);
  if (present(body.capacityPercentage) && present(body.capacityWeight)) {
    throw apiError('BothCapacities');
  }
  const request: AgentWorkRequest = { userId: body.userId, workItemId };
  if (present(body.capacityPercentage)) {
    const p = lenientNumber(body.capacityPercentage);
    if (p === undefined || p < 0 || p > 100) {
      throw apiError('InvalidCapacityPercentage', { value: body.capacityPercentage });
    }
    request.capacityPercentage = p;
  }
  if (present(body.capacityWeight)) {
    const w = lenientNumber(body.capacityWeight);
    if (w === undefined || w < 0) {
      throw apiError('InvalidCapacityWeight', { value: body.capacityWeight });
    }
    request.capacityWeight = w;
  }
  if (present(body.routingContext)) request.routingContext = routingContextOf(body.routingContext);
  return request;
}

function routingContextOf(raw: unknown): RoutingContext {
  if (!isJsonObject(raw)) throw apiError('InvalidParameter', { field: 'routingContext', rule: 'must be an object' });
  const { conversationIdentifier, routingCorrelationId } = raw;
  if (typeof conversationIdentifier !== 'string' || conversationIdentifier.trim() === '') {
    throw apiError('InvalidParameter', { field: 'routingContext.conversationIdentifier', rule: 'is required' });
  }
  if (typeof routingCorrelationId !== 'string' || routingCorrelationId.trim() === '') {
    throw apiError('InvalidParameter', {
      field: 'routingContext.routingCorrelationId',
      rule: 'is required: the routing event or route answer it answers',
    });
  }
  return { conversationIdentifier, routingType: routingTypeOf(raw.routingType, '"routingContext.routingType"'), routingCorrelationId };
}

export function validateUpdateAgentWorkRequest(raw: unknown, authorizationContextTypeHeader: string | undefined): UpdateAgentWorkRequest {
  const authorizationContextType = authorizationContextTypeHeader?.trim();
  if (!AUTHORIZATION_CONTEXT_TYPES.includes(authorizationContextType as never)) {
    throw apiError('InvalidAuthorizationContextType', { allowed: AUTHORIZATION_CONTEXT_TYPES });
  }
  const body = jsonBodyObject(raw);
  if (!hasSalesforceIdShape(body.workId)) {
    throw apiError('InvalidWorkId', { value: body.workId });
  }
  if (body.contextType !== 'Agent' && body.contextType !== 'Chatbot') {
    throw apiError('InvalidContextType', { value: body.contextType });
  }
  if (!AGENT_WORK_STATUSES.includes(body.status as never)) {
    throw apiError('InvalidAgentWorkStatus', { allowed: AGENT_WORK_STATUSES, value: body.status });
  }
  const common = {
    workId: body.workId,
    status: body.status as AgentWorkStatus,
    authorizationContextType: authorizationContextType as UpdateAgentWorkRequest['authorizationContextType'],
  };
  if (body.contextType === 'Agent') return { ...common, contextType: 'Agent' };
  if (typeof body.botId !== 'string' || body.botId.trim() === '') {
    throw apiError('MissingBotId');
  }
  if (typeof body.workItemId !== 'string' || body.workItemId.trim() === '') {
    throw apiError('InvalidWorkItemId', { value: body.workItemId });
  }
  return { ...common, contextType: 'Chatbot', botId: body.botId, workItemId: body.workItemId };
}
