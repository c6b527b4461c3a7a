import { randomUUID } from 'node:crypto';
import { managementError } from '../contract/management-errors.ts';
import type { PayloadShape } from '../contract/outbound-event.ts';
import type { Db } from '../store/database.ts';
import { inTransaction, type Tx } from '../store/transactions.ts';
import { consentStatusOf } from './consent.ts';
import type { LocalOrgLifecycle } from './lifecycle-events.ts';
import { publishInteraction, type ConversationTarget, type EntryAuthor, type InteractionEntry } from './conversation-events.ts';
import { toFifteenCharId } from '../contract/salesforce-ids.ts';
import {
  acknowledgementEntry,
  messageDeliveryFailedEntry,
  messageEntry,
  messageUpdatedEntry,
  progressIndicatorEntry,
  queuePositionEntry,
  participantChangedEntry,
  sessionStatusChangedEntry,
  typingEntry,
  type ParticipantOperation,
} from './interaction-entries.ts';
import type { OutboundEventWriter, Participant } from './outbound-event-log.ts';

export interface AgentAttachment {
  url: string;
  name?: string;
  mimeType?: string;
  id?: string;
}

export interface AgentMessage {
  text: string;
  attachments?: AgentAttachment[];
  /** Any message format of the contract (StaticContentMessage, ChoicesMessage, FormMessage), as the abstractMessage. */
  message?: Record<string, unknown>;
  shape?: PayloadShape;
  senderDisplayName?: string;
}

export type TypingState = 'started' | 'stopped';

export interface AgentIdentity {
  userId: string;
  displayName: string;
}

export interface AgentSendResult {
  conversationIdentifier: string;
  entryId: string;
  entryType: string;
  eventId: string;
  replayId: number;
  shape: PayloadShape;
}

interface ConversationRow {
  conversation_identifier: string;
  org_id: string;
  channel_address_identifier: string;
  end_user_client_identifier: string;
}

/** Consent gate for everything an agent sends to an end user: nothing new reaches one who opted out. */
export async function checkEndUserConsent(tx: Tx, conversation: ConversationRow): Promise<void> {
  const status = await consentStatusOf(tx, conversation.channel_address_identifier, conversation.end_user_client_identifier);
  if (status === 'OptedOut') {
    throw managementError(
      'end_user_opted_out',
      `The end user "${conversation.end_user_client_identifier}" has opted out of messages on this channel; nothing was sent.`,
    );
  }
}

export const targetOf = (c: ConversationRow): ConversationTarget => ({
  orgId: c.org_id,
  channelAddressIdentifier: c.channel_address_identifier,
  conversationIdentifier: c.conversation_identifier,
  endUserClientIdentifier: c.end_user_client_identifier,
});

/**
 * The agent side of the local org: what an agent does in a conversation (a message in any format,
 * typing, acknowledging the end user's entries, adding or removing participants, ending the session)
 * becomes an entry of the conversation and, in the same transaction (opened here: these requests come
 * from the management API, not through the idempotency step), an Interaction event.
 */
export class AgentMessages {
  constructor(
    private readonly db: Db,
    private readonly log: OutboundEventWriter,
    private readonly options: { agent: AgentIdentity; defaultShape: PayloadShape; lifecycle: LocalOrgLifecycle },
  ) {}

  private get author(): EntryAuthor {
    const agent = this.options.agent;
    return { appType: 'agent', subject: agent.userId, role: 'Agent', displayName: agent.displayName };
  }

  async sendMessage(conversationIdentifier: string, message: AgentMessage): Promise<AgentSendResult> {
    return inTransaction(this.db, (tx) => this.sendMessageIn(tx, conversationIdentifier, message));
  }

  /** The same message as part of the caller's transaction, for what must commit with its entry (an agent file's record). */
  async sendMessageIn(tx: Tx, conversationIdentifier: string, message: AgentMessage): Promise<AgentSendResult> {
    const id = randomUUID();
    const abstractMessage = message.message ?? { messageType: 'StaticContentMessage', staticContent: staticContentOf(message) };
    return this.publishIn(tx, conversationIdentifier, message.shape, { consent: true, displayName: message.senderDisplayName }, () =>
      messageEntry(id, abstractMessage),
    );
  }

