import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { apiError } from '../contract/interaction-errors.ts';
import type { CancelRouteRequest, RouteRequest, RouteTarget } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { ChannelTable } from '../store/tables.ts';
import type { Tx } from '../store/transactions.ts';
import type { ConversationValues } from '../integrations/conversation-values.ts';
import type { LocalOrgLifecycle } from './lifecycle-events.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import { systemAuthor, type RoutingEvents, type RoutingEventTarget } from './routing-events.ts';
import { conversationOf, eventTarget, openSessionOf } from './routing-lookups.ts';
import { changeSession } from './session-operations.ts';
import type { MessagingSessionRequest } from '../contract/messaging-session-request.ts';
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
    private readonly lifecycle: LocalOrgLifecycle,
    /** What integrations set on the conversation: routing attributes and a queue (`routing.queueId`). */
    private readonly steering?: Pick<ConversationValues, 'steering'>,
  ) {}

  /**
   * Called for each inbound entry, inside the interaction's transaction: a message on a conversation with
   * no open session opens one (asking a Partner routing owner to route it). Returns the opened work item ids.
   * `openSessionId`: the conversation's open session (null: none) if the caller read it in this transaction.
   */
  async onInboundEntry(
    tx: Tx,
    inbound: {
      orgId: string;
      channel: Selectable<ChannelTable>;
      conversationIdentifier: string;
      endUserClientIdentifier: string;
      entryType: string;
      openSessionId?: string | null;
    },
  ): Promise<string[]> {
    if (inbound.entryType !== 'Message' || inbound.openSessionId) return [];
    const target = eventTarget({
      ...inbound.channel,
      conversation_identifier: inbound.conversationIdentifier,
      end_user_client_identifier: inbound.endUserClientIdentifier,
    });
    const { sessionId, opened } = await this.openSession(tx, target);
    if (!opened) return [];
    if (inbound.channel.routing_owner === 'Partner') {
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

  /**
   * The conversation's open session, opened now if it has none: a new session is Received by the
   * integrations and published as SessionStatusChanged (New), in the caller's transaction.
   */
  async openSession(tx: Tx, target: RoutingEventTarget): Promise<{ sessionId: string; opened: boolean }> {
    const opened = await this.sessions.openIfNone(tx, target.orgId, target.conversationIdentifier);
    if (!opened.opened) return opened;
    const { sessionId } = opened;
    await this.lifecycle.raise(tx, {
      event: 'Received',
      cause: sessionId,
      conversationIdentifier: target.conversationIdentifier,
      sessionId,
    });
    const session = await tx
      .selectFrom('messaging_sessions')
      .select(['status', 'opened_at'])
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    await this.events.sessionStatusChanged(
      tx,
      target,
      { sessionId, status: session.status, previousStatus: null, openedAt: session.opened_at },
      systemAuthor(target),
    );
    return opened;
  }

  /** `POST /messagingSession`: see session-operations.ts. */
  changeSession(tx: Tx, call: CrmCall, request: MessagingSessionRequest): Promise<CrmResponse> {
    return changeSession(tx, { sessions: this.sessions, events: this.events, lifecycle: this.lifecycle }, call, request);
  }

  /** Where the other operations publish their conversation events (participant changes). */
  get conversationEvents(): RoutingEvents {
    return this.events;
  }

  async route(tx: Tx, call: CrmCall, request: RouteRequest): Promise<CrmResponse> {
    const conversation = await conversationOf(tx, call, request.conversationIdentifier);
    const steer = await this.steering?.steering(tx, conversation.conversation_identifier);
    const target = await this.resolveTarget(tx, call.orgId, conversation, request.target, steer?.queueId);
    checkRoutingAttributeLengths(request.routingAttributes, conversation.routing_attribute_max_length);
    // A route on a conversation whose session ended starts a new one: it is received before it is queued.
    const { sessionId } = await this.openSession(tx, eventTarget(conversation));
    await this.sessions.lock(tx, sessionId);
    const now = Date.now();
    const replaced = await tx
      .selectFrom('pending_service_routings')
      .select(['psr_id', 'queue_id', 'created_at'])
      .where('open_key', '=', sessionId)
      .executeTakeFirst();
    // Attributes an integration set (too long ones left out) under those the request names.
    const fromIntegrations = Object.entries(steer?.routingAttributes ?? {}).filter(
      ([, v]) => v.length <= conversation.routing_attribute_max_length,
    );
    const routingAttributes = { ...Object.fromEntries(fromIntegrations), ...request.routingAttributes };
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
        routing_attributes: Object.keys(routingAttributes).length > 0 ? JSON.stringify(routingAttributes) : null,
        routing_correlation_id: routingCorrelationId,
        status: 'Open',
        open_key: sessionId,
        request_id: call.requestId,
        created_at: now,
      })
      .execute();
    await this.sessions.refreshStatus(tx, sessionId);
    await this.lifecycle.raise(tx, {
      event: request.routingType === 'Transfer' ? 'Transferred' : replaced && replaced.queue_id !== target.queueId ? 'Forwarded' : 'Queued',
      cause: psrId,
      conversationIdentifier: conversation.conversation_identifier,
      sessionId,
      details: { psrId, routingType: request.routingType, previousQueueId: replaced?.queue_id ?? null },
    });
    if (conversation.routing_owner === 'Partner' && request.routingType === 'Transfer') {
      await this.events.routingRequested(tx, eventTarget(conversation), {
        routingType: request.routingType,
        routingCorrelationId,
        sessionId,
        queueId: target.queueId,
        flowId: target.flowId,
      });
    }
    // The replaced routing leaves its queue (those behind it move up); the new one takes its place in its own.
    if (replaced) await this.events.queuePositions(tx, replaced.queue_id, { leftCreatedAt: replaced.created_at });
    await this.events.queuePositions(tx, target.queueId, { only: psrId });
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
    const psr = await tx.selectFrom('pending_service_routings').selectAll().where('open_key', '=', session.session_id).executeTakeFirst();
    if (!psr) return { status: 202, body: { success: false } };
    const cancelReason = request.cancelReason ?? 'Cancel';
    await tx
      .updateTable('pending_service_routings')
      .set({ status: 'Cancelled', open_key: null, cancel_reason: cancelReason, closed_at: Date.now() })
      .where('psr_id', '=', psr.psr_id)
      .execute();
    await this.sessions.refreshStatus(tx, session.session_id);
    if (conversation.routing_owner === 'Partner') {
      await this.events.routingResult(tx, eventTarget(conversation), {
        routingType: psr.routing_type,
        failureType: 'Cancelled',
        errorMessages: [],
        pendingServiceRoutingId: psr.psr_id,
        recordId: toFifteenCharId(session.session_id),
        isExternallyRouted: false,
        cancelReason,
      });
    }
    await this.events.queuePositions(tx, psr.queue_id, { leftCreatedAt: psr.created_at });
    return { status: 202, body: { success: true } };
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
    const routingType = request.routingType ?? psr?.routing_type ?? 'Initial';
    if (session.routing_owner === 'Partner') {
      const target = eventTarget(session);
      await this.events.routingResult(tx, target, {
        routingType,
        failureType: request.success ? 'None' : 'RoutingError',
        errorMessages: request.errorMessage ? [request.errorMessage] : [],
        pendingServiceRoutingId: psr?.psr_id ?? null,
        recordId: toFifteenCharId(session.session_id),
        isExternallyRouted: request.externallyRouted,
      });
      // A transfer that failed: the agent who asked for it keeps the work, and hears so.
      if (!request.success && routingType === 'Transfer') await this.transferFailed(tx, target, session.session_id);
    }
    if (psr && closesRouting) await this.events.queuePositions(tx, psr.queue_id, { leftCreatedAt: psr.created_at });
    return { status: 202, body: { success: true } };
  }

  /** RoutingWorkResult TransferError for each work an agent still has open on the session. */
  private async transferFailed(tx: Tx, target: RoutingEventTarget, sessionId: string): Promise<void> {
    const open = await tx
      .selectFrom('agent_work as w')
      .innerJoin('users as u', 'u.user_id', 'w.user_id')
      .select(['w.work_id', 'w.user_id', 'w.psr_id', 'w.routing_type', 'w.routing_correlation_id', 'u.display_name'])
      .where('w.session_id', '=', sessionId)
      .where('w.status', '=', 'Opened')
      .execute();
    for (const w of open) {
      await this.events.workChanged(tx, target, {
        workType: 'TransferError',
        workId: w.work_id,
        sessionId,
        userId: w.user_id,
        agentName: w.display_name,
        psrId: w.psr_id,
        routingType: 'Transfer',
        routingCorrelationId: w.routing_correlation_id,
      });
    }
  }

  private async resolveTarget(
    tx: Tx,
    orgId: string,
    channel: Selectable<ChannelTable>,
    target: RouteTarget,
    steeredQueueId?: string,
  ): Promise<{ method: RouteTarget['method']; queueId: string; flowId: string | null }> {
    if (target.method === 'ChannelConfiguration' && steeredQueueId) {
      // An integration chose the queue: it stands in for the channel's configuration when it is a queue of the org.
      const queue = isSalesforceId(steeredQueueId, KeyPrefix.Queue)
        ? await tx
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

/** Each routing attribute's value within the channel's configured length (10096), on /route and /interactions alike. */
export function checkRoutingAttributeLengths(attributes: Record<string, string> | undefined, maxLength: number): void {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value.length > maxLength) {
      throw apiError('InvalidRoutingAttributes', { name, length: value.length, maxLength });
    }
  }
}
