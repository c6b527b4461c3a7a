import { apiError } from '../contract/interaction-errors.ts';
import type { MessagingSessionRequest } from '../contract/messaging-session-request.ts';
import { sameSalesforceId, toFifteenCharId } from '../contract/salesforce-ids.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';
import type { EntryAuthor } from './conversation-events.ts';
import type { LocalOrgLifecycle } from './lifecycle-events.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import { leaveConversation } from './participants.ts';
import { agentParticipant, systemAuthor, type RoutingEvents, type RoutingEventTarget } from './routing-events.ts';
import { conversationOf, eventTarget } from './routing-lookups.ts';

export interface SessionDeps {
  sessions: MessagingSessions;
  events: RoutingEvents;
  lifecycle: LocalOrgLifecycle;
}

/**
 * `POST /messagingSession` in the local org. End: the open session ends with whatever routing and agent
 * work is still open on it, and the conversation's next message opens a new one. Inactivate: the session
 * stays the open one, marked Inactive until the routing state changes it again (a new message, a route).
 * Each change is published in this transaction: SessionStatusChanged (ended by the role `operationBy`
 * names, System when it names none), and for an end the routing cancelled (RoutingResult) and the agents'
 * work closed (RoutingWorkResult) on a Partner-routed channel, the agents who had the conversation leaving
 * it (ParticipantChanged) on every channel; the integrations hear Ended or Abandoned.
 */
export async function changeSession(tx: Tx, deps: SessionDeps, call: CrmCall, request: MessagingSessionRequest): Promise<CrmResponse> {
  const { sessions, events, lifecycle } = deps;
  const conversation = await conversationOf(tx, call, request.conversationIdentifier);
  if (
    conversation.channel_address_identifier !== request.channelAddressIdentifier ||
    conversation.end_user_client_identifier !== request.endUserClientId
  ) {
    throw apiError('EndUserNotInConversation', {
      endUserClientId: request.endUserClientId,
      conversationIdentifier: request.conversationIdentifier,
    });
  }
  const session = await sessions.findOpen(tx, conversation.conversation_identifier);
  if (!session) throw apiError('NoOpenSession', { conversationIdentifier: request.conversationIdentifier });
  if (request.sessionId !== undefined && !sameSalesforceId(request.sessionId, session.session_id)) {
    throw apiError('SessionIdMismatch', { sessionId: request.sessionId });
  }
  const target = eventTarget(conversation);
  const author = authorOf(target, request);
  const now = Date.now();
  const status = { sessionId: session.session_id, previousStatus: session.status, openedAt: session.opened_at };
  if (request.operation === 'Inactivate') {
    await tx
      .updateTable('messaging_sessions')
      .set({ status: 'Inactive', updated_at: now })
      .where('session_id', '=', session.session_id)
      .execute();
    if (session.status !== 'Inactive') await events.sessionStatusChanged(tx, target, { ...status, status: 'Inactive' }, author);
    return { status: 200, body: { success: true } };
  }
  const partnerRouted = conversation.routing_owner === 'Partner';
  const psr = await tx.selectFrom('pending_service_routings').selectAll().where('open_key', '=', session.session_id).executeTakeFirst();
  if (psr) {
    const cancelReason = request.operationBy === 'EndUser' ? 'EndUserEnded' : 'Cancel';
    await tx
      .updateTable('pending_service_routings')
      .set({ status: 'Cancelled', open_key: null, cancel_reason: 'SessionEnded', closed_at: now })
      .where('psr_id', '=', psr.psr_id)
      .execute();
    if (partnerRouted) {
      await events.routingResult(tx, target, {
        routingType: psr.routing_type,
        failureType: 'Cancelled',
        errorMessages: [],
        pendingServiceRoutingId: psr.psr_id,
        recordId: toFifteenCharId(session.session_id),
        isExternallyRouted: false,
        cancelReason,
      });
    }
    await events.queuePositions(tx, psr.queue_id, { leftCreatedAt: psr.created_at });
  }
  const works = await tx
    .selectFrom('agent_work as w')
    .innerJoin('users as u', 'u.user_id', 'w.user_id')
    .select(['w.work_id', 'w.user_id', 'w.psr_id', 'w.status', 'w.routing_type', 'w.routing_correlation_id', 'u.display_name'])
    .where('w.session_id', '=', session.session_id)
    .where('w.active_key', 'is not', null)
    .execute();
  await tx
    .updateTable('agent_work')
    .set({ status: 'Closed', active_key: null, closed_at: now, updated_at: now })
    .where('session_id', '=', session.session_id)
    .where('active_key', 'is not', null)
    .execute();
  for (const w of works) {
    if (partnerRouted) {
      await events.workChanged(tx, target, {
        workType: 'Closed',
        workId: w.work_id,
        sessionId: session.session_id,
        userId: w.user_id,
        agentName: w.display_name,
        psrId: w.psr_id,
        routingType: w.routing_type,
        routingCorrelationId: w.routing_correlation_id,
      });
    }
  }
  const leaving = works.filter((w) => w.status === 'Opened');
  for (const w of leaving) {
    await leaveConversation(tx, conversation.conversation_identifier, agentParticipant(w.user_id), call.requestId);
  }
  if (leaving.length > 0) {
    const changes = leaving.map((w) => ({
      operation: 'remove' as const,
      participant: agentParticipant(w.user_id),
      displayName: w.display_name,
    }));
    await events.participantsChanged(tx, target, changes, author);
  }
  await tx
    .updateTable('messaging_sessions')
    .set({ status: 'Ended', open_key: null, ended_at: now, updated_at: now })
    .where('session_id', '=', session.session_id)
    .execute();
  await events.sessionStatusChanged(tx, target, { ...status, status: 'Ended', endedAt: now }, author);
  const connected = await lifecycle.wasConnected(tx, conversation.conversation_identifier, session.opened_at);
  await lifecycle.raise(tx, {
    event: connected ? 'Ended' : 'Abandoned',
    cause: session.session_id,
    conversationIdentifier: conversation.conversation_identifier,
    sessionId: session.session_id,
  });
  return { status: 200, body: { success: true } };
}

/** Who acts: the end user when `operationBy` says so, the org itself otherwise. */
function authorOf(target: RoutingEventTarget, request: MessagingSessionRequest): EntryAuthor {
  if (request.operationBy !== 'EndUser') return systemAuthor(target);
  return { appType: 'custom', subject: target.endUserClientIdentifier, role: 'EndUser', displayName: target.endUserClientIdentifier };
}
