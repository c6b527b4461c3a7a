import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { apiError } from '../contract/interaction-errors.ts';
import type { CancelRouteRequest, RouteRequest, RouteTarget } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { ChannelTable } from '../store/tables.ts';
import type { Tx } from '../store/transactions.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import type { RoutingEvents } from './routing-events.ts';
import { conversationOf, eventTarget, openSessionOf } from './routing-lookups.ts';
import { isSalesforceId, KeyPrefix, newSalesforceId, toEighteenCharId, toFifteenCharId } from '../contract/salesforce-ids.ts';

/**
 * The local org's routing state machine: messaging sessions (work items), pending service routings and
 * routing results (agent work is in agent-work.ts). Every operation runs in the transaction it is given
 * (the request's, opened by the idempotency step): it takes the session's row lock, checks everything,
 * changes the state and records the routing events; a refusal rolls it all back.
 */
export class LocalOrgRouting {
  constructor(
    private readonly sessions: MessagingSessions,
    private readonly events: RoutingEvents,
  ) {}

  /**
   * Called for each inbound entry, inside the interaction's transaction: a message on a conversation with
   * no open session opens one (asking a Partner routing owner to route it). Returns the opened work item ids.
   */
  async onInboundEntry(
    tx: Tx,
    inbound: {
      orgId: string;
      channel: Selectable<ChannelTable>;
      conversationIdentifier: string;
      endUserClientIdentifier: string;
      entryType: string;
    },
  ): Promise<string[]> {
    if (inbound.entryType !== 'Message') return [];
    const { sessionId, opened } = await this.sessions.openIfNone(tx, inbound.orgId, inbound.conversationIdentifier);
    if (!opened) return [];
    if (inbound.channel.routing_owner === 'Partner') {
      const target = eventTarget({
        ...inbound.channel,
        conversation_identifier: inbound.conversationIdentifier,
        end_user_client_identifier: inbound.endUserClientIdentifier,
      });
      await this.events.routingRequested(tx, target, {
        routingType: 'Initial',
        routingCorrelationId: randomUUID(),
        sessionId,
        queueId: inbound.channel.routing_queue_id,
        flowId: inbound.channel.routing_flow_id,
      });
    }
    return [toFifteenCharId(sessionId)];
  }

  async route(tx: Tx, call: CrmCall, request: RouteRequest): Promise<CrmResponse> {
    const conversation = await conversationOf(tx, call, request.conversationIdentifier);
    const target = await this.resolveTarget(tx, call.orgId, conversation, request.target);
    const maxLength = conversation.routing_attribute_max_length;
    for (const [name, value] of Object.entries(request.routingAttributes ?? {})) {
      if (value.length > maxLength) {
        throw apiError('InvalidRoutingAttributes', { name, length: value.length, maxLength });
      }
    }
    const { sessionId } = await this.sessions.openIfNone(tx, call.orgId, conversation.conversation_identifier);
    await this.sessions.lock(tx, sessionId);
    const now = Date.now();
    await tx
      .updateTable('pending_service_routings')
      .set({ status: 'Replaced', open_key: null, closed_at: now })
      .where('open_key', '=', sessionId)
      .execute();
    const psrId = newSalesforceId(KeyPrefix.PendingServiceRouting);
    const routingCorrelationId = randomUUID();
    await tx
      .insertInto('pending_service_routings')
      .values({
        psr_id: psrId,
        session_id: sessionId,
        routing_type: request.routingType,
        routing_method: target.method,
        queue_id: target.queueId,
        flow_id: target.flowId,
        routing_attributes: request.routingAttributes ? JSON.stringify(request.routingAttributes) : null,
        routing_correlation_id: routingCorrelationId,
        status: 'Open',
        open_key: sessionId,
        request_id: call.requestId,
        created_at: now,
      })
      .execute();
    await this.sessions.refreshStatus(tx, sessionId);
    if (conversation.routing_owner === 'Partner' && request.routingType === 'Transfer') {
      await this.events.routingRequested(tx, eventTarget(conversation), {
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
  }

  async cancelRoute(tx: Tx, call: CrmCall, request: CancelRouteRequest): Promise<CrmResponse> {
    const conversation = await conversationOf(tx, call, request.conversationIdentifier);
    const session = await this.sessions.findOpen(tx, conversation.conversation_identifier);
    if (!session) return { status: 202, body: { success: false } };
    await this.sessions.lock(tx, session.session_id);
    const cancelled = await tx
      .updateTable('pending_service_routings')
      .set({ status: 'Cancelled', open_key: null, cancel_reason: request.cancelReason ?? 'Cancel', closed_at: Date.now() })
      .where('open_key', '=', session.session_id)
      .executeTakeFirst();
    await this.sessions.refreshStatus(tx, session.session_id);
    return { status: 202, body: { success: Number(cancelled.numUpdatedRows) > 0 } };
  }

  async postRoutingResult(tx: Tx, call: CrmCall, request: RoutingResultRequest): Promise<CrmResponse> {
    const conversation = await conversationOf(tx, call, request.conversationIdentifier);
    const session = await openSessionOf(tx, call, request.workItemId);
    if (session.conversation_identifier !== conversation.conversation_identifier) {
      throw apiError('RoutingContextMismatch', { conversationIdentifier: request.conversationIdentifier, workItemId: request.workItemId });
    }
    await this.sessions.lock(tx, session.session_id);
    const psr = await tx.selectFrom('pending_service_routings').selectAll().where('open_key', '=', session.session_id).executeTakeFirst();
    const now = Date.now();
    // A failure ends the routing; so does a success elsewhere. A success inside the org waits for its agent work.
    const closesRouting = !request.success || request.externallyRouted;
    if (psr && closesRouting) {
      await tx
        .updateTable('pending_service_routings')
        .set({ status: request.success ? 'Routed' : 'Failed', open_key: null, closed_at: now })
        .where('psr_id', '=', psr.psr_id)
        .execute();
    }
    await tx
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
    await this.sessions.refreshStatus(tx, session.session_id);
    return { status: 202, body: { success: true } };
  }

  private async resolveTarget(
    tx: Tx,
    orgId: string,
    channel: Selectable<ChannelTable>,
    target: RouteTarget,
  ): Promise<{ method: RouteTarget['method']; queueId: string; flowId: string | null }> {
    if (target.method === 'ChannelConfiguration') {
      if (!channel.routing_queue_id) {
        throw apiError('ChannelWithoutRouting');
      }
      return { method: target.method, queueId: channel.routing_queue_id, flowId: channel.routing_flow_id };
    }
    let flowId: string | null = null;
    if (target.method === 'Flow') {
      const flow = isSalesforceId(target.flowId, KeyPrefix.Flow)
        ? await tx
            .selectFrom('flows')
            .select('flow_id')
            .where('flow_id', '=', toEighteenCharId(target.flowId))
            .where('org_id', '=', orgId)
            .executeTakeFirst()
        : undefined;
      if (!flow) throw apiError('UnknownFlow', { flowId: target.flowId });
      flowId = flow.flow_id;
    }
    const queue = isSalesforceId(target.queueId, KeyPrefix.Queue)
      ? await tx
          .selectFrom('queues')
          .select('queue_id')
          .where('queue_id', '=', toEighteenCharId(target.queueId))
          .where('org_id', '=', orgId)
          .executeTakeFirst()
      : undefined;
    if (!queue) throw apiError('UnknownQueue', { queueId: target.queueId });
    return { method: target.method, queueId: queue.queue_id, flowId };
  }
}
