import { insertAttachmentRecord } from '../attachments/attachment-records.ts';
import { attachmentDescriptor, type StoredAttachment } from '../attachments/stored-attachment.ts';
import { apiError } from '../contract/interaction-errors.ts';
import { attachmentInteractionsOf, type AttachmentInteraction, type InteractionRequest } from '../contract/interaction-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';
import { appendEntry, findOrCreateConversation } from './conversations.ts';

/**
 * The local org's answer to a request of AttachmentInteractions: one Message entry per interaction (its
 * id is the interaction's), a StaticContentMessage in the Attachments format carrying the optional text
 * and the stored file, written with the attachment rows in the request's transaction.
 */
export async function recordAttachmentInteractions(
  tx: Tx,
  call: CrmCall,
  channelAddressIdentifier: string,
  request: InteractionRequest,
  attachments: readonly StoredAttachment[],
  /** Routing's reaction to an inbound Message (in the same transaction); answers the work item ids. */
  onInboundMessage: (conversationIdentifier: string) => Promise<string[]>,
): Promise<CrmResponse> {
  const interactions = attachmentInteractionsOf(request);
  const fileOf = (interaction: AttachmentInteraction) =>
    attachments.find((a) => a.attachmentIndex === interaction.attachmentIndex && a.interactionId === interaction.id);
  if (interactions.length === 0 || interactions.length !== attachments.length || interactions.some((i) => !fileOf(i))) {
    throw apiError('AttachmentCountMismatch', { interactions: interactions.length, files: attachments.length });
  }
  const { conversationIdentifier } = await findOrCreateConversation(tx, {
    orgId: call.orgId,
    channelAddressIdentifier,
    endUserClientIdentifier: request.from,
  });
  for (const interaction of interactions) {
    const file = fileOf(interaction)!;
    await appendEntry(tx, conversationIdentifier, {
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
    await insertAttachmentRecord(tx, { orgId: call.orgId, conversationIdentifier, entryId: interaction.id, attachment: file });
  }
  const workItemIds = await onInboundMessage(conversationIdentifier);
  return { status: 202, body: { conversationIdentifier, id: interactions[0]!.id, workItemIds, success: true } };
}
