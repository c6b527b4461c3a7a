import type { Transaction } from 'kysely';
import type { AttachmentRecords } from '../attachments/attachment-records.ts';
import { attachmentDescriptor, type StoredAttachment } from '../attachments/stored-attachment.ts';
import { apiError } from '../contract/interaction-errors.ts';
import { attachmentInteractionsOf, type AttachmentInteraction, type InteractionRequest } from '../contract/interaction-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import type { Tables } from '../store/tables.ts';
import type { Conversations } from './conversations.ts';

/**
 * The local org's answer to a request of AttachmentInteractions: one Message entry per interaction (its
 * id is the interaction's), a StaticContentMessage in the Attachments format carrying the optional text
 * and the stored file, written in one transaction with the attachment rows.
 */
export async function recordAttachmentInteractions(
  deps: {
    db: Db;
    conversations: Conversations;
    attachmentRecords: AttachmentRecords;
    /** Routing's reaction to an inbound Message (in the same transaction); answers the work item ids. */
    onInboundMessage: (trx: Transaction<Tables>, conversationIdentifier: string) => Promise<string[]>;
  },
  call: CrmCall,
  channelAddressIdentifier: string,
  request: InteractionRequest,
  attachments: readonly StoredAttachment[],
): Promise<CrmResponse> {
  const interactions = attachmentInteractionsOf(request);
  const fileOf = (interaction: AttachmentInteraction) =>
    attachments.find((a) => a.attachmentIndex === interaction.attachmentIndex && a.interactionId === interaction.id);
  if (interactions.length === 0 || interactions.length !== attachments.length || interactions.some((i) => !fileOf(i))) {
    throw apiError('AttachmentCountMismatch', { interactions: interactions.length, files: attachments.length });
  }
  const { conversationIdentifier, workItemIds } = await deps.db.transaction().execute(async (trx) => {
    const { conversationIdentifier } = await deps.conversations.findOrCreate(trx, {
      orgId: call.orgId,
      channelAddressIdentifier,
      endUserClientIdentifier: request.from,
    });
    for (const interaction of interactions) {
      const file = fileOf(interaction)!;
      await deps.conversations.appendEntry(trx, conversationIdentifier, {
        entryId: interaction.id,
        entryType: 'Message',
        senderRole: 'EndUser',
        senderSubject: request.from,
        clientTimestamp: interaction.timestamp,
        payload: {
          id: interaction.id,
          entryType: 'Message',
          abstractMessage: {
            messageType: 'StaticContentMessage',
            id: interaction.id,
            staticContent: {
              formatType: 'Attachments',
              ...(interaction.text ? { text: interaction.text } : {}),
              attachments: [attachmentDescriptor(file)],
            },
          },
        },
        routingAttributes: request.routingAttributes,
        requestId: call.requestId,
      });
      await deps.attachmentRecords.insert(trx, { orgId: call.orgId, conversationIdentifier, entryId: interaction.id, attachment: file });
    }
    return { conversationIdentifier, workItemIds: await deps.onInboundMessage(trx, conversationIdentifier) };
  });
  return { status: 202, body: { conversationIdentifier, id: interactions[0]!.id, workItemIds, success: true } };
}
