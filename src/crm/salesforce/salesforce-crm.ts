import type { AttachmentStorage } from '../../attachments/attachment-storage.ts';
import type { StoredAttachment } from '../../attachments/stored-attachment.ts';
import type { CrmCall, CrmPort, CrmResponse, NoTransaction, PortRequest } from '../crm-port.ts';
import { multipartBody } from './multipart-body.ts';
import type { ResilientUpstream } from './resilient-upstream.ts';

/** A stored file's bytes, streamed out of the bucket. */
async function* storedFileBytes(storage: AttachmentStorage, objectKey: string): AsyncGenerator<Uint8Array> {
  yield* (await storage.open(objectKey)).body;
}

/**
 * The CRM port over HTTP to a real org's Interaction Service: same method and path, the bridge's token,
 * the partner's RequestId and AuthorizationContext; the org's status and body come back unchanged.
 */
export class SalesforceCrm implements CrmPort<NoTransaction> {
  constructor(
    private readonly upstream: ResilientUpstream,
    private readonly storage: AttachmentStorage,
  ) {}

  /** The org itself judges the AuthorizationContext when the request reaches it. */
  async checkAuthorizationContext(_call: CrmCall): Promise<void> {}

  /** The json part byte for byte, then each file streamed back out of the bucket, in attachment order. */
  async postInteraction(
    _scope: NoTransaction,
    call: CrmCall,
    request: PortRequest<unknown>,
    attachments: readonly StoredAttachment[],
  ): Promise<CrmResponse> {
    const files = [...attachments].sort((a, b) => a.attachmentIndex - b.attachmentIndex);
    const storage = this.storage;
    return this.upstream.send({
      method: 'POST',
      path: '/api/v1/interactions',
      requestId: call.requestId,
      authorizationContext: call.authorizationContext,
      body: () =>
        multipartBody([
          { name: 'json', contentType: 'application/json', value: request.raw.body },
          ...files.map((file) => ({
            name: 'attachments',
            filename: file.name,
            contentType: file.mimeType,
            value: () => storedFileBytes(storage, file.objectKey),
          })),
        ]),
    });
  }

  route(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/route');
  }

  cancelRoute(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'DELETE', '/api/v1/route');
  }

  postRoutingResult(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/routingResult');
  }

  createAgentWork(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/agentWork');
  }

  updateAgentWork(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'PATCH', '/api/v1/agentWork');
  }

  updateConsent(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'PATCH', '/api/v1/consent');
  }

  acknowledge(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/acknowledgement');
  }

  registerCapabilities(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'PATCH', '/api/v1/capabilities');
  }

  establishConversation(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/conversation');
  }

  addConversationEntry(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/conversationEntry');
  }

  /** The query string and the body (when the partner sent one) both go along: the contract puts the fields in a GET body. */
  listConversationEntries(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    const { body, query } = request.raw;
    return this.upstream.send({
      method: 'GET',
      path: `/api/v1/conversationEntry${query ? `?${query}` : ''}`,
      requestId: call.requestId,
      authorizationContext: call.authorizationContext,
      headers: { ...request.raw.headers },
      ...(body === '' ? {} : { body: () => ({ contentType: 'application/json', data: body }) }),
    });
  }

  addConversationHistory(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/conversationHistory');
  }

  changeParticipant(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/participant');
  }

  changeMessagingSession(_scope: NoTransaction, call: CrmCall, request: PortRequest<unknown>): Promise<CrmResponse> {
    return this.forwardJson(call, request, 'POST', '/api/v1/messagingSession');
  }

  /** A JSON operation goes to the same method and path with the partner's body and headers as they came. */
  private forwardJson(call: CrmCall, request: PortRequest<unknown>, method: string, path: string): Promise<CrmResponse> {
    return this.upstream.send({
      method,
      path,
      requestId: call.requestId,
      authorizationContext: call.authorizationContext,
      headers: { ...request.raw.headers },
      body: () => ({ contentType: 'application/json', data: request.raw.body }),
    });
  }
}
