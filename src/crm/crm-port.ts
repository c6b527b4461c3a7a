import type { StoredAttachment } from '../attachments/stored-attachment.ts';
import type { InteractionRequest } from '../contract/interaction-request.ts';

/** Who is calling, established by the guard from the access token and headers. */
export interface CrmCall {
  orgId: string;
  userId: string;
  consumerKey: string;
  authorizationContext: string;
  requestId: string;
}

/** The CRM's answer, passed back to the partner as it is. */
export interface CrmResponse {
  status: number;
  body: unknown;
}

/**
 * The seam between the bridge and the CRM: the local org implements it with its own state, the
 * Salesforce adapter with HTTP calls to a real org. Everything before it (auth, headers, validation,
 * idempotency) and after it (outbound) is shared. Refusals are thrown as ApiError.
 */
export interface CrmPort {
  /** Throws unless the AuthorizationContext names a channel definition of the caller's org. */
  checkAuthorizationContext(call: CrmCall): Promise<void>;
  /** `attachments`: the request's files, already stored in the bucket, one per AttachmentInteraction. */
  postInteraction(call: CrmCall, request: InteractionRequest, attachments?: readonly StoredAttachment[]): Promise<CrmResponse>;
}
