import type { StoredAttachment } from '../attachments/stored-attachment.ts';
import type { AcknowledgementRequest } from '../contract/acknowledgement-request.ts';
import type { AgentWorkRequest, UpdateAgentWorkRequest } from '../contract/agent-work-request.ts';
import type { CapabilitiesRequest } from '../contract/capabilities-request.ts';
import type { ConsentRequest } from '../contract/consent-request.ts';
import type { ConversationEntryRequest } from '../contract/conversation-entry-request.ts';
import type { ConversationEntriesQuery } from '../contract/conversation-entries-query.ts';
import type { ConversationHistoryRequest } from '../contract/conversation-history-request.ts';
import type { ConversationRequest } from '../contract/conversation-request.ts';
import type { MessagingSessionRequest } from '../contract/messaging-session-request.ts';
import type { ParticipantRequest } from '../contract/participant-request.ts';
import { checkInteractionTimestamps, type InteractionRequest } from '../contract/interaction-request.ts';
import type { CancelRouteRequest, RouteRequest } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';
import type { AnsweredAtOnce, AnswerRecord, CrmCall, CrmPort, CrmResponse, PortRequest } from '../crm/crm-port.ts';
import type { Selectable } from 'kysely';
import type { Db } from '../store/database.ts';
import type { ChannelTable } from '../store/tables.ts';
import type { Tx } from '../store/transactions.ts';
import { recordAcknowledgements } from './acknowledgements.ts';
import { registerCapabilities } from './capabilities.ts';
import { recordAttachmentInteractions } from './attachment-interactions.ts';
import type { LocalOrgAgentWork } from './agent-work.ts';
import type { AuthorizationContexts } from './authorization-contexts.ts';
import { updateConsent, type ConsentEvents } from './consent.ts';
import { resolveChannel } from './channels.ts';
import { addConversationHistory } from './conversation-history.ts';
import { conversationEntriesPage } from './conversation-entries-page.ts';
import { addConversationEntry, changeParticipant, establishConversation } from './conversation-operations.ts';
import { appendToActiveChannelConversation, appendToConversation } from './conversations.ts';
import { MessagesAtOnce } from './message-at-once.ts';
import type { MessagingSessions } from './messaging-sessions.ts';
import { checkRoutingAttributeLengths, type LocalOrgRouting } from './routing.ts';

/**
 * The built-in org behind the CRM port: it keeps conversations itself instead of calling Salesforce.
 * Every operation reads and writes through the transaction it is given, the one that also holds the
 * request's idempotency record; nothing here holds a database handle to use instead.
 */
export class LocalOrgCrm implements CrmPort<Tx> {
  constructor(
    private readonly authorizationContexts: AuthorizationContexts,
    private readonly routing: LocalOrgRouting,
    private readonly agentWork: LocalOrgAgentWork,
    private readonly consentEvents: ConsentEvents,
    private readonly sessions: MessagingSessions,
  ) {}

  /** Concurrent requests' common-case messages, gathered into shared statements (postInteractionAtOnce). */
  private readonly messagesAtOnce = new MessagesAtOnce();

  checkAuthorizationContext(call: CrmCall): Promise<void> {
    return this.authorizationContexts.check(call);
  }

  async postInteraction(
    tx: Tx,
    call: CrmCall,
    { parsed: request }: PortRequest<InteractionRequest>,
    attachments: readonly StoredAttachment[],
  ): Promise<CrmResponse> {
    checkInteractionTimestamps(request);
    const entryInteraction = request.interactions.find((i) => i.interactionType === 'EntryInteraction');
    if (!entryInteraction) {
      const channel = await resolveChannel(tx, call, request.to);
      checkRoutingAttributeLengths(request.routingAttributes, channel.routing_attribute_max_length);
      // A file is an inbound Message: it opens a work item like a text message does.
      return recordAttachmentInteractions(tx, call, channel.channel_address_identifier, request, attachments, (conversationIdentifier) =>
        this.routing.onInboundEntry(tx, {
          orgId: call.orgId,
          channel,
          conversationIdentifier,
          endUserClientIdentifier: request.from,
          entryType: 'Message',
        }),
      );
    }
    const key = { orgId: call.orgId, channelAddressIdentifier: request.to, endUserClientIdentifier: request.from };
    const entry = {
      entryId: entryInteraction.entryId,
      entryType: entryInteraction.entryType,
      senderRole: 'EndUser',
      senderSubject: request.from,
      clientTimestamp: entryInteraction.timestamp,
      payload: entryInteraction.payload,
      routingAttributes: request.routingAttributes,
      requestId: call.requestId,
    };
    // The common case checks the channel in the statement that stores the entry; when that statement stores
    // nothing, the checks run one by one, in the order the refusals take precedence. A refusal after the
    // entry was stored rolls it back with the rest of the request's transaction.
    const known = await appendToActiveChannelConversation(tx, { ...key, authorizationContext: call.authorizationContext }, entry);
    let channel: Selectable<ChannelTable> | undefined;
    if (known) checkRoutingAttributeLengths(request.routingAttributes, known.routingAttributeMaxLength);
    else {
      channel = await resolveChannel(tx, call, request.to);
      checkRoutingAttributeLengths(request.routingAttributes, channel.routing_attribute_max_length);
    }
    const stored: { conversationIdentifier: string; openSessionId?: string | null } = known ?? (await appendToConversation(tx, key, entry));
    const { conversationIdentifier, openSessionId } = stored;
    // The channel's row is needed only to open a session (onInboundEntry does nothing for an open one).
    const workItemIds =
      entryInteraction.entryType === 'Message' && !openSessionId
        ? await this.routing.onInboundEntry(tx, {
            orgId: call.orgId,
            channel: channel ?? (await resolveChannel(tx, call, request.to)),
            conversationIdentifier,
            endUserClientIdentifier: request.from,
            entryType: entryInteraction.entryType,
            openSessionId,
          })
        : [];
    return { status: 202, body: accepted(conversationIdentifier, entryInteraction.entryId, workItemIds) };
  }

