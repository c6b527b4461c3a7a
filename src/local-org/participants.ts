import type { Participant } from '../contract/participant.ts';
import type { Tx } from '../store/transactions.ts';

/** Records a participant as being in the conversation from now; one who had left joins again. */
export async function joinConversation(tx: Tx, conversationIdentifier: string, p: Participant, requestId: string): Promise<void> {
  await tx
    .insertInto('conversation_participants')
    .values({
      conversation_identifier: conversationIdentifier,
      role: p.role,
      subject: p.subject,
      app_type: p.appType,
      joined_at: Date.now(),
      left_at: null,
      request_id: requestId,
    })
    .onConflict((oc) =>
      oc
        .columns(['conversation_identifier', 'role', 'subject'])
        .doUpdateSet({ left_at: null, joined_at: Date.now(), request_id: requestId })
        .where('conversation_participants.left_at', 'is not', null),
    )
    .execute();
}

/** Marks the participant as gone; false when no such participant is in the conversation now. */
export async function leaveConversation(tx: Tx, conversationIdentifier: string, p: Participant, requestId: string): Promise<boolean> {
  const result = await tx
    .updateTable('conversation_participants')
    .set({ left_at: Date.now(), request_id: requestId })
    .where('conversation_identifier', '=', conversationIdentifier)
    .where('role', '=', p.role)
    .where('subject', '=', p.subject)
    .where('left_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Whether the participant is in the conversation now: joined through the API, or the conversation's own end user (who never leaves by default). */
export async function isInConversation(
  tx: Tx,
  conversation: { conversation_identifier: string; end_user_client_identifier: string },
  p: Participant,
): Promise<boolean> {
  const row = await tx
    .selectFrom('conversation_participants')
    .select('left_at')
    .where('conversation_identifier', '=', conversation.conversation_identifier)
    .where('role', '=', p.role)
    .where('subject', '=', p.subject)
    .executeTakeFirst();
  if (row) return row.left_at === null;
  return p.role === 'EndUser' && p.subject === conversation.end_user_client_identifier;
}

/** A conversation's participants, as the management API shows them. */
export async function participantsOf(tx: Pick<Tx, 'selectFrom'>, conversationIdentifier: string) {
  const rows = await tx
    .selectFrom('conversation_participants')
    .selectAll()
    .where('conversation_identifier', '=', conversationIdentifier)
    .orderBy('joined_at', 'asc')
    .execute();
  return rows.map((r) => ({
    role: r.role,
    subject: r.subject,
    appType: r.app_type,
    joinedAt: new Date(r.joined_at).toISOString(),
    leftAt: r.left_at === null ? null : new Date(r.left_at).toISOString(),
  }));
}
