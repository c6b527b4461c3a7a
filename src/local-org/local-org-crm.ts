import type { AttachmentRecords } from '../attachments/attachment-records.ts';
import type { StoredAttachment } from '../attachments/stored-attachment.ts';
import type { InteractionRequest } from '../contract/interaction-request.ts';
import { badRequest, forbidden } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import type { CrmCall, CrmPort, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import { recordAttachmentInteractions } from './attachment-interactions.ts';
import type { Conversations } from './conversations.ts';

/** The built-in org behind the CRM port: it keeps conversations itself instead of calling Salesforce. */
export class LocalOrgCrm implements CrmPort {
  constructor(
    private readonly db: Db,
    private readonly conversations: Conversations,
    private readonly attachmentRecords: AttachmentRecords,
  ) {}

  async checkAuthorizationContext(call: CrmCall): Promise<void> {
    const channel = await this.db
      .selectFrom('channels')
      .select('channel_address_identifier')
      .where('org_id', '=', call.orgId)
      .where('authorization_context', '=', call.authorizationContext)
      .executeTakeFirst();
    if (!channel) {
      throw forbidden(
        ErrorCode.ContextNotValidForToken,
        `AuthorizationContext "${call.authorizationContext}" is not a conversation channel definition of org ${call.orgId}.`,
      );
    }
  }

  async postInteraction(call: CrmCall, request: InteractionRequest, attachments: readonly StoredAttachment[] = []): Promise<CrmResponse> {
    const channel = await this.resolveChannel(call, request.to);
    const entryInteraction = request.interactions.find((i) => i.interactionType === 'EntryInteraction');
    if (!entryInteraction) {
      const deps = { db: this.db, conversations: this.conversations, attachmentRecords: this.attachmentRecords };
      return recordAttachmentInteractions(deps, call, channel.channel_address_identifier, request, attachments);
    }
    const result = await this.db.transaction().execute(async (trx) => {
      const { conversationIdentifier } = await this.conversations.findOrCreate(trx, {
        orgId: call.orgId,
        channelAddressIdentifier: channel.channel_address_identifier,
        endUserClientIdentifier: request.from,
      });
      await this.conversations.appendEntry(trx, conversationIdentifier, {
        entryId: entryInteraction.entryId,
        entryType: entryInteraction.entryType,
        senderRole: 'EndUser',
        senderSubject: request.from,
        clientTimestamp: entryInteraction.timestamp,
        payload: entryInteraction.payload,
        routingAttributes: request.routingAttributes,
        requestId: call.requestId,
      });
      return { conversationIdentifier };
    });
    return {
      status: 202,
      body: { conversationIdentifier: result.conversationIdentifier, id: entryInteraction.entryId, workItemIds: [], success: true },
    };
  }

  /** The channel a request addresses, checked against the caller's org and AuthorizationContext. */
  private async resolveChannel(call: CrmCall, channelAddressIdentifier: string) {
    const channel = await this.db
      .selectFrom('channels')
      .selectAll()
      .where('channel_address_identifier', '=', channelAddressIdentifier)
      .where('org_id', '=', call.orgId)
      .executeTakeFirst();
    if (!channel) {
      throw badRequest(ErrorCode.UnknownChannel, `No messaging channel has the address identifier "${channelAddressIdentifier}" in this org.`);
    }
    if (!channel.active) {
      throw badRequest(ErrorCode.InactiveChannel, `The messaging channel "${channelAddressIdentifier}" is not active.`);
    }
    if (channel.authorization_context !== call.authorizationContext) {
      throw forbidden(
        ErrorCode.ContextNotValidForChannel,
        `AuthorizationContext "${call.authorizationContext}" is not the one configured for channel "${channelAddressIdentifier}".`,
      );
    }
    return channel;
  }
}
