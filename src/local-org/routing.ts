import { randomUUID } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import type { AgentWorkRequest, AgentWorkStatus, UpdateAgentWorkRequest } from '../contract/agent-work-request.ts';
import { badRequest, forbidden } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import type { CancelRouteRequest, RouteRequest, RouteTarget } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import type { ChannelTable, Tables } from '../store/tables.ts';
import { MESSAGING_SESSION_PREFIX, type MessagingSessions } from './messaging-sessions.ts';
import type { RoutingEvents, RoutingEventTarget, RoutingWorkType } from './routing-events.ts';
import { isSalesforceId, newSalesforceId, toEighteenCharId, toFifteenCharId } from './salesforce-ids.ts';

type Trx = Transaction<Tables>;

export const PENDING_SERVICE_ROUTING_PREFIX = '0JR';
export const AGENT_WORK_PREFIX = '0Bz';

/** How each PATCH /agentWork status moves a work: from which states, to which, and the work event it records. */
const WORK_TRANSITIONS: Record<AgentWorkStatus, { from: string[]; to: string; event: RoutingWorkType }> = {
  Accept: { from: ['Assigned'], to: 'Opened', event: 'Accepted' },
  Decline: { from: ['Assigned'], to: 'Declined', event: 'Declined' },
  Cancel: { from: ['Assigned', 'Opened'], to: 'Canceled', event: 'Cancelled' },
  Close: { from: ['Assigned', 'Opened'], to: 'Closed', event: 'Closed' },
};
const ACTIVE_WORK_STATUSES = ['Assigned', 'Opened'];

interface ConversationContext extends Selectable<ChannelTable> {
  conversation_identifier: string;
  end_user_client_identifier: string;
}

/**
 * The local org's routing state machine: messaging sessions (work items), pending service routings, routing
 * results and agent work. Every operation runs in one transaction that first takes the session's row lock,
 * checks everything, changes the state and records the routing events; a refusal changes nothing.
 */
export class LocalOrgRouting {
  constructor(
    private readonly db: Db,
    private readonly sessions: MessagingSessions,
    private readonly events: RoutingEvents,
  ) {}