  /**
   * postInteraction's common case in one statement shared with concurrent ones (appendToOpenSessionAnswered): a lone entry, no files
   * and no routing attributes, into a conversation whose session is open, which opens no work item. Any
   * other request, and any the statement does not store, is left to postInteraction.
   */
  async postInteractionAtOnce(
    db: Db,
    call: CrmCall,
    { parsed: request }: PortRequest<InteractionRequest>,
    attachments: readonly StoredAttachment[],
    record: AnswerRecord,
  ): Promise<AnsweredAtOnce | undefined> {
    const [entryInteraction, ...others] = request.interactions;
    if (others.length > 0 || attachments.length > 0 || request.routingAttributes) return undefined;
    if (entryInteraction?.interactionType !== 'EntryInteraction') return undefined;
    try {
      checkInteractionTimestamps(request);
    } catch {
      // Refused only after the idempotency record was looked for: a replay of an answered request wins.
      return undefined;
    }
    const { entryId } = entryInteraction;
    const stored = await this.messagesAtOnce.append(db, {
      key: {
        orgId: call.orgId,
        channelAddressIdentifier: request.to,
        endUserClientIdentifier: request.from,
        authorizationContext: call.authorizationContext,
      },
      entry: {
        entryId,
        entryType: entryInteraction.entryType,
        senderRole: 'EndUser',
        senderSubject: request.from,
        clientTimestamp: entryInteraction.timestamp,
        payload: entryInteraction.payload,
        requestId: call.requestId,
      },
      record,
      status: 202,
      answer: (conversationIdentifier) => accepted(conversationIdentifier, entryId, []),
    });
    if (!stored) return undefined;
    return {
      response: { status: 202, body: accepted(stored.conversationIdentifier, entryId, []) },
      otherBodyWithRequestId: stored.otherBodyWithRequestId,
    };
  }

  route(tx: Tx, call: CrmCall, request: PortRequest<RouteRequest>): Promise<CrmResponse> {
    return this.routing.route(tx, call, request.parsed);
  }

  cancelRoute(tx: Tx, call: CrmCall, request: PortRequest<CancelRouteRequest>): Promise<CrmResponse> {
    return this.routing.cancelRoute(tx, call, request.parsed);
  }

  postRoutingResult(tx: Tx, call: CrmCall, request: PortRequest<RoutingResultRequest>): Promise<CrmResponse> {
    return this.routing.postRoutingResult(tx, call, request.parsed);
  }

  createAgentWork(tx: Tx, call: CrmCall, request: PortRequest<AgentWorkRequest>): Promise<CrmResponse> {
    return this.agentWork.create(tx, call, request.parsed);
  }

  updateAgentWork(tx: Tx, call: CrmCall, request: PortRequest<UpdateAgentWorkRequest>): Promise<CrmResponse> {
    return this.agentWork.update(tx, call, request.parsed);
  }

  updateConsent(tx: Tx, call: CrmCall, request: PortRequest<ConsentRequest>): Promise<CrmResponse> {
    return updateConsent(tx, call, request.parsed, this.consentEvents);
  }

  acknowledge(tx: Tx, call: CrmCall, request: PortRequest<AcknowledgementRequest>): Promise<CrmResponse> {
    return recordAcknowledgements(tx, call, request.parsed);
  }

  registerCapabilities(tx: Tx, call: CrmCall, request: PortRequest<CapabilitiesRequest>): Promise<CrmResponse> {
    return registerCapabilities(tx, call, request.parsed);
  }

  establishConversation(tx: Tx, call: CrmCall, request: PortRequest<ConversationRequest>): Promise<CrmResponse> {
    return establishConversation(tx, call, request.parsed);
  }

  addConversationEntry(tx: Tx, call: CrmCall, request: PortRequest<ConversationEntryRequest>): Promise<CrmResponse> {
    return addConversationEntry(tx, call, request.parsed);
  }

  listConversationEntries(tx: Tx, call: CrmCall, request: PortRequest<ConversationEntriesQuery>): Promise<CrmResponse> {
    return conversationEntriesPage(tx, call, request.parsed);
  }

  addConversationHistory(tx: Tx, call: CrmCall, request: PortRequest<ConversationHistoryRequest>): Promise<CrmResponse> {
    return addConversationHistory(
      tx,
      { sessions: this.sessions, openSession: (t, target) => this.routing.openSession(t, target) },
      call,
      request.parsed,
    );
  }

  changeParticipant(tx: Tx, call: CrmCall, request: PortRequest<ParticipantRequest>): Promise<CrmResponse> {
    return changeParticipant(tx, this.routing.conversationEvents, call, request.parsed);
  }

  changeMessagingSession(tx: Tx, call: CrmCall, request: PortRequest<MessagingSessionRequest>): Promise<CrmResponse> {
    return this.routing.changeSession(tx, call, request.parsed);
  }
}

/** The answer to an interaction the org took: its conversation, the entry and the work items it opened. */
function accepted(conversationIdentifier: string, entryId: string, workItemIds: string[]) {
  return { conversationIdentifier, id: entryId, workItemIds, success: true };
}
