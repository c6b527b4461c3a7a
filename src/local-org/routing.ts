import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { badRequest } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import type { CancelRouteRequest, RouteRequest, RouteTarget } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import type { ChannelTable } from '../store/tables.ts';
import type { ConversationValues } from '../integrations/conversation-values.ts';
import type { LocalOrgLifecycle } from './lifecycle-events.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import type { RoutingEvents } from './routing-events.ts';
import { conversationOf, eventTarget, openSessionOf, type Trx } from './routing-lookups.ts';
import { isSalesforceId, newSalesforceId, toEighteenCharId, toFifteenCharId } from './salesforce-ids.ts';

export const PENDING_SERVICE_ROUTING_PREFIX = '0JR';

/**
 * The local org's routing state machine: messaging sessions (work items), pending service routings and
 * routing results (agent work is in agent-work.ts). Every operation runs in one transaction that takes the
 * session's row lock, checks everything, changes the state and records the routing events; a refusal
 * changes nothing.
 */
export class LocalOrgRouting {
  constructor(
    private readonly db: Db,
    private readonly sessions: MessagingSessions,
    private readonly events: RoutingEvents,
    private readonly lifecycle: LocalOrgLifecycle,
    /** What integrations set on the conversation: routing attributes and a queue (`routing.queueId`). */
    private readonly steering?: Pick<ConversationValues, 'steering'>,
  ) {}

  /**
   * Called for each inbound entry, inside the interaction's transaction: a message on a conversation with
   * no open session opens one (asking a Partner routing owner to route it). Returns the opened work item ids.
   */
  async onInboundEntry(
    trx: Trx,
    inbound: {
      orgId: string;
      channel: Selectable<ChannelTable>;
      conversationIdentifier: string;
      endUserClientIdentifier: string;
      entryType: string;
    },
  ): Promise<string[]> {
    if (inbound.entryType !== 'Message') return [];
    const { sessionId, opened } = await this.sessions.openIfNone(trx, inbound.orgId, inbound.conversationIdentifier);
    if (!opened) return [];
    await this.lifecycle.raise(trx, {
      event: 'Received',
      cause: sessionId,
      conversationIdentifier: inbound.conversationIdentifier,
      sessionId,
    });
    if (inbound.channel.routing_owner === 'Partner') {
      const target = eventTarget({
        ...inbound.channel,
        conversation_identifier: inbound.conversationIdentifier,
        end_user_client_identifier: inbound.endUserClientIdentifier,
      });
      await this.events.routingRequested(trx, target, {
        routingType: 'Initial',
        routingCorrelationId: randomUUID(),
        sessionId,
        queueId: inbound.channel.routing_queue_id,
        flowId: inbound.channel.routing_flow_id,
      });
    }
    return [toFifteenCharId(sessionId)];
  }

  async route(call: CrmCall, request: RouteRequest): Promise<CrmResponse> {
    return this.db.transaction().execute(async (trx) => {
      const conversation = await conversationOf(trx, call, request.conversationIdentifier);
      const steer = await this.steering?.steering(trx, conversation.conversation_identifier);
      const target = await this.resolveTarget(trx, call.orgId, conversation, request.target, steer?.queueId);
      const maxLength = conversation.routing_attribute_max_length;
      for (const [name, value] of Object.entries(request.routingAttributes ?? {})) {
        if (value.length > maxLength) {
          throw badRequest(
            ErrorCode.InvalidRoutingAttributes,
            `Routing attribute "${name}" is ${value.length} characters long; the channel allows at most ${maxLength}.`,
          );
        }
      }
      const { sessionId, opened } = await this.sessions.openIfNone(trx, call.orgId, conversation.conversation_identifier);
      await this.sessions.lock(trx, sessionId);
      // A route on a conversation whose session ended starts a new one: it is received before it is queued.
      if (opened) {
        await this.lifecycle.raise(trx, {
          event: 'Received',
          cause: sessionId,
          conversationIdentifier: conversation.conversation_identifier,
          sessionId,
        });
      }
      const now = Date.now();
      const replaced = await trx
        .selectFrom('pending_service_routings')
        .select(['psr_id', 'queue_id'])
        .where('open_key', '=', sessionId)
        .executeTakeFirst();
      // Attributes an integration set (too long ones left out) under those the request names.
      const fromIntegrations = Object.entries(steer?.routingAttributes ?? {}).filter(([, v]) => v.length <= maxLength);
      const routingAttributes = { ...Object.fromEntries(fromIntegrations), ...request.routingAttributes };
      await trx
        .updateTable('pending_service_routings')
        .set({ status: 'Replaced', open_key: null, closed_at: now })
        .where('open_key', '=', sessionId)
        .execute();
      const psrId = newSalesforceId(PENDING_SERVICE_ROUTING_PREFIX);
      const routingCorrelationId = randomUUID();
      await trx
        .insertInto('pending_service_routings')
        .values({
          psr_id: psrId,
          session_id: sessionId,
          routing_type: request.routingType,
          routing_method: target.method,
          queue_id: target.queueId,
          flow_id: target.flowId,
          routing_attributes: Object.keys(routingAttributes).length > 0 ? JSON.stringify(routingAttributes) : null,
          routing_correlation_id: routingCorrelationId,
          status: 'Open',
          open_key: sessionId,
          request_id: call.requestId,
          created_at: now,
        })
        .execute();
      await this.sessions.refreshStatus(trx, sessionId);
      await this.lifecycle.raise(trx, {
        event:
          request.routingType === 'Transfer' ? 'Transferred' : replaced && replaced.queue_id !== target.queueId ? 'Forwarded' : 'Queued',
        cause: psrId,
        conversationIdentifier: conversation.conversation_identifier,
        sessionId,
        details: { psrId, routingType: request.routingType, previousQueueId: replaced?.queue_id ?? null },
      });
      if (conversation.routing_owner === 'Partner' && request.routingType === 'Transfer') {
        await this.events.routingRequested(trx, eventTarget(conversation), {
          routingType: request.routingType,
          routingCorrelationId,
          sessionId,
          queueId: target.queueId,
          flowId: target.flowId,
        });
      }
      return {
        status: 202,
        body: {
          success: true,
          psrId,
          workItemId: toFifteenCharId(sessionId),
          routingCorrelationId,
          contextParamMap: {
            routingMethod: target.method,
            queueId: target.queueId,
            ...(target.flowId ? { flowId: target.flowId } : {}),
          },
        },
      };
    });
  }

