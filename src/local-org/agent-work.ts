import { randomUUID } from 'node:crypto';
import type { AgentWorkRequest, AgentWorkStatus, UpdateAgentWorkRequest } from '../contract/agent-work-request.ts';
import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';
import type { LifecycleEventName } from '../integrations/lifecycle.ts';
import type { LocalOrgLifecycle } from './lifecycle-events.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import { agentAuthor, agentParticipant, type RoutingEvents, type RoutingWorkType } from './routing-events.ts';
import { checkChannelContext } from './channels.ts';
import { joinConversation, leaveConversation } from './participants.ts';
import { eventTarget, openSessionOf } from './routing-lookups.ts';
import { isSalesforceId, KeyPrefix, newSalesforceId, toEighteenCharId } from '../contract/salesforce-ids.ts';

/** How each PATCH /agentWork status moves a work: from which states, to which, and the work event it records. */
const WORK_TRANSITIONS: Record<AgentWorkStatus, { from: string[]; to: string; event: RoutingWorkType; lifecycle?: LifecycleEventName }> = {
  Accept: { from: ['Assigned'], to: 'Opened', event: 'Accepted', lifecycle: 'Accepted' },
  Decline: { from: ['Assigned'], to: 'Declined', event: 'Declined', lifecycle: 'Rejected' },
  Cancel: { from: ['Assigned', 'Opened'], to: 'Canceled', event: 'Cancelled', lifecycle: 'Rejected' },
  // Closing raises Ended or Abandoned, when it ends the session.
  Close: { from: ['Assigned', 'Opened'], to: 'Closed', event: 'Closed' },
};
const ACTIVE_WORK_STATUSES = ['Assigned', 'Opened'];

/**
 * Agent work in the local org: assigning a work item (messaging session) to an agent user and moving the
 * work through its states. One active work per user and work item is a unique constraint (`active_key`),
 * so simultaneous requests, even to different processes sharing one database, create one.
 */
export class LocalOrgAgentWork {
  constructor(
    private readonly sessions: MessagingSessions,
    private readonly events: RoutingEvents,
    private readonly lifecycle: LocalOrgLifecycle,
  ) {}

