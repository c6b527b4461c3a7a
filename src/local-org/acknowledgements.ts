import type { AcknowledgementRequest } from '../contract/acknowledgement-request.ts';
import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import type { Tx } from '../store/transactions.ts';
import { conversationOf } from './routing-lookups.ts';

/**
 * `POST /acknowledgement` in the local org: the end user's delivery and read receipts, recorded on the
 * entries they acknowledge. A receipt id already stored is kept as it was (a client resending a receipt
 * changes nothing), so each receipt is stored once.
 */
export async function recordAcknowledgements(tx: Tx, call: CrmCall, request: AcknowledgementRequest): Promise<CrmResponse> {
  const conversation = await conversationOf(tx, call, request.conversationIdentifier);
  if (request.sender.role !== 'EndUser' || request.sender.subject !== conversation.end_user_client_identifier) {
    throw apiError('SenderNotInConversation', { conversationIdentifier: request.conversationIdentifier });
  }
  const acknowledged = [...new Set(request.acknowledgements.map((a) => a.acknowledgedConversationEntryIdentifier))];
  const known = new Set(
    (
      await tx
        .selectFrom('conversation_entries')
        .select('entry_id')
        .where('conversation_identifier', '=', conversation.conversation_identifier)
        .where('entry_id', 'in', acknowledged)
        .execute()
    ).map((r) => r.entry_id),
  );
  request.acknowledgements.forEach((a, i) => {
    if (!known.has(a.acknowledgedConversationEntryIdentifier)) {
      throw apiError('UnknownAcknowledgedEntry', { where: `acknowledgements[${i}]`, entryId: a.acknowledgedConversationEntryIdentifier });
    }
  });
  const now = Date.now();
  await tx
    .insertInto('entry_acknowledgements')
    .values(
      request.acknowledgements.map((a) => ({
        conversation_identifier: conversation.conversation_identifier,
        acknowledgement_entry_id: a.acknowledgmentCreatedConversationEntryIdentifier,
        acknowledged_entry_id: a.acknowledgedConversationEntryIdentifier,
        acknowledgement_type: a.acknowledgementType,
        acknowledged_at: a.acknowledgementTimestamp,
        sender_role: request.sender.role,
        sender_subject: request.sender.subject,
        request_id: call.requestId,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['conversation_identifier', 'acknowledgement_entry_id']).doNothing())
    .execute();
  return { status: 200, body: { success: true } };
}

/** The receipts on a conversation's entries, by acknowledged entry id, as the management API shows them. */
export async function acknowledgementsByEntry(db: Db, conversationIdentifier: string) {
  const rows = await db
    .selectFrom('entry_acknowledgements')
    .selectAll()
    .where('conversation_identifier', '=', conversationIdentifier)
    .orderBy('acknowledged_at', 'asc')
    .orderBy('created_at', 'asc')
    .execute();
  const byEntry = new Map<string, { id: string; type: string; at: string; by: { role: string; subject: string } }[]>();
  for (const r of rows) {
    const list = byEntry.get(r.acknowledged_entry_id) ?? [];
    list.push({
      id: r.acknowledgement_entry_id,
      type: r.acknowledgement_type,
      at: new Date(r.acknowledged_at).toISOString(),
      by: { role: r.sender_role, subject: r.sender_subject },
    });
    byEntry.set(r.acknowledged_entry_id, list);
  }
  return byEntry;
}
