import type { StoredAttachment } from '../attachments/stored-attachment.ts';
import type { AgentWorkRequest, UpdateAgentWorkRequest } from '../contract/agent-work-request.ts';
import type { ConsentRequest } from '../contract/consent-request.ts';
import type { InteractionRequest } from '../contract/interaction-request.ts';
import type { CancelRouteRequest, RouteRequest } from '../contract/route-request.ts';
import type { RoutingResultRequest } from '../contract/routing-result-request.ts';

/** Who is calling, established by the guard from the access token and headers. */
export interface CrmCall {
  orgId: string;
  userId: string;
  consumerKey: string;
  authorizationContext: string;
  requestId: string;
  /** The request as the partner sent it, for an adapter that forwards it unchanged. */
  original?: { body?: unknown; headers?: Record<string, string> };
}

/** The CRM's answer, passed back to the partner as it is. */
export interface CrmResponse {
  status: number;
  body: unknown;
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
  postInteraction(scope: Scope, call: CrmCall, request: InteractionRequest, attachments: readonly StoredAttachment[]): Promise<CrmResponse>;
  /** `POST /route`: creates a pending service routing for the conversation's work item. */
  route(scope: Scope, call: CrmCall, request: RouteRequest): Promise<CrmResponse>;
  /** `DELETE /route`: cancels the conversation's open pending service routing. */
  cancelRoute(scope: Scope, call: CrmCall, request: CancelRouteRequest): Promise<CrmResponse>;
  /** `POST /routingResult`: where the partner's routing of a work item went. */
  postRoutingResult(scope: Scope, call: CrmCall, request: RoutingResultRequest): Promise<CrmResponse>;
  /** `POST /agentWork`: assigns a work item to an agent. */
  createAgentWork(scope: Scope, call: CrmCall, request: AgentWorkRequest): Promise<CrmResponse>;
  /** `PATCH /agentWork`: accepts, declines, cancels or closes an agent work. */
  updateAgentWork(scope: Scope, call: CrmCall, request: UpdateAgentWorkRequest): Promise<CrmResponse>;
  /** `PATCH /consent`: sets an end user's messaging consent on a channel. */
  updateConsent(scope: Scope, call: CrmCall, request: ConsentRequest): Promise<CrmResponse>;
}
