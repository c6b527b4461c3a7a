import type { Selectable } from 'kysely';
import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall } from '../crm/crm-port.ts';
import type { ChannelTable } from '../store/tables.ts';
import type { Tx } from '../store/transactions.ts';
import { checkChannelContext } from './channels.ts';
import type { RoutingEventTarget } from './routing-events.ts';
import { KeyPrefix, toEighteenCharId } from '../contract/salesforce-ids.ts';

// Lookups the routing and agent work operations share: what a request names, as the caller may see it.

export interface ConversationContext extends Selectable<ChannelTable> {
  conversation_identifier: string;
  end_user_client_identifier: string;
}

/** The conversation and its channel, visible to the caller's org and AuthorizationContext. */
export async function conversationOf(tx: Tx, call: CrmCall, conversationIdentifier: string): Promise<ConversationContext> {
  const row = await tx
    .selectFrom('conversations as c')
    .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
    .selectAll('ch')
    .select(['c.conversation_identifier', 'c.end_user_client_identifier'])
    .where('c.conversation_identifier', '=', conversationIdentifier)
    .where('c.org_id', '=', call.orgId)
    .executeTakeFirst();
  if (!row) {
    throw apiError('ConversationNotFound', { conversationIdentifier });
  }
  checkChannelContext(call, row);
  return row;
}

/** The open messaging session a 15-character work item id names, with its conversation and channel. */
export async function openSessionOf(tx: Tx, call: CrmCall, workItemId: string) {
  if (!workItemId.startsWith(KeyPrefix.MessagingSession)) {
    throw apiError('WorkItemNotMessagingSession', { workItemId, prefix: KeyPrefix.MessagingSession });
  }
  const session = await tx
    .selectFrom('messaging_sessions as s')
    .innerJoin('conversations as c', 'c.conversation_identifier', 's.conversation_identifier')
    .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
    .selectAll('ch')
    .select(['s.session_id', 's.status', 's.open_key', 'c.conversation_identifier', 'c.end_user_client_identifier'])
    .where('s.session_id', '=', toEighteenCharId(workItemId))
    .where('s.org_id', '=', call.orgId)
    .executeTakeFirst();
  if (!session || session.open_key === null) {
    throw apiError('WorkItemNotFound', { workItemId, ended: session !== undefined });
  }
  checkChannelContext(call, session);
  return session;
}

/** Where a routing event about this conversation goes. */
export function eventTarget(row: {
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
