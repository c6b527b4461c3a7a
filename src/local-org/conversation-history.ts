import type { ConversationHistoryRequest } from '../contract/conversation-history-request.ts';
import { apiError } from '../contract/interaction-errors.ts';
import { sameSalesforceId } from '../contract/salesforce-ids.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';
import { resolveChannel } from './channels.ts';
import { appendEntryOnce } from './conversation-operations.ts';
import { findOrCreateConversation } from './conversations.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import type { RoutingEventTarget } from './routing-events.ts';

export interface HistorySessions {
  sessions: MessagingSessions;
  /** Opens the conversation's session if none is open, as a first message does (published, Received). */
  openSession: (tx: Tx, target: RoutingEventTarget) => Promise<{ sessionId: string }>;
}
/**
 * `POST /conversationHistory` in the local org: the end user's conversation on the channel (created if
 * none), its participants with the times they were in it, and the past entries, each entry id stored once
 * (an id already in the conversation refuses the whole request, 10073, so a resent history adds nothing).
 * With `messagingSession`, the history is tied to the conversation's open session, established if asked.
 */
export async function addConversationHistory(
  tx: Tx,
  { sessions, openSession }: HistorySessions,
  call: CrmCall,
  request: ConversationHistoryRequest,
): Promise<CrmResponse> {
  const channel = await resolveChannel(tx, call, request.channelAddressIdentifier);
  const endUser = request.participants.find((p) => p.participant.role === 'EndUser');
  if (!endUser) throw apiError('HistoryEndUserCount');
  const { conversationIdentifier } = await findOrCreateConversation(tx, {
    orgId: call.orgId,
    channelAddressIdentifier: channel.channel_address_identifier,
    endUserClientIdentifier: endUser.participant.subject,
  });
  for (const p of request.participants) {
    const times = { joined_at: p.joinedTime, left_at: p.leftTime ?? null, app_type: p.participant.appType, request_id: call.requestId };
    await tx
      .insertInto('conversation_participants')
      .values({ conversation_identifier: conversationIdentifier, role: p.participant.role, subject: p.participant.subject, ...times })
      .onConflict((oc) => oc.columns(['conversation_identifier', 'role', 'subject']).doUpdateSet(times))
      .execute();
  }
  for (const entry of request.entries) {
    await appendEntryOnce(tx, conversationIdentifier, entry.sender, entry, call.requestId);
  }
  let messagingSessionId: string | null = null;
  if (request.messagingSession?.type === 'EstablishMessagingSession') {
    const target = {
      orgId: call.orgId,
      channelAddressIdentifier: channel.channel_address_identifier,
      conversationIdentifier,
      endUserClientIdentifier: endUser.participant.subject,
    };
    messagingSessionId = (await openSession(tx, target)).sessionId;
  } else if (request.messagingSession?.type === 'AttachMessagingSession') {
    const { sessionId } = request.messagingSession;
    const open = await sessions.findOpen(tx, conversationIdentifier);
    if (!open || !sameSalesforceId(open.session_id, sessionId)) throw apiError('UnknownSessionToAttach', { sessionId });
    messagingSessionId = open.session_id;
  }
  return { status: 202, body: { success: true, conversationIdentifier, messagingSessionId } };
}