  async cancelRoute(call: CrmCall, request: CancelRouteRequest): Promise<CrmResponse> {
    return this.db.transaction().execute(async (trx) => {
      const conversation = await conversationOf(trx, call, request.conversationIdentifier);
      const session = await this.sessions.findOpen(trx, conversation.conversation_identifier);
      if (!session) return { status: 202, body: { success: false } };
      await this.sessions.lock(trx, session.session_id);
      const cancelled = await trx
        .updateTable('pending_service_routings')
        .set({ status: 'Cancelled', open_key: null, cancel_reason: request.cancelReason ?? 'Cancel', closed_at: Date.now() })
        .where('open_key', '=', session.session_id)
        .executeTakeFirst();
      await this.sessions.refreshStatus(trx, session.session_id);
      return { status: 202, body: { success: Number(cancelled.numUpdatedRows) > 0 } };
    });
  }

  async postRoutingResult(call: CrmCall, request: RoutingResultRequest): Promise<CrmResponse> {
    return this.db.transaction().execute(async (trx) => {
      const conversation = await conversationOf(trx, call, request.conversationIdentifier);
      const session = await openSessionOf(trx, call, request.workItemId);
      if (session.conversation_identifier !== conversation.conversation_identifier) {
        throw badRequest(
          ErrorCode.RoutingContextMismatch,
          `Work item ${request.workItemId} belongs to another conversation than "${request.conversationIdentifier}".`,
        );
      }
      await this.sessions.lock(trx, session.session_id);
      const psr = await trx
        .selectFrom('pending_service_routings')
        .selectAll()
        .where('open_key', '=', session.session_id)
        .executeTakeFirst();
      const now = Date.now();
      // A failure ends the routing; so does a success elsewhere. A success inside the org waits for its agent work.
      const closesRouting = !request.success || request.externallyRouted;
      if (psr && closesRouting) {
        await trx
          .updateTable('pending_service_routings')
          .set({ status: request.success ? 'Routed' : 'Failed', open_key: null, closed_at: now })
          .where('psr_id', '=', psr.psr_id)
          .execute();
      }
      await trx
        .insertInto('routing_results')
        .values({
          result_id: randomUUID(),
          session_id: session.session_id,
          psr_id: psr?.psr_id ?? null,
          routing_type: request.routingType ?? psr?.routing_type ?? 'Initial',
          success: request.success ? 1 : 0,
          externally_routed: request.externallyRouted ? 1 : 0,
          error_message: request.errorMessage ?? null,
          request_id: call.requestId,
          created_at: now,
        })
        .execute();
      await this.sessions.refreshStatus(trx, session.session_id);
      return { status: 202, body: { success: true } };
    });
  }

  private async resolveTarget(
    trx: Trx,
    orgId: string,
    channel: Selectable<ChannelTable>,
    target: RouteTarget,
    steeredQueueId?: string,
  ): Promise<{ method: RouteTarget['method']; queueId: string; flowId: string | null }> {
    if (target.method === 'ChannelConfiguration' && steeredQueueId) {
      // An integration chose the queue: it stands in for the channel's configuration when it is a queue of the org.
      const queue = isSalesforceId(steeredQueueId, '00G')
        ? await trx
            .selectFrom('queues')
            .select('queue_id')
            .where('queue_id', '=', toEighteenCharId(steeredQueueId))
            .where('org_id', '=', orgId)
            .executeTakeFirst()
        : undefined;
      if (queue) return { method: target.method, queueId: queue.queue_id, flowId: null };
    }
    if (target.method === 'ChannelConfiguration') {
      if (!channel.routing_queue_id) {
        throw badRequest(
          ErrorCode.RouteNeedsFlowOrQueue,
          'The channel has no routing configuration: name a flow or a queue in "routingInfo".',
        );
      }
      return { method: target.method, queueId: channel.routing_queue_id, flowId: channel.routing_flow_id };
    }
    let flowId: string | null = null;
    if (target.method === 'Flow') {
      const flow = isSalesforceId(target.flowId, '300')
        ? await trx
            .selectFrom('flows')
            .select('flow_id')
            .where('flow_id', '=', toEighteenCharId(target.flowId))
            .where('org_id', '=', orgId)
            .executeTakeFirst()
        : undefined;
      if (!flow) throw badRequest(ErrorCode.FlowNeedsFallbackQueue, `"${target.flowId}" is not a flow of this org.`);
      flowId = flow.flow_id;
    }
    const queue = isSalesforceId(target.queueId, '00G')
      ? await trx
          .selectFrom('queues')
          .select('queue_id')
          .where('queue_id', '=', toEighteenCharId(target.queueId))
          .where('org_id', '=', orgId)
          .executeTakeFirst()
      : undefined;
    if (!queue) throw badRequest(ErrorCode.InvalidQueueId, `"${target.queueId}" is not a queue of this org.`);
    return { method: target.method, queueId: queue.queue_id, flowId };
  }
}