  async sendTyping(conversationIdentifier: string, state: TypingState, shape?: PayloadShape): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, shape, { consent: true }, () => typingEntry(state));
  }

  /** The agent side acknowledges an end user's entry (by default the latest one). */
  async acknowledge(
    conversationIdentifier: string,
    kind: 'DeliveryAcknowledgement' | 'ReadAcknowledgement',
    entryId: string | undefined,
    shape?: PayloadShape,
  ): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, shape, {}, async (tx) => {
      let query = tx
        .selectFrom('conversation_entries')
        .select('entry_id')
        .where('conversation_identifier', '=', conversationIdentifier)
        .where('sender_role', '=', 'EndUser');
      query = entryId ? query.where('entry_id', '=', entryId) : query.orderBy('sequence', 'desc').limit(1);
      const found = await query.executeTakeFirst();
      if (!found) {
        throw managementError(
          entryId ? 'not_found' : 'conflict',
          entryId
            ? `No end-user entry "${entryId}" in conversation "${conversationIdentifier}".`
            : `Conversation "${conversationIdentifier}" has no end-user entry to acknowledge.`,
        );
      }
      const { displayName: _d, ...by } = this.author;
      return acknowledgementEntry(kind, found.entry_id, by);
    });
  }

  async changeParticipant(
    conversationIdentifier: string,
    change: { operation: ParticipantOperation; participant: Participant; displayName: string },
    shape?: PayloadShape,
  ): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, shape, {}, () => participantChangedEntry([change]));
  }

  /** The agent ends the conversation's open session (409 when none is open). */
  async endSession(conversationIdentifier: string, shape?: PayloadShape): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, shape, {}, async (tx, target) => {
      const session = await tx
        .selectFrom('messaging_sessions')
        .selectAll()
        .where('open_key', '=', conversationIdentifier)
        .executeTakeFirst();
      if (!session) throw managementError('conflict', `Conversation "${conversationIdentifier}" has no open messaging session.`);
      const now = Date.now();
      await tx
        .updateTable('messaging_sessions')
        .set({ status: 'Ended', open_key: null, ended_at: now, updated_at: now })
        .where('session_id', '=', session.session_id)
        .execute();
      // The integrations hear of it as of a session ended by closing the last work.
      const lifecycle = this.options.lifecycle;
      const connected = await lifecycle.wasConnected(tx, conversationIdentifier, session.opened_at);
      await lifecycle.raise(tx, {
        event: connected ? 'Ended' : 'Abandoned',
        cause: session.session_id,
        conversationIdentifier,
        sessionId: session.session_id,
      });
      return sessionStatusChangedEntry({
        sessionId: session.session_id,
        channelAddressIdentifier: target.channelAddressIdentifier,
        conversationIdentifier,
        status: 'Ended',
        previousStatus: session.status,
        startTime: session.opened_at,
        endTime: now,
        endedByRole: 'Agent',
      });
    });
  }

  /** The agent edits one of its messages: MessageUpdated carries the new version under the message's id. */
  async updateMessage(conversationIdentifier: string, entryId: string, message: AgentMessage): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, message.shape, { consent: true, displayName: message.senderDisplayName }, async (tx) => {
      await this.findEntry(tx, conversationIdentifier, entryId, ['Agent'], 'Message');
      const abstractMessage = message.message ?? { messageType: 'StaticContentMessage', staticContent: staticContentOf(message) };
      return messageUpdatedEntry(entryId, abstractMessage);
    });
  }

  /** The end user's channel could not take one of the agent's entries. */
  async reportDeliveryFailure(
    conversationIdentifier: string,
    failure: { entryId: string; errorCode: string; errorMessage?: string },
    shape?: PayloadShape,
  ): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, shape, {}, async (tx, target) => {
      await this.findEntry(tx, conversationIdentifier, failure.entryId, ['Agent']);
      const recipient = { appType: 'custom', subject: target.endUserClientIdentifier, role: 'EndUser' };
      return messageDeliveryFailedEntry(failure.entryId, recipient, failure.errorCode, failure.errorMessage);
    });
  }

  async sendProgress(conversationIdentifier: string, shape?: PayloadShape): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, shape, { consent: true }, () => progressIndicatorEntry());
  }

  /** The end user's place in the queue of the session's open routing (409 when nothing is being routed). */
  async sendQueuePosition(conversationIdentifier: string, position: number, shape?: PayloadShape): Promise<AgentSendResult> {
    return this.publish(conversationIdentifier, shape, { consent: true }, async (tx) => {
      const routing = await tx
        .selectFrom('messaging_sessions as s')
        .innerJoin('pending_service_routings as p', 'p.open_key', 's.session_id')
        .select(['s.session_id', 'p.psr_id'])
        .where('s.open_key', '=', conversationIdentifier)
        .executeTakeFirst();
      if (!routing) throw managementError('conflict', `Conversation "${conversationIdentifier}" is not waiting in a queue.`);
      return queuePositionEntry(routing.psr_id, toFifteenCharId(routing.session_id), position);
    });
  }

  private async findEntry(tx: Tx, conversationIdentifier: string, entryId: string, roles: string[], entryType?: string) {
    let query = tx
      .selectFrom('conversation_entries')
      .select('entry_id')
      .where('conversation_identifier', '=', conversationIdentifier)
      .where('entry_id', '=', entryId)
      .where('sender_role', 'in', roles);
    if (entryType) query = query.where('entry_type', '=', entryType);
    const found = await query.executeTakeFirst();
    if (!found)
      throw managementError(
        'not_found',
        `No ${entryType ?? 'entry'} "${entryId}" of the agent side in conversation "${conversationIdentifier}".`,
      );
    return found;
  }

  private publish(
    conversationIdentifier: string,
    shape: PayloadShape | undefined,
    options: PublishOptions,
    build: EntryBuilder,
  ): Promise<AgentSendResult> {
    return inTransaction(this.db, (tx) => this.publishIn(tx, conversationIdentifier, shape, options, build));
  }

  private async publishIn(
    tx: Tx,
    conversationIdentifier: string,
    shape: PayloadShape | undefined,
    options: PublishOptions,
    build: EntryBuilder,
  ): Promise<AgentSendResult> {
    const chosenShape = shape ?? this.options.defaultShape;
    const conversation = await tx
      .selectFrom('conversations')
      .selectAll()
      .where('conversation_identifier', '=', conversationIdentifier)
      .executeTakeFirst();
    if (!conversation) throw managementError('not_found', `No conversation "${conversationIdentifier}".`);
    if (options.consent) await checkEndUserConsent(tx, conversation);
    const target = targetOf(conversation);
    const entry = await build(tx, target);
    const author = { ...this.author, displayName: options.displayName ?? this.author.displayName };
    const published = await publishInteraction(tx, this.log, target, entry, author, chosenShape);
    return {
      conversationIdentifier,
      entryId: published.entryId,
      entryType: published.entryType,
      eventId: published.event.eventUuid,
      replayId: published.event.replayId,
      shape: chosenShape,
    };
  }
}

interface PublishOptions {
  consent?: boolean;
  displayName?: string;
}

type EntryBuilder = (tx: Tx, target: ConversationTarget) => InteractionEntry | Promise<InteractionEntry>;

function staticContentOf(message: AgentMessage) {
  if (!message.attachments?.length) return { formatType: 'Text', text: message.text };
  return {
    formatType: 'Attachments',
    text: message.text,
    attachments: message.attachments.map((a) => ({
      id: a.id ?? randomUUID(),
      name: a.name ?? fileNameOf(a.url),
      mimeType: a.mimeType ?? 'application/octet-stream',
      url: a.url,
      referenceId: randomUUID(),
    })),
  };
}

function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'attachment');
  } catch {
    return 'attachment';
  }
}
