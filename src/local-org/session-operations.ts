import { apiError } from '../contract/interaction-errors.ts';
import type { MessagingSessionRequest } from '../contract/messaging-session-request.ts';
import { sameSalesforceId } from '../contract/salesforce-ids.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import { conversationOf } from './routing-lookups.ts';

/**
 * `POST /messagingSession` in the local org. End: the open session ends with whatever routing and agent
 * work is still open on it, and the conversation's next message opens a new one. Inactivate: the session
 * stays the open one, marked Inactive until the routing state changes it again (a new message, a route).
 */
export async function changeSession(
  tx: Tx,
  sessions: MessagingSessions,
  call: CrmCall,
  request: MessagingSessionRequest,
): Promise<CrmResponse> {
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
  const now = Date.now();
  if (request.operation === 'Inactivate') {
    await tx
      .updateTable('messaging_sessions')
      .set({ status: 'Inactive', updated_at: now })
      .where('session_id', '=', session.session_id)
      .execute();
    return { status: 200, body: { success: true } };
  }
  await tx
    .updateTable('pending_service_routings')
    .set({ status: 'Cancelled', open_key: null, cancel_reason: 'SessionEnded', closed_at: now })
    .where('session_id', '=', session.session_id)
    .where('open_key', 'is not', null)
    .execute();
  await tx
    .updateTable('agent_work')
    .set({ status: 'Closed', active_key: null, closed_at: now, updated_at: now })
    .where('session_id', '=', session.session_id)
    .where('active_key', 'is not', null)
    .execute();
  await tx
    .updateTable('messaging_sessions')
    .set({ status: 'Ended', open_key: null, ended_at: now, updated_at: now })
    .where('session_id', '=', session.session_id)
    .execute();
  return { status: 200, body: { success: true } };
}
