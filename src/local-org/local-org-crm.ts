import type { AttachmentRecords } from '../attachments/attachment-records.ts';
import type { StoredAttachment } from '../attachments/stored-attachment.ts';
import type { AgentWorkRequest, UpdateAgentWorkRequest } from '../contract/agent-work-request.ts';
import type { ConsentRequest } from '../contract/consent-request.ts';
import { apiError } from '../contract/interaction-errors.ts';
import type { InteractionRequest } from '../contract/interaction-request.ts';
import type { CancelRouteRequest, RouteRequest } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';
import type { CrmCall, CrmPort, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import { recordAttachmentInteractions } from './attachment-interactions.ts';
import type { LocalOrgAgentWork } from './agent-work.ts';
import { updateConsent } from './consent.ts';
import { resolveChannel } from './channels.ts';
import type { Conversations } from './conversations.ts';
import type { LocalOrgRouting } from './routing.ts';

/** The built-in org behind the CRM port: it keeps conversations itself instead of calling Salesforce. */
export class LocalOrgCrm implements CrmPort {
  constructor(
    private readonly db: Db,
    private readonly conversations: Conversations,
    private readonly routing: LocalOrgRouting,
    private readonly agentWork: LocalOrgAgentWork,
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
      throw apiError('ContextNotValidForToken', { authorizationContext: call.authorizationContext, orgId: call.orgId });
    }
  }

  async postInteraction(call: CrmCall, request: InteractionRequest, attachments: readonly StoredAttachment[] = []): Promise<CrmResponse> {
    const channel = await resolveChannel(this.db, call, request.to);
    const entryInteraction = request.interactions.find((i) => i.interactionType === 'EntryInteraction');
    if (!entryInteraction) {
      return recordAttachmentInteractions(
        {
          db: this.db,
          conversations: this.conversations,
          attachmentRecords: this.attachmentRecords,
          // A file is an inbound Message: it opens a work item like a text message does.
          onInboundMessage: (trx, conversationIdentifier) =>
            this.routing.onInboundEntry(trx, {
              orgId: call.orgId,
              channel,
              conversationIdentifier,
              endUserClientIdentifier: request.from,
              entryType: 'Message',
            }),
        },
        call,
        channel.channel_address_identifier,
        request,
        attachments,
      );
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
      const workItemIds = await this.routing.onInboundEntry(trx, {
        orgId: call.orgId,
        channel,
        conversationIdentifier,
        endUserClientIdentifier: request.from,
        entryType: entryInteraction.entryType,
      });
      return { conversationIdentifier, workItemIds };
    });
    return {
      status: 202,
      body: {
        conversationIdentifier: result.conversationIdentifier,
        id: entryInteraction.entryId,
        workItemIds: result.workItemIds,
        success: true,
      },
    };
  }

  route(call: CrmCall, request: RouteRequest): Promise<CrmResponse> {
    return this.routing.route(call, request);
  }

  cancelRoute(call: CrmCall, request: CancelRouteRequest): Promise<CrmResponse> {
    return this.routing.cancelRoute(call, request);
  }

  postRoutingResult(call: CrmCall, request: RoutingResultRequest): Promise<CrmResponse> {
    return this.routing.postRoutingResult(call, request);
  }

  createAgentWork(call: CrmCall, request: AgentWorkRequest): Promise<CrmResponse> {
    return this.agentWork.create(call, request);
  }

  updateAgentWork(call: CrmCall, request: UpdateAgentWorkRequest): Promise<CrmResponse> {
    return this.agentWork.update(call, request);
  }

  updateConsent(call: CrmCall, request: ConsentRequest): Promise<CrmResponse> {
    return updateConsent(this.db, call, request);
  }
}
