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
import type { InteractionRequest } from '../contract/interaction-request.ts';
import type { CancelRouteRequest, RouteRequest } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';
import type { Db } from '../store/database.ts';

/** Who is calling, established by the guard from the access token and headers. */
export interface CrmCall {
  orgId: string;
  userId: string;
  consumerKey: string;
  authorizationContext: string;
  requestId: string;
}

/** A request as the partner sent it, for an adapter that forwards it unchanged. */
export interface RawRequest {
  /** The body's text exactly as received: a JSON operation's body, or an interaction's `json` part. */
  body: string;
  /** The operation's own headers beyond the guard's (e.g. AuthorizationContextType), as received. */
  headers: Readonly<Record<string, string>>;
  /** The query string as received, without its '?' (GET /conversationEntry may carry its fields there). */
  query?: string;
}

/**
 * Both forms of one request, always together: `parsed` (validated) for an adapter that acts on it, `raw`
 * for one that forwards it, so no operation can reach the org with a body rebuilt, or left out.
 */
export interface PortRequest<T> {
  parsed: T;
  raw: RawRequest;
}

/** The CRM's answer, passed back to the partner as it is. */
export interface CrmResponse {
  status: number;
  body: unknown;
  /** Answer headers to pass on as they came (bridge mode: the org's Retry-After and Content-Type). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * The idempotency record of a request, for an adapter that writes it together with its answer in the
 * operation's own statement (postInteractionAtOnce): every column but the answer, which the adapter knows.
 */
export interface AnswerRecord {
  idempotencyKey: string;
  requestId: string;
  operation: string;
  createdAt: number;
  expiresAt: number;
}

/** What postInteractionAtOnce did: nothing (`undefined`), or all of it, with the record and its answer. */
export interface AnsweredAtOnce {
  response: CrmResponse;
  /** Another body already came with this RequestId (worth the idempotency step's warning). */
  otherBodyWithRequestId: boolean;
}

/** What a bridge-mode operation runs in: nothing, since an HTTP call to the org must not hold a transaction open. */
export type NoTransaction = undefined;

/**
 * The seam between the bridge and the CRM: the local org implements it with its own state, the
 * Salesforce adapter with HTTP calls to a real org. Everything before it (auth, headers, validation,
 * idempotency) and after it (outbound) is shared. Refusals are thrown as ApiError.
 *
 * Every operation gets its `Scope` from the idempotency step that runs it: the local org's operations a
 * transaction (Tx) that already holds the idempotency record, and nothing else to write with; the
 * Salesforce adapter's NoTransaction.
 */
export interface CrmPort<Scope> {
  /** Throws unless the AuthorizationContext names a channel definition of the caller's org. Runs before, never inside, an operation. */
  checkAuthorizationContext(call: CrmCall): Promise<void>;
  /** `attachments`: the request's files, already stored in the bucket, one per AttachmentInteraction. */
  postInteraction(
    scope: Scope,
    call: CrmCall,
    request: PortRequest<InteractionRequest>,
    attachments: readonly StoredAttachment[],
  ): Promise<CrmResponse>;
  /**
   * Optional, for a store whose every statement is a round trip (PostgreSQL): the common case of
   * postInteraction, an entry into a conversation that has an open session, stored with `record` and its
   * answer in one statement that commits by itself (no transaction around it). Undefined when the case does
   * not apply or anything differs from it (a replay, a new conversation, a refusal to come): then nothing
   * was written, and the idempotency step runs postInteraction as usual.
   */
  postInteractionAtOnce?(
    db: Db,
    call: CrmCall,
    request: PortRequest<InteractionRequest>,
    attachments: readonly StoredAttachment[],
    record: AnswerRecord,
  ): Promise<AnsweredAtOnce | undefined>;
  /** `POST /route`: creates a pending service routing for the conversation's work item. */
  route(scope: Scope, call: CrmCall, request: PortRequest<RouteRequest>): Promise<CrmResponse>;
  /** `DELETE /route`: cancels the conversation's open pending service routing. */
  cancelRoute(scope: Scope, call: CrmCall, request: PortRequest<CancelRouteRequest>): Promise<CrmResponse>;
  /** `POST /routingResult`: where the partner's routing of a work item went. */
  postRoutingResult(scope: Scope, call: CrmCall, request: PortRequest<RoutingResultRequest>): Promise<CrmResponse>;
  /** `POST /agentWork`: assigns a work item to an agent. */
  createAgentWork(scope: Scope, call: CrmCall, request: PortRequest<AgentWorkRequest>): Promise<CrmResponse>;
  /** `PATCH /agentWork`: accepts, declines, cancels or closes an agent work. */
  updateAgentWork(scope: Scope, call: CrmCall, request: PortRequest<UpdateAgentWorkRequest>): Promise<CrmResponse>;
  /** `PATCH /consent`: sets an end user's messaging consent on a channel. */
  updateConsent(scope: Scope, call: CrmCall, request: PortRequest<ConsentRequest>): Promise<CrmResponse>;
  /** `POST /acknowledgement`: the end user's delivery and read receipts for entries of a conversation. */
  acknowledge(scope: Scope, call: CrmCall, request: PortRequest<AcknowledgementRequest>): Promise<CrmResponse>;
  /** `PATCH /capabilities`: the structured content the channel's app can render. */
  registerCapabilities(scope: Scope, call: CrmCall, request: PortRequest<CapabilitiesRequest>): Promise<CrmResponse>;
  /** `POST /conversation`: establishes an end user's conversation on a channel before any message. */
  establishConversation(scope: Scope, call: CrmCall, request: PortRequest<ConversationRequest>): Promise<CrmResponse>;
  /** `POST /conversationEntry`: adds a participant's entry to a conversation. */
  addConversationEntry(scope: Scope, call: CrmCall, request: PortRequest<ConversationEntryRequest>): Promise<CrmResponse>;
  /** `GET /conversationEntry`: a page of a conversation's entries. */
  listConversationEntries(scope: Scope, call: CrmCall, request: PortRequest<ConversationEntriesQuery>): Promise<CrmResponse>;
  /** `POST /conversationHistory`: backfills a conversation's past entries. */
  addConversationHistory(scope: Scope, call: CrmCall, request: PortRequest<ConversationHistoryRequest>): Promise<CrmResponse>;
  /** `POST /participant`: a participant leaves a conversation. */
  changeParticipant(scope: Scope, call: CrmCall, request: PortRequest<ParticipantRequest>): Promise<CrmResponse>;
  /** `POST /messagingSession`: ends or inactivates a conversation's messaging session. */
  changeMessagingSession(scope: Scope, call: CrmCall, request: PortRequest<MessagingSessionRequest>): Promise<CrmResponse>;
}
