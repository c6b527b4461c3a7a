import type { ConversationEntryRequest } from '../contract/conversation-entry-request.ts';
import type { ConversationRequest } from '../contract/conversation-request.ts';
import { apiError } from '../contract/interaction-errors.ts';
import type { ParticipantRequest } from '../contract/participant-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';
import { resolveChannel } from './channels.ts';
import { appendEntry, findOrCreateConversation } from './conversations.ts';
import { isInConversation, joinConversation, leaveConversation } from './participants.ts';
import { systemAuthor, type RoutingEvents } from './routing-events.ts';
import { conversationOf, eventTarget } from './routing-lookups.ts';

/**
 * `POST /conversation` in the local org: the end user's conversation on the channel, created if it has
 * none (a channel has one conversation per end user, as /interactions has it), with the end user as its
 * participant. The routing attributes given replace those stored.
 */
export async function establishConversation(tx: Tx, call: CrmCall, request: ConversationRequest): Promise<CrmResponse> {
  const channel = await resolveChannel(tx, call, request.channelAddressIdentifier);
  const { conversationIdentifier } = await findOrCreateConversation(tx, {
    orgId: call.orgId,
    channelAddressIdentifier: channel.channel_address_identifier,
    endUserClientIdentifier: request.endUser.subject,
  });
  if (request.routingAttributes) {
    await tx
      .updateTable('conversations')
      .set({ routing_attributes: JSON.stringify(request.routingAttributes) })
      .where('conversation_identifier', '=', conversationIdentifier)
      .execute();
  }
  await joinConversation(tx, conversationIdentifier, request.endUser, call.requestId);
  return { status: 202, body: { conversationIdentifier } };
}

/** `POST /participant` (operation Remove): the participant leaves the conversation, published as ParticipantChanged (remove). */
export async function changeParticipant(tx: Tx, events: RoutingEvents, call: CrmCall, request: ParticipantRequest): Promise<CrmResponse> {
  const conversation = await conversationOf(tx, call, request.conversationIdentifier);
  const { participant } = request;
  // The conversation's own end user is in it without a row until it leaves: give it one to mark.
  if (await isInConversation(tx, conversation, participant)) {
    await joinConversation(tx, conversation.conversation_identifier, participant, call.requestId);
  }
  if (!(await leaveConversation(tx, conversation.conversation_identifier, participant, call.requestId))) {
    throw apiError('NotAParticipant', { role: participant.role, subject: participant.subject });
  }
  const target = eventTarget(conversation);
  await events.participantsChanged(
    tx,
    target,
    [{ operation: 'remove', participant, displayName: participant.subject }],
    systemAuthor(target),
  );
  return { status: 200, body: { success: true } };
}

/** `POST /conversationEntry`: an entry from a participant now in the conversation, stored once under its id. */
export async function addConversationEntry(tx: Tx, call: CrmCall, request: ConversationEntryRequest): Promise<CrmResponse> {
  const conversation = await conversationOf(tx, call, request.conversationIdentifier);
  if (!(await isInConversation(tx, conversation, request.sender))) {
    throw apiError('SenderNotInConversation', { conversationIdentifier: request.conversationIdentifier });
  }
  await appendEntryOnce(tx, conversation.conversation_identifier, request.sender, request.entry, call.requestId);
  return { status: 202, body: { success: true } };
}

/** Appends an entry from `sender`; an id the conversation already holds is refused (10073, see appendEntry). */
export async function appendEntryOnce(
  tx: Tx,
  conversationIdentifier: string,
  sender: { role: string; subject: string },
  entry: ConversationEntryRequest['entry'],
  requestId: string,
): Promise<void> {
  await appendEntry(tx, conversationIdentifier, {
    entryId: entry.entryId,
    entryType: entry.entryType,
    senderRole: sender.role,
    senderSubject: sender.subject,
    clientTimestamp: entry.clientTimestamp,
    payload: entry.payload,
    requestId,
  });
}