  /**
   * Called for each inbound entry, inside the interaction's transaction: a message on a conversation with
   * no open session opens one (asking a Partner routing owner to route it). Returns the opened work item ids.
   */
  async onInboundEntry(
    trx: Trx,
    inbound: { orgId: string; channel: Selectable<ChannelTable>; conversationIdentifier: string; endUserClientIdentifier: string; entryType: string },
  ): Promise<string[]> {
    if (inbound.entryType !== 'Message') return [];
    const { sessionId, opened } = await this.sessions.openIfNone(trx, inbound.orgId, inbound.conversationIdentifier);
    if (!opened) return [];
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
      const conversation = await this.conversationOf(trx, call, request.conversationIdentifier);
      const target = await this.resolveTarget(trx, call.orgId, conversation, request.target);
      const maxLength = conversation.routing_attribute_max_length;
      for (const [name, value] of Object.entries(request.routingAttributes ?? {})) {
        if (value.length > maxLength) {
          throw badRequest(
            ErrorCode.InvalidRoutingAttributes,
            `Routing attribute "${name}" is ${value.length} characters long; the channel allows at most ${maxLength}.`,
          );
        }
      }
      const { sessionId } = await this.sessions.openIfNone(trx, call.orgId, conversation.conversation_identifier);
      await this.sessions.lock(trx, sessionId);
      const now = Date.now();
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
          routing_attributes: request.routingAttributes ? JSON.stringify(request.routingAttributes) : null,
          routing_correlation_id: routingCorrelationId,
          status: 'Open',
          open_key: sessionId,
          request_id: call.requestId,
          created_at: now,
        })
        .execute();
      await this.sessions.refreshStatus(trx, sessionId);
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
      const conversation = await this.conversationOf(trx, call, request.conversationIdentifier);
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
      const conversation = await this.conversationOf(trx, call, request.conversationIdentifier);
      const session = await this.openSessionOf(trx, call, request.workItemId);
      if (session.conversation_identifier !== conversation.conversation_identifier) {
        throw badRequest(
          ErrorCode.RoutingContextMismatch,
          `Work item ${request.workItemId} belongs to another conversation than "${request.conversationIdentifier}".`,
        );
      }
      await this.sessions.lock(trx, session.session_id);
      const psr = await trx.selectFrom('pending_service_routings').selectAll().where('open_key', '=', session.session_id).executeTakeFirst();
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

  async createAgentWork(call: CrmCall, request: AgentWorkRequest): Promise<CrmResponse> {
    return this.db.transaction().execute(async (trx) => {
      const agent = await this.agentOf(trx, call.orgId, request.userId);
      const session = await this.openSessionOf(trx, call, request.workItemId);
      const context = request.routingContext;
      if (context && context.conversationIdentifier !== session.conversation_identifier) {
        throw badRequest(
          ErrorCode.RoutingContextMismatch,
          `routingContext.conversationIdentifier "${context.conversationIdentifier}" is not the conversation of work item ${request.workItemId}.`,
        );
      }
      await this.sessions.lock(trx, session.session_id);
      const psr = await trx.selectFrom('pending_service_routings').selectAll().where('open_key', '=', session.session_id).executeTakeFirst();
      const hasCapacity = request.capacityPercentage !== undefined || request.capacityWeight !== undefined;
      if (!hasCapacity && !psr) {
        throw badRequest(
          ErrorCode.CapacityPercentageOrWeight,
          `Work item ${request.workItemId} has no open routing to take the capacity from: send "capacityPercentage" or "capacityWeight".`,
        );
      }
      const workId = newSalesforceId(AGENT_WORK_PREFIX);
      const routingType = context?.routingType ?? psr?.routing_type ?? 'Initial';
      const routingCorrelationId = context?.routingCorrelationId ?? psr?.routing_correlation_id ?? randomUUID();
      const now = Date.now();
      const inserted = await trx
        .insertInto('agent_work')
        .values({
          work_id: workId,
          session_id: session.session_id,
          user_id: agent.user_id,
          psr_id: psr?.psr_id ?? null,
          status: 'Assigned',
          active_key: `${agent.user_id} ${session.session_id}`,
          capacity_percentage: request.capacityPercentage === undefined ? null : String(request.capacityPercentage),
          capacity_weight: request.capacityWeight === undefined ? null : String(request.capacityWeight),
          routing_type: routingType,
          routing_correlation_id: routingCorrelationId,
          request_id: call.requestId,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('active_key').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) {
        throw badRequest(
          ErrorCode.ActiveAgentWorkExists,
          `User ${request.userId} already has active agent work on work item ${request.workItemId}; close it first.`,
        );
      }
      if (psr) {
        await trx
          .updateTable('pending_service_routings')
          .set({ status: 'Assigned', open_key: null, closed_at: now })
          .where('psr_id', '=', psr.psr_id)
          .execute();
      }
      await this.sessions.refreshStatus(trx, session.session_id);
      if (session.routing_owner === 'Partner') {
        await this.events.workChanged(trx, eventTarget(session), {
          workType: 'Assigned',
          workId,
          sessionId: session.session_id,
          userId: agent.user_id,
          agentName: agent.display_name,
          psrId: psr?.psr_id ?? null,
          routingType,
          routingCorrelationId,
        });
      }
      return {
        status: 202,
        body: {
          success: true,
          id: randomUUID(),
          agentWorkId: workId,
          agentWorkDetails: {
            existPsr: Boolean(psr),
            ...(request.capacityPercentage !== undefined ? { capacityPercentage: request.capacityPercentage } : {}),
            ...(request.capacityWeight !== undefined ? { capacityWeight: request.capacityWeight } : {}),
            ...(psr ? { psrId: psr.psr_id } : {}),
            routingContext: { conversationIdentifier: session.conversation_identifier, routingType, routingCorrelationId },
          },
        },
      };
    });
  }

  async updateAgentWork(call: CrmCall, request: UpdateAgentWorkRequest): Promise<CrmResponse> {
    return this.db.transaction().execute(async (trx) => {
      const workId = request.workId.startsWith(AGENT_WORK_PREFIX) && isSalesforceId(request.workId) ? toEighteenCharId(request.workId) : undefined;
      const found = workId ? await this.workOf(trx, call.orgId, workId) : undefined;
      if (!found) throw badRequest(ErrorCode.InvalidWorkId, `No agent work "${request.workId}" in this org.`);
      checkContext(call, found);
      await this.sessions.lock(trx, found.session_id);
      const work = (await this.workOf(trx, call.orgId, found.work_id))!;
      const transition = WORK_TRANSITIONS[request.status];
      if (!transition.from.includes(work.status)) {
        throw badRequest(ErrorCode.InvalidAgentWorkStatus, `Agent work ${request.workId} is ${work.status}; it cannot take status ${request.status}.`);
      }
      const now = Date.now();
      const stillActive = ACTIVE_WORK_STATUSES.includes(transition.to);
      await trx
        .updateTable('agent_work')
        .set({
          status: transition.to,
          updated_at: now,
          ...(stillActive ? {} : { active_key: null, closed_at: now }),
        })
        .where('work_id', '=', work.work_id)
        .execute();
      if (request.status === 'Close') await this.sessions.endIfDone(trx, work.session_id);
      else await this.sessions.refreshStatus(trx, work.session_id);
      if (work.routing_owner === 'Partner') {
        await this.events.workChanged(trx, eventTarget(work), {
          workType: transition.event,
          workId: work.work_id,
          sessionId: work.session_id,
          userId: work.user_id,
          agentName: work.display_name,
          psrId: work.psr_id,
          routingType: work.routing_type,
          routingCorrelationId: work.routing_correlation_id,
        });
      }
      return { status: 202, body: { success: true } };
    });
  }

  /** The conversation and its channel, visible to the caller's org and AuthorizationContext. */
  private async conversationOf(trx: Trx, call: CrmCall, conversationIdentifier: string): Promise<ConversationContext> {
    const row = await trx
      .selectFrom('conversations as c')
      .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
      .selectAll('ch')
      .select(['c.conversation_identifier', 'c.end_user_client_identifier'])
      .where('c.conversation_identifier', '=', conversationIdentifier)
      .where('c.org_id', '=', call.orgId)
      .executeTakeFirst();
    if (!row) {
      throw badRequest(ErrorCode.ConversationNotFound, `No conversation "${conversationIdentifier}" on a messaging channel of this org.`);
    }
    checkContext(call, row);
    return row;
  }

  /** The open messaging session a 15-character work item id names, with its conversation and channel. */
  private async openSessionOf(trx: Trx, call: CrmCall, workItemId: string) {
    if (!workItemId.startsWith(MESSAGING_SESSION_PREFIX)) {
      throw badRequest(
        ErrorCode.WorkItemNotMessagingSession,
        `Work item ${workItemId} is not a messaging session id (those start with ${MESSAGING_SESSION_PREFIX}).`,
      );
    }
    const session = await trx
      .selectFrom('messaging_sessions as s')
      .innerJoin('conversations as c', 'c.conversation_identifier', 's.conversation_identifier')
      .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
      .selectAll('ch')
      .select(['s.session_id', 's.status', 's.open_key', 'c.conversation_identifier', 'c.end_user_client_identifier'])
      .where('s.session_id', '=', toEighteenCharId(workItemId))
      .where('s.org_id', '=', call.orgId)
      .executeTakeFirst();
    if (!session || session.open_key === null) {
      throw badRequest(ErrorCode.WorkItemNotFound, `No open messaging session ${workItemId}${session ? ': it has ended' : ''}.`);
    }
    checkContext(call, session);
    return session;
  }

  private async agentOf(trx: Trx, orgId: string, userId: string) {
    const agent = isSalesforceId(userId, '005')
      ? await trx
          .selectFrom('users')
          .select(['user_id', 'display_name'])
          .where('user_id', '=', toEighteenCharId(userId))
          .where('org_id', '=', orgId)
          .where('is_agent', '=', 1)
          .executeTakeFirst()
      : undefined;
    if (!agent) throw badRequest(ErrorCode.InvalidUserId, `User ${userId} is not an agent user of this org.`);
    return agent;
  }

  private async workOf(trx: Trx, orgId: string, workId: string) {
    return trx
      .selectFrom('agent_work as w')
      .innerJoin('messaging_sessions as s', 's.session_id', 'w.session_id')
      .innerJoin('conversations as c', 'c.conversation_identifier', 's.conversation_identifier')
      .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
      .innerJoin('users as u', 'u.user_id', 'w.user_id')
      .selectAll('ch')
      .select([
        'w.work_id',
        'w.session_id',
        'w.user_id',
        'w.psr_id',
        'w.status',
        'w.routing_type',
        'w.routing_correlation_id',
        'u.display_name',
        'c.conversation_identifier',
        'c.end_user_client_identifier',
      ])
      .where('w.work_id', '=', workId)
      .where('s.org_id', '=', orgId)
      .executeTakeFirst();
  }

  private async resolveTarget(
    trx: Trx,
    orgId: string,
    channel: Selectable<ChannelTable>,
    target: RouteTarget,
  ): Promise<{ method: RouteTarget['method']; queueId: string; flowId: string | null }> {
    if (target.method === 'ChannelConfiguration') {
      if (!channel.routing_queue_id) {
        throw badRequest(ErrorCode.RouteNeedsFlowOrQueue, 'The channel has no routing configuration: name a flow or a queue in "routingInfo".');
      }
      return { method: target.method, queueId: channel.routing_queue_id, flowId: channel.routing_flow_id };
    }
    let flowId: string | null = null;
    if (target.method === 'Flow') {
      const flow = isSalesforceId(target.flowId, '300')
        ? await trx.selectFrom('flows').select('flow_id').where('flow_id', '=', toEighteenCharId(target.flowId)).where('org_id', '=', orgId).executeTakeFirst()
        : undefined;
      if (!flow) throw badRequest(ErrorCode.FlowNeedsFallbackQueue, `"${target.flowId}" is not a flow of this org.`);
      flowId = flow.flow_id;
    }
    const queue = isSalesforceId(target.queueId, '00G')
      ? await trx.selectFrom('queues').select('queue_id').where('queue_id', '=', toEighteenCharId(target.queueId)).where('org_id', '=', orgId).executeTakeFirst()
      : undefined;
    if (!queue) throw badRequest(ErrorCode.InvalidQueueId, `"${target.queueId}" is not a queue of this org.`);
    return { method: target.method, queueId: queue.queue_id, flowId };
  }
}

function checkContext(call: CrmCall, channel: { authorization_context: string; channel_address_identifier: string }) {
  if (channel.authorization_context !== call.authorizationContext) {
    throw forbidden(
      ErrorCode.ContextNotValidForChannel,
      `AuthorizationContext "${call.authorizationContext}" is not the one configured for channel "${channel.channel_address_identifier}".`,
    );
  }
}

function eventTarget(row: {
  org_id: string;
  channel_address_identifier: string;
  conversation_identifier: string;
  end_user_client_identifier: string;
}): RoutingEventTarget {
  return {
    orgId: row.org_id,
    channelAddressIdentifier: row.channel_address_identifier,
    conversationIdentifier: row.conversation_identifier,
    endUserClientIdentifier: row.end_user_client_identifier,
  };
}
