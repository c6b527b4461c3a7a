import { randomUUID } from 'node:crypto';
import { managementError } from '../contract/management-errors.ts';
import type { Db } from '../store/database.ts';
import { inTransaction, type Tx } from '../store/transactions.ts';
import { consentStatusOf } from './consent.ts';
import { appendEntry } from './conversations.ts';
import type { PayloadShape } from '../contract/outbound-event.ts';
import type { OutboundEventWriter } from './outbound-event-log.ts';

export interface AgentAttachment {
  url: string;
  name?: string;
  mimeType?: string;
  id?: string;
}

export interface AgentMessage {
  text: string;
  attachments?: AgentAttachment[];
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

/**
 * The agent side of the local org: an agent message or typing indicator becomes an entry of the
 * conversation and, in the same transaction (opened here: these requests come from the management API,
 * not through the idempotency step), an outbound event in the channel's payload shape.
 */
export class AgentMessages {
  constructor(
    private readonly db: Db,
    private readonly log: OutboundEventWriter,
    private readonly options: { agent: AgentIdentity; defaultShape: PayloadShape },
  ) {}

  async sendMessage(conversationIdentifier: string, message: AgentMessage): Promise<AgentSendResult> {
    const id = randomUUID();
    const staticContent = message.attachments?.length
      ? {
          formatType: 'Attachments',
          text: message.text,
          attachments: message.attachments.map((a) => ({
            id: a.id ?? randomUUID(),
            name: a.name ?? fileNameOf(a.url),
            mimeType: a.mimeType ?? 'application/octet-stream',
            url: a.url,
            referenceId: randomUUID(),
            attachmentUploadResult: null,
          })),
        }
      : { formatType: 'Text', text: message.text };
    const entryPayload = {
      entryType: 'Message',
      id,
      abstractMessage: { messageType: 'StaticContentMessage', id, staticContent },
      messageReason: null,
    };
    return this.send(conversationIdentifier, {
      id,
      entryType: 'Message',
      entryPayload,
      shape: message.shape,
      senderDisplayName: message.senderDisplayName,
    });
  }

  async sendTyping(conversationIdentifier: string, state: TypingState, shape?: PayloadShape): Promise<AgentSendResult> {
    const id = randomUUID();
    const entryType = state === 'started' ? 'TypingStartedIndicator' : 'TypingStoppedIndicator';
    return this.send(conversationIdentifier, { id, entryType, entryPayload: { entryType, id, timestamp: Date.now() }, shape });
  }

  private async send(
    conversationIdentifier: string,
    entry: { id: string; entryType: string; entryPayload: Record<string, unknown>; shape?: PayloadShape; senderDisplayName?: string },
  ): Promise<AgentSendResult> {
    const shape = entry.shape ?? this.options.defaultShape;
    const agent = this.options.agent;
    const result = await inTransaction(this.db, async (tx) => {
      const conversation = await tx
        .selectFrom('conversations')
        .selectAll()
        .where('conversation_identifier', '=', conversationIdentifier)
        .executeTakeFirst();
      if (!conversation) throw managementError('not_found', `No conversation "${conversationIdentifier}".`);
      await checkEndUserConsent(tx, conversation);
      const now = Date.now();
      const sender = { appType: 'agent', subject: agent.userId, role: 'Agent' };
      await appendEntry(tx, conversationIdentifier, {
        entryId: entry.id,
        entryType: entry.entryType,
        senderRole: sender.role,
        senderSubject: sender.subject,
        clientTimestamp: now,
        payload: entry.entryPayload,
        requestId: null,
      });
      const event = await this.log.append(tx, {
        orgId: conversation.org_id,
        eventType: 'Interaction',
        channelAddressIdentifier: conversation.channel_address_identifier,
        conversationIdentifier,
        recipient: { appType: 'custom', subject: conversation.end_user_client_identifier, role: 'EndUser' },
        content: {
          senderDisplayName: entry.senderDisplayName ?? agent.displayName,
          identifier: entry.id,
          entryType: entry.entryType,
          entryPayload: entry.entryPayload,
          sender,
          transcriptedTimestamp: now,
          clientTimestamp: now,
          clientDuration: 0,
        },
        shape,
      });
      return {
        conversationIdentifier,
        entryId: entry.id,
        entryType: entry.entryType,
        eventId: event.eventUuid,
        replayId: event.replayId,
        shape,
      };
    });
    return result;
  }
}

function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'attachment');
  } catch {
    return 'attachment';
  }
}
