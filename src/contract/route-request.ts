import { z } from 'zod';
import { apiError } from './interaction-errors.ts';
import { conversationIdentifierOf, isJsonObject, jsonBodyObject, routingTypeOf, type RoutingType } from './json-body.ts';

/** How a route request names its target: the README's three forms. */
export type RouteTarget =
  { method: 'Flow'; flowId: string; queueId: string } | { method: 'Queue'; queueId: string } | { method: 'ChannelConfiguration' };

/** `POST /api/v1/route`, validated. Ids are as sent; the local org resolves them. */
export interface RouteRequest {
  conversationIdentifier: string;
  routingType: RoutingType;
  target: RouteTarget;
  routingAttributes?: Record<string, string>;
}

export const CANCEL_REASONS = ['Unknown', 'Unavailable', 'Decline', 'Cancel'] as const;

/** `DELETE /api/v1/route`, validated. */
export interface CancelRouteRequest {
  conversationIdentifier: string;
  cancelReason?: (typeof CANCEL_REASONS)[number];
}

const routingAttributesSchema = z.record(z.string(), z.string());
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

export function validateRouteRequest(raw: unknown): RouteRequest {
  const body = jsonBodyObject(raw);
  const conversationIdentifier = conversationIdentifierOf(body.conversationIdentifier);
  const routingType = routingTypeOf(body.routingType, '"routingType"');
  const info = body.routingInfo;
  if (info === undefined || info === null) return { conversationIdentifier, routingType, target: { method: 'ChannelConfiguration' } };
  if (!isJsonObject(info)) throw apiError('InvalidParameter', { field: 'routingInfo', rule: 'must be an object' });

  let routingAttributes: Record<string, string> | undefined;
  if (info.routingAttributes !== undefined && info.routingAttributes !== null) {
    const parsed = routingAttributesSchema.safeParse(info.routingAttributes);
    if (!parsed.success) {
      throw apiError('InvalidParameter', {
        field: 'routingInfo.routingAttributes',
        rule: 'must map channel variable names to string values',
      });
    }
    routingAttributes = parsed.data;
  }
  const hasFlow = info.flow !== undefined && info.flow !== null;
  const hasQueue = info.queueId !== undefined && info.queueId !== null;
  if (hasFlow === hasQueue) {
    throw apiError('RouteTargetAmbiguous');
  }
  let target: RouteTarget;
  if (hasFlow) {
    const flow = info.flow;
    if (!isJsonObject(flow) || !nonEmptyString(flow.flowId) || !nonEmptyString(flow.queueId)) {
      throw apiError('FlowNeedsFallbackQueue');
    }
    target = { method: 'Flow', flowId: flow.flowId, queueId: flow.queueId };
  } else {
    if (!nonEmptyString(info.queueId)) throw apiError('InvalidQueueId');
    target = { method: 'Queue', queueId: info.queueId };
  }
  return { conversationIdentifier, routingType, target, ...(routingAttributes ? { routingAttributes } : {}) };
}

export function validateCancelRouteRequest(raw: unknown): CancelRouteRequest {
  const body = jsonBodyObject(raw);
  const conversationIdentifier = conversationIdentifierOf(body.conversationIdentifier);
  const reason = body.cancelReason;
  if (reason === undefined || reason === null) return { conversationIdentifier };
  if (!CANCEL_REASONS.includes(reason as never)) {
    throw apiError('InvalidParameter', { field: 'cancelReason', rule: `must be one of ${CANCEL_REASONS.join(', ')}` });
  }
  return { conversationIdentifier, cancelReason: reason as CancelRouteRequest['cancelReason'] };
}
