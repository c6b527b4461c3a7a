import { randomUUID } from 'node:crypto';
import type { PayloadShape } from '../contract/outbound-event.ts';
import type { Tx } from '../store/transactions.ts';
import { appendEntry } from './conversations.ts';
import type { OutboundEvent, OutboundEventWriter, Participant } from './outbound-event-log.ts';

/** The conversation an Interaction event belongs to and the end user it is addressed to. */
export interface ConversationTarget {
  orgId: string;
  channelAddressIdentifier: string;
  conversationIdentifier: string;
  endUserClientIdentifier: string;
}

/** Who the entry is from: a participant of the conversation and the name the end user sees. */
export interface EntryAuthor extends Participant {
  displayName: string;
}

/** One conversation entry: its type and its entry payload (without `entryType` and `id`, added here). */
export interface InteractionEntry {
  entryType: string;
  fields: Record<string, unknown>;
  id?: string;
}

export interface PublishedEntry {
  entryId: string;
  entryType: string;
  event: OutboundEvent;
}

/**
 * The one way an Interaction event leaves the local org: the entry is added to the conversation's
 * transcript and published (in the channel's payload shape) in the caller's transaction, so the event
 * commits with the change that caused it. Every entry type's builder (interaction-entries.ts) ends here.
 */
export async function publishInteraction(
  tx: Tx,
  log: OutboundEventWriter,
  target: ConversationTarget,
  entry: InteractionEntry,
  author: EntryAuthor,
  shape: PayloadShape,
): Promise<PublishedEntry> {
  const id = entry.id ?? randomUUID();
  const now = Date.now();
  const entryPayload = { entryType: entry.entryType, id, ...entry.fields };
  const sender: Participant = { appType: author.appType, subject: author.subject, role: author.role };
  await appendEntry(tx, target.conversationIdentifier, {
    entryId: id,
    entryType: entry.entryType,
    senderRole: sender.role,
    senderSubject: sender.subject,
    clientTimestamp: now,
    payload: entryPayload,
    requestId: null,
  });
  const event = await log.append(tx, {
    orgId: target.orgId,
    eventType: 'Interaction',
    channelAddressIdentifier: target.channelAddressIdentifier,
    conversationIdentifier: target.conversationIdentifier,
    recipient: { appType: 'custom', subject: target.endUserClientIdentifier, role: 'EndUser' },
    content: {
      senderDisplayName: author.displayName,
      identifier: id,
      entryType: entry.entryType,
      entryPayload,
      sender,
      transcriptedTimestamp: now,
      clientTimestamp: now,
      clientDuration: 0,
    },
    shape,
  });
  return { entryId: id, entryType: entry.entryType, event };
}