  async create(tx: Tx, call: CrmCall, request: AgentWorkRequest): Promise<CrmResponse> {
    const agent = await this.agentOf(tx, call.orgId, request.userId);
    const session = await openSessionOf(tx, call, request.workItemId);
    const context = request.routingContext;
    if (context && context.conversationIdentifier !== session.conversation_identifier) {
      throw apiError('RoutingContextMismatch', { conversationIdentifier: context.conversationIdentifier, workItemId: request.workItemId });
    }
    await this.sessions.lock(tx, session.session_id);
    const psr = await tx.selectFrom('pending_service_routings').selectAll().where('open_key', '=', session.session_id).executeTakeFirst();
    const hasCapacity = request.capacityPercentage !== undefined || request.capacityWeight !== undefined;
    if (!hasCapacity && !psr) {
      throw apiError('NoCapacity', { workItemId: request.workItemId });
    }
    const workId = newSalesforceId(KeyPrefix.AgentWork);
    const routingType = context?.routingType ?? psr?.routing_type ?? 'Initial';
    const routingCorrelationId = context?.routingCorrelationId ?? psr?.routing_correlation_id ?? randomUUID();
    const now = Date.now();
    const inserted = await tx
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
      throw apiError('ActiveAgentWorkExists', { userId: request.userId, workItemId: request.workItemId });
    }
    if (psr) {
      await tx
        .updateTable('pending_service_routings')
        .set({ status: 'Assigned', open_key: null, closed_at: now })
        .where('psr_id', '=', psr.psr_id)
        .execute();
      await this.events.queuePositions(tx, psr.queue_id, { leftCreatedAt: psr.created_at });
    }
    await this.sessions.refreshStatus(tx, session.session_id);
    await this.lifecycle.raise(tx, {
      event: 'Allocated',
      cause: workId,
      conversationIdentifier: session.conversation_identifier,
      sessionId: session.session_id,
      details: { workId, userId: agent.user_id, psrId: psr?.psr_id ?? null },
    });
    if (session.routing_owner === 'Partner') {
      await this.events.workChanged(tx, eventTarget(session), {
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
  }

  async update(tx: Tx, call: CrmCall, request: UpdateAgentWorkRequest): Promise<CrmResponse> {
    if (request.contextType === 'Chatbot') {
      throw apiError('UnknownBot', { botId: request.botId });
    }
    const workId =
      request.workId.startsWith(KeyPrefix.AgentWork) && isSalesforceId(request.workId) ? toEighteenCharId(request.workId) : undefined;
    const found = workId ? await this.workOf(tx, call.orgId, workId) : undefined;
    if (!found) throw apiError('UnknownAgentWork', { workId: request.workId });
    checkChannelContext(call, found);
    await this.sessions.lock(tx, found.session_id);
    // Read again under the session's lock: another request may have changed it since.
    const work = (await this.workOf(tx, call.orgId, found.work_id)) ?? found;
    const transition = WORK_TRANSITIONS[request.status];
    if (!transition.from.includes(work.status)) {
      throw apiError('StatusNotAllowedNow', { workId: request.workId, current: work.status, requested: request.status });
    }
    const now = Date.now();
    const stillActive = ACTIVE_WORK_STATUSES.includes(transition.to);
    await tx
      .updateTable('agent_work')
      .set({
        status: transition.to,
        updated_at: now,
        ...(stillActive ? {} : { active_key: null, closed_at: now }),
      })
      .where('work_id', '=', work.work_id)
      .execute();
    const ended = request.status === 'Close' ? await this.sessions.endIfDone(tx, work.session_id) : null;
    if (request.status !== 'Close') await this.sessions.refreshStatus(tx, work.session_id);
    const details = { workId: work.work_id, userId: work.user_id, psrId: work.psr_id };
    const target = { conversationIdentifier: work.conversation_identifier, sessionId: work.session_id, details };
    if (transition.lifecycle) await this.lifecycle.raise(tx, { event: transition.lifecycle, cause: work.work_id, ...target });
    if (ended) {
      const connected = await this.lifecycle.wasConnected(tx, work.conversation_identifier, work.opened_at);
      await this.lifecycle.raise(tx, { event: connected ? 'Ended' : 'Abandoned', cause: work.session_id, ...target });
    }
    if (work.routing_owner === 'Partner') {
      await this.events.workChanged(tx, eventTarget(work), {
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
    await this.changeParticipants(tx, call, work, request.status);
    if (ended) {
      // The agent closing the last work ends the session: published after the work result, as it follows from it.
      await this.events.sessionEnded(tx, eventTarget(work), {
        sessionId: work.session_id,
        ...ended,
        agent: { userId: work.user_id, displayName: work.display_name },
      });
    }
    return { status: 202, body: { success: true } };
  }

  /**
   * The agent joins the conversation when it accepts the work and leaves when it closes or cancels work it
   * had accepted. Accepting a transfer hands the conversation over: the agents who had it open leave (their
   * work Transferred), and one ParticipantChanged says both.
   */
  private async changeParticipants(
    tx: Tx,
    call: CrmCall,
    work: NonNullable<Awaited<ReturnType<LocalOrgAgentWork['workOf']>>>,
    status: AgentWorkStatus,
  ): Promise<void> {
    const target = eventTarget(work);
    const me = agentParticipant(work.user_id);
    const author = agentAuthor({ userId: work.user_id, displayName: work.display_name });
    if (status === 'Accept') {
      const handedOver = work.routing_type === 'Transfer' ? await this.transferFrom(tx, call, work) : [];
      await joinConversation(tx, work.conversation_identifier, me, call.requestId);
      const changes = [
        ...handedOver.map((w) => ({ operation: 'remove' as const, participant: agentParticipant(w.user_id), displayName: w.display_name })),
        { operation: 'add' as const, participant: me, displayName: work.display_name },
      ];
      await this.events.participantsChanged(tx, target, changes, author);
      return;
    }
    if ((status === 'Close' || status === 'Cancel') && work.status === 'Opened') {
      await leaveConversation(tx, work.conversation_identifier, me, call.requestId);
      await this.events.participantsChanged(tx, target, [{ operation: 'remove', participant: me, displayName: work.display_name }], author);
    }
  }

  /** The other agents' open work on the session, marked Transferred (RoutingWorkResult Transferred) as they leave it. */
  private async transferFrom(tx: Tx, call: CrmCall, work: NonNullable<Awaited<ReturnType<LocalOrgAgentWork['workOf']>>>) {
    const previous = await tx
      .selectFrom('agent_work as w')
      .innerJoin('users as u', 'u.user_id', 'w.user_id')
      .select(['w.work_id', 'w.user_id', 'w.psr_id', 'w.routing_type', 'w.routing_correlation_id', 'u.display_name'])
      .where('w.session_id', '=', work.session_id)
      .where('w.status', '=', 'Opened')
      .where('w.work_id', '!=', work.work_id)
      .execute();
    const now = Date.now();
    for (const w of previous) {
      await tx
        .updateTable('agent_work')
        .set({ status: 'Transferred', active_key: null, closed_at: now, updated_at: now })
        .where('work_id', '=', w.work_id)
        .execute();
      await leaveConversation(tx, work.conversation_identifier, agentParticipant(w.user_id), call.requestId);
      if (work.routing_owner === 'Partner') {
        await this.events.workChanged(tx, eventTarget(work), {
          workType: 'Transferred',
          workId: w.work_id,
          sessionId: work.session_id,
          userId: w.user_id,
          agentName: w.display_name,
          psrId: w.psr_id,
          routingType: w.routing_type,
          routingCorrelationId: w.routing_correlation_id,
        });
      }
    }
    return previous;
  }

  private async agentOf(tx: Tx, orgId: string, userId: string) {
    const agent = isSalesforceId(userId, KeyPrefix.User)
      ? await tx
          .selectFrom('users')
          .select(['user_id', 'display_name'])
          .where('user_id', '=', toEighteenCharId(userId))
          .where('org_id', '=', orgId)
          .where('is_agent', '=', 1)
          .executeTakeFirst()
      : undefined;
    if (!agent) throw apiError('NotAnAgent', { userId });
    return agent;
  }

  private async workOf(tx: Tx, orgId: string, workId: string) {
    return tx
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
        's.opened_at',
        'u.display_name',
        'c.conversation_identifier',
        'c.end_user_client_identifier',
      ])
      .where('w.work_id', '=', workId)
      .where('s.org_id', '=', orgId)
      .executeTakeFirst();
  }
}
