import type { ConversationEntriesQuery } from '../contract/conversation-entries-query.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';
import { conversationOf } from './routing-lookups.ts';

/** The app a stored sender role speaks through, for the contract's Participant (entries store role and subject). */
const APP_TYPE_OF_ROLE: Record<string, string> = { EndUser: 'custom', Agent: 'agent', Supervisor: 'agent', Chatbot: 'chatbot' };

/**
 * `GET /conversationEntry` in the local org: entries whose client timestamp (or, without one, the time the
 * org received them) is in [startTime, endTime]; FROM_START gives the oldest first, FROM_END the newest first.
 */
export async function conversationEntriesPage(tx: Tx, call: CrmCall, query: ConversationEntriesQuery): Promise<CrmResponse> {
  const conversation = await conversationOf(tx, call, query.conversationIdentifier);
  const order = query.direction === 'FROM_START' ? 'asc' : 'desc';
  let select = tx
    .selectFrom('conversation_entries')
    .select((eb) => ['sender_role', 'sender_subject', 'payload', eb.fn.coalesce('client_timestamp', 'created_at').as('at')])
    .where('conversation_identifier', '=', conversation.conversation_identifier)
    .where((eb) => eb(eb.fn.coalesce('client_timestamp', 'created_at'), '>=', query.startTime));
  if (query.endTime !== undefined) {
    const endTime = query.endTime;
    select = select.where((eb) => eb(eb.fn.coalesce('client_timestamp', 'created_at'), '<=', endTime));
  }
  const rows = await select.orderBy('at', order).orderBy('sequence', order).limit(query.limit).execute();
  return {
    status: 200,
    body: {
      success: true,
      conversationEntries: rows.map((r) => ({
        clientTimestamp: r.at,
        sender: { appType: APP_TYPE_OF_ROLE[r.sender_role] ?? 'conversation', subject: r.sender_subject, role: r.sender_role },
        entryPayload: JSON.parse(r.payload) as unknown,
      })),
    },
  };
}
