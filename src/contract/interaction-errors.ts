import { ApiError } from './api-error.ts';

/*
 * Every refusal of the Interaction API, by name: its Interaction API code (Salesforce's numbers, see the
 * README's error section), its HTTP status and the message template. A code means one thing: several
 * names share a code only where they are cases of that one meaning, and then always with the same status
 * (test/unit/interaction-errors.test.ts holds that). Throw sites say what went wrong, never which status.
 */

interface ErrorDefinition<P extends unknown[]> {
  readonly code: number;
  readonly status: number;
  readonly message: (...params: P) => string;
}

const define = <P extends unknown[]>(code: number, status: number, message: (...params: P) => string): ErrorDefinition<P> => ({
  code,
  status,
  message,
});

const shown = (value: unknown) => JSON.stringify(value ?? null);
const RETRY = 'Retry later with the same RequestId.';

export const INTERACTION_ERRORS = {
  // Headers and credentials
  MissingBearerToken: define(10004, 401, () => 'An "Authorization: Bearer <access token>" header is required.'),
  InvalidAccessToken: define(10004, 401, () => 'The access token is not valid: unknown, revoked or expired.'),
  TokenOfAnotherOrg: define(10004, 401, (p: { orgId: string }) => `The access token was not issued for org ${p.orgId}.`),
  MissingInteractionScope: define(10003, 403, (p: { scope: string }) => `The access token lacks the ${p.scope} scope.`),
  MissingHeader: define(10016, 400, (p: { header: string }) => `The ${p.header} header is required.`),
  InvalidRequestIdHeader: define(10016, 400, (p: { value: string }) => `The RequestId header must be a UUID; got "${p.value}".`),
  InvalidOrgIdHeader: define(
    10016,
    400,
    (p: { value: string }) =>
      `The OrgId header must be a 15 or 18 character org id starting with 00D (an 18-character one with its checksum); got "${p.value}".`,
  ),
  ContextNotValidForToken: define(
    10005,
    403,
    (p: { authorizationContext: string; orgId: string }) =>
      `AuthorizationContext "${p.authorizationContext}" is not a conversation channel definition of org ${p.orgId}.`,
  ),
  ContextNotValidForChannel: define(
    10001,
    403,
    (p: { authorizationContext: string; channelAddressIdentifier: string }) =>
      `AuthorizationContext "${p.authorizationContext}" is not the one configured for channel "${p.channelAddressIdentifier}".`,
  ),
  InvalidAuthorizationContextType: define(
    10093,
    400,
    (p: { allowed: readonly string[] }) => `The AuthorizationContextType header is required and must be one of ${p.allowed.join(', ')}.`,
  ),

  // The request as a whole
  // No Interaction API code describes these three; like the table's own 500, their code is the HTTP status.
  NoSuchOperation: define(404, 404, (p: { method: string; path: string }) => `There is no ${p.method} ${p.path} operation.`),
  RequestTooLarge: define(413, 413, (p: { what: string }) => `${p.what} is too large.`),
  UnsupportedContentType: define(415, 415, (p: { expected: string }) => `Send the request as ${p.expected}.`),
  InvalidParameter: define(10089, 400, (p: { field: string; rule: string }) => `"${p.field}" ${p.rule}.`),
  UnreadableRequest: define(10089, 400, (p: { problem: string }) => `The request cannot be read: ${p.problem}.`),
  // Input limits (see contract/json-limits.ts): what a store cannot hold or a parser should not chase is refused at the edge.
  BodyTooLarge: define(
    10089,
    400,
    (p: { what: string; limitBytes: number }) => `${p.what} is larger than the limit of ${p.limitBytes} bytes.`,
  ),
  BodyTooDeep: define(
    10089,
    400,
    (p: { where: string; maxDepth: number }) => `${p.where} nests objects and arrays more than ${p.maxDepth} levels deep.`,
  ),
  NulInInput: define(10089, 400, (p: { where: string }) => `${p.where} holds a NUL character (U+0000), which is not accepted.`),
  UnstorableValue: define(
    10089,
    400,
    () => 'The request holds a value that cannot be stored (a control character or a number out of range).',
  ),
  MissingJsonBody: define(10100, 400, () => 'A JSON request body (Content-Type: application/json) is required.'),
  MalformedBody: define(10100, 400, (p: { problem: string }) => `The request body is not well formed: ${p.problem}.`),
  MissingJsonPart: define(10100, 400, () => 'The multipart request needs a non-empty "json" part holding the interaction request.'),

  // POST /interactions
  InvalidTo: define(10027, 400, () => '"to" must be the channel address identifier: a non-empty string of at most 240 characters.'),
  InvalidFrom: define(10028, 400, () => '"from" must be the end user client identifier: a non-empty string of at most 255 characters.'),
  InvalidInteractionList: define(10029, 400, (p: { where: string; rule: string }) => `${p.where} ${p.rule}.`),
  EmptyInteractionList: define(20003, 400, () => '"interactions" must hold one interaction; it is empty.'),
  TimestampOutsideWindow: define(
    10046,
    400,
    (p: { where: string; pastHours: number; futureMinutes: number }) =>
      `${p.where} must be within the last ${p.pastHours} hours and at most ${p.futureMinutes} minutes ahead of the server's clock.`,
  ),
  DuplicateMessageId: define(
    10073,
    400,
    (p: { entryId: string }) => `The conversation already has an entry with id "${p.entryId}": give each entry a unique id.`,
  ),
  InvalidEntryFormat: define(10045, 400, (p: { where: string; rule: string }) => `${p.where} ${p.rule}.`),
  MissingEntryId: define(10059, 400, (p: { where: string }) => `${p.where}.id is required.`),
  MismatchedInteractionAndMessageId: define(
    10060,
    400,
    (p: { where: string }) => `${p.where}.id and ${p.where}.abstractMessage.id must be the same.`,
  ),
  InvalidMessageType: define(
    10047,
    400,
    (p: { where: string; allowed: readonly string[] }) => `${p.where}.abstractMessage.messageType must be one of ${p.allowed.join(', ')}.`,
  ),
  MessageTypeNotAllowedFromEndUser: define(
    10062,
    400,
    (p: { allowed: readonly string[]; messageType: unknown }) =>
      `An end user can send only ${p.allowed.join(', ')} messages, not ${String(p.messageType)}.`,
  ),
  InvalidFormatType: define(
    10048,
    400,
    (p: { where: string; formatType: unknown }) => `${p.where}.formatType must be a known format type; got ${shown(p.formatType)}.`,
  ),
  InvalidMessageFormatCombination: define(
    10049,
    400,
    (p: { messageType: unknown; allowed: readonly string[]; formatType: unknown }) =>
      `A ${String(p.messageType)} takes formatType ${p.allowed.join(' or ')}, not ${String(p.formatType)}.`,
  ),
  UnsupportedAppType: define(
    10037,
    400,
    (p: { where: string }) => `${p.where}.recipient.appType must be "custom" for MessageDeliveryFailed.`,
  ),
  UnsupportedParticipantRole: define(
    10038,
    400,
    (p: { where: string }) => `${p.where}.recipient.role must be "EndUser" for MessageDeliveryFailed.`,
  ),
  UnknownParticipant: define(10036, 400, (p: { where: string }) => `${p.where}.recipient.subject must name the end user.`),
  UnknownChannel: define(
    10017,
    400,
    (p: { channelAddressIdentifier: string }) =>
      `No messaging channel has the address identifier "${p.channelAddressIdentifier}" in this org.`,
  ),
  InvalidChannelAddressIdentifier: define(
    10017,
    400,
    () => '"channelAddressIdentifier" must be a channel address identifier: a non-empty string of at most 240 characters.',
  ),
  InactiveChannel: define(
    10031,
    400,
    (p: { channelAddressIdentifier: string }) => `The messaging channel "${p.channelAddressIdentifier}" is not active.`,
  ),

  // Attachments
  MissingFileId: define(10007, 400, (p: { where: string }) => `${p.where}.id is required for an AttachmentInteraction.`),
  MissingContentLength: define(
    10010,
    400,
    (p: { where: string }) => `${p.where}.contentLength is required: the size of the file in bytes.`,
  ),
  FileTooLarge: define(
    10008,
    400,
    (p: { interactionId: string; limitBytes: number }) =>
      `The file of AttachmentInteraction "${p.interactionId}" is larger than the limit of ${p.limitBytes} bytes (25 MB).`,
  ),
  FilePartWithoutFile: define(
    10009,
    400,
    () => 'An "attachments" part carries no file: send it as a file part (curl -F "attachments=@path").',
  ),
  MissingFiles: define(10009, 400, () => 'The request has AttachmentInteractions but no "attachments" file part.'),
  EmptyFile: define(10009, 400, (p: { name: string }) => `The file "${p.name}" is empty.`),
  AttachmentCountMismatch: define(
    10011,
    400,
    (p: { interactions: number; files: number | string }) =>
      `The request has ${p.interactions} AttachmentInteraction(s) but ${p.files} "attachments" file(s).`,
  ),
  NoInteractionForFile: define(
    10011,
    400,
    (p: { index: number }) => `No AttachmentInteraction has attachmentIndex ${p.index}, the position of file ${p.index + 1}.`,
  ),
  ContentLengthMismatch: define(
    10051,
    400,
    (p: { name: string; received: string; expected: number }) =>
      `The file "${p.name}" has ${p.received} bytes, but its contentLength says ${p.expected}.`,
  ),
  UndeterminableMimeType: define(
    10095,
    400,
    (p: { name: string }) => `The MIME type of "${p.name}" cannot be determined: send the part with its Content-Type.`,
  ),

  // Conversations, routing and agent work
  InvalidConversationIdentifier: define(
    10018,
    400,
    (p: { field: string }) => `"${p.field}" must be the conversation identifier: a non-empty string of at most 240 characters.`,
  ),
  ConversationNotFound: define(
    10025,
    400,
    (p: { conversationIdentifier: string }) => `No conversation "${p.conversationIdentifier}" on a messaging channel of this org.`,
  ),
  RequestInProgress: define(10055, 409, () => 'A request with this RequestId and body is still being processed. Retry shortly.'),
  InvalidRoutingType: define(
    10089,
    400,
    (p: { field: string; allowed: readonly string[]; value: unknown }) =>
      `${p.field} must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  RouteTargetAmbiguous: define(
    10030,
    400,
    () =>
      '"routingInfo" must name either a flow ("flow": {"flowId", "queueId"}) or a queue ("queueId"), not both and not neither. Leave out "routingInfo" to route by the channel\'s configuration.',
  ),
  ChannelWithoutRouting: define(10030, 400, () => 'The channel has no routing configuration: name a flow or a queue in "routingInfo".'),
  FlowNeedsFallbackQueue: define(
    10024,
    400,
    () => 'Flow-based routing needs "routingInfo.flow.flowId" and the fallback queue "routingInfo.flow.queueId".',
  ),
  UnknownFlow: define(10024, 400, (p: { flowId: string }) => `"${p.flowId}" is not a flow of this org.`),
  InvalidQueueId: define(10032, 400, () => '"routingInfo.queueId" must be a queue id.'),
  UnknownQueue: define(10032, 400, (p: { queueId: string }) => `"${p.queueId}" is not a queue of this org.`),
  InvalidRoutingAttributes: define(
    10096,
    400,
    (p: { name: string; length: number; maxLength: number }) =>
      `Routing attribute "${p.name}" is ${p.length} characters long; the channel allows at most ${p.maxLength}.`,
  ),
  ErrorMessageWithSuccess: define(10033, 400, () => 'A successful routing result must not carry an "errorMessage".'),
  MissingErrorMessageOnFailure: define(10034, 400, () => 'A failed routing result needs an "errorMessage" saying why routing failed.'),
  InvalidWorkItemId: define(
    10012,
    400,
    (p: { value: unknown }) => `"workItemId" must be the 15-character id of a messaging session; got ${shown(p.value)}.`,
  ),
  WorkItemNotMessagingSession: define(
    15110,
    400,
    (p: { workItemId: string; prefix: string }) =>
      `Work item ${p.workItemId} is not a messaging session id (those start with ${p.prefix}).`,
  ),
  WorkItemNotFound: define(
    15111,
    400,
    (p: { workItemId: string; ended: boolean }) => `No open messaging session ${p.workItemId}${p.ended ? ': it has ended' : ''}.`,
  ),
  RoutingContextMismatch: define(
    15107,
    400,
    (p: { conversationIdentifier: string; workItemId: string }) =>
      `Conversation "${p.conversationIdentifier}" is not the conversation of work item ${p.workItemId}.`,
  ),
  InvalidUserId: define(
    15106,
    400,
    (p: { value: unknown }) => `"userId" must name the user (a Salesforce or an external user id); got ${shown(p.value)}.`,
  ),
  NotAnAgent: define(15106, 400, (p: { userId: string }) => `User ${p.userId} is not an agent user of this org.`),
  BothCapacities: define(10013, 400, () => 'Send either "capacityPercentage" or "capacityWeight", not both.'),
  NoCapacity: define(
    10013,
    400,
    (p: { workItemId: string }) =>
      `Work item ${p.workItemId} has no open routing to take the capacity from: send "capacityPercentage" or "capacityWeight".`,
  ),
  InvalidCapacityPercentage: define(
    10015,
    400,
    (p: { value: unknown }) => `"capacityPercentage" must be a number from 0 to 100; got ${shown(p.value)}.`,
  ),
  InvalidCapacityWeight: define(
    10014,
    400,
    (p: { value: unknown }) => `"capacityWeight" must be a number greater than or equal to 0; got ${shown(p.value)}.`,
  ),
  ActiveAgentWorkExists: define(
    15109,
    400,
    (p: { userId: string; workItemId: string }) =>
      `User ${p.userId} already has active agent work on work item ${p.workItemId}; close it first.`,
  ),
  InvalidWorkId: define(
    10082,
    400,
    (p: { value: unknown }) => `"workId" must be the 15 or 18 character id of an agent work; got ${shown(p.value)}.`,
  ),
  UnknownAgentWork: define(10082, 400, (p: { workId: string }) => `No agent work "${p.workId}" in this org.`),
  InvalidContextType: define(10083, 400, (p: { value: unknown }) => `"contextType" must be Agent or Chatbot; got ${shown(p.value)}.`),
  MissingBotId: define(10084, 400, () => '"botId" is required for "contextType": "Chatbot": the external bot handling the work.'),
  UnknownBot: define(
    10084,
    400,
    (p: { botId: string }) => `The local org has no external bot "${p.botId}": only "contextType": "Agent" work can be updated here.`,
  ),
  InvalidAgentWorkStatus: define(
    10085,
    400,
    (p: { allowed: readonly string[]; value: unknown }) => `"status" must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  StatusNotAllowedNow: define(
    10085,
    400,
    (p: { workId: string; current: string; requested: string }) =>
      `Agent work ${p.workId} is ${p.current}; it cannot take status ${p.requested}.`,
  ),

  // Consent
  InvalidEndUserClientId: define(
    10020,
    400,
    () => '"endUserClientId" must be the end user\'s client identifier: a non-empty string of at most 240 characters.',
  ),
  UnknownEndUser: define(
    10020,
    400,
    (p: { endUserClientId: string; channelAddressIdentifier: string }) =>
      `"${p.endUserClientId}" is not an end user of channel "${p.channelAddressIdentifier}".`,
  ),
  InvalidConsentStatus: define(
    10021,
    400,
    (p: { allowed: readonly string[]; value: unknown }) => `"consentStatus" must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  ConsentOwnerNotPartner: define(
    10022,
    400,
    (p: { channelAddressIdentifier: string; consentOwner: string }) =>
      `The consent owner of channel "${p.channelAddressIdentifier}" is ${p.consentOwner}, not Partner: its consent cannot be set through this API.`,
  ),

  // Participants, acknowledgements and capabilities
  MissingParticipant: define(
    10039,
    400,
    (p: { where: string }) => `${p.where} must be a participant: an object with appType, subject and role.`,
  ),
  InvalidAppType: define(
    10037,
    400,
    (p: { where: string; allowed: readonly string[]; value: unknown }) =>
      `${p.where}.appType must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  InvalidParticipantRole: define(
    10038,
    400,
    (p: { where: string; allowed: readonly string[]; value: unknown }) =>
      `${p.where}.role must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  InvalidParticipantSubject: define(
    10054,
    400,
    (p: { where: string }) => `${p.where}.subject must name the participant: a non-empty string of at most 255 characters.`,
  ),
  SenderNotInConversation: define(
    10068,
    400,
    (p: { conversationIdentifier: string }) => `The sender is not the end user of conversation "${p.conversationIdentifier}".`,
  ),
  UnknownAcknowledgedEntry: define(
    10089,
    400,
    (p: { where: string; entryId: string }) =>
      `${p.where}.acknowledgedConversationEntryIdentifier "${p.entryId}" is not an entry of the conversation.`,
  ),
  DuplicateEntryId: define(
    10073,
    400,
    (p: { where: string; entryId: string }) => `${p.where}: the id "${p.entryId}" is used twice in this request; give each entry its own.`,
  ),
  InvalidCapabilityMessageType: define(
    10047,
    400,
    (p: { where: string; allowed: readonly string[]; value: unknown }) =>
      `${p.where}.messageType must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  InvalidCustomIntegration: define(
    10050,
    400,
    (p: { where: string; rule: string }) => `${p.where} is not a custom integration the API knows: ${p.rule}.`,
  ),
  EmptyProgressIndicatorCapabilities: define(
    10098,
    400,
    (p: { where: string }) => `${p.where}.progressIndicatorTypeCapabilities must not be empty: give at least one, or leave it out.`,
  ),

  // Conversations, participants and messaging sessions
  InvalidConversationChannel: define(
    10052,
    400,
    () => '"channelAddressIdentifier" must be the channel\'s address identifier: a non-empty string of at most 240 characters.',
  ),
  InvalidConversationParticipants: define(10053, 400, (p: { rule: string }) => `"participants" ${p.rule}.`),
  ConversationNeedsEndUser: define(10042, 400, () => 'The participant establishing a conversation must be its end user (role "EndUser").'),
  InvalidParticipantOperation: define(
    10097,
    400,
    (p: { allowed: readonly string[]; value: unknown }) => `"operation" must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  NotAParticipant: define(
    10036,
    400,
    (p: { role: string; subject: string }) => `No ${p.role} "${p.subject}" takes part in the conversation.`,
  ),
  InvalidSessionOperation: define(
    10102,
    400,
    (p: { allowed: readonly string[]; value: unknown }) => `"operation" must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  InvalidSessionOperationBy: define(
    10103,
    400,
    (p: { allowed: readonly string[]; value: unknown }) => `"operationBy" must be one of ${p.allowed.join(', ')}; got ${shown(p.value)}.`,
  ),
  MissingSessionId: define(10106, 400, () => '"sessionId" is required to inactivate a messaging session.'),
  NoOpenSession: define(
    10071,
    400,
    (p: { conversationIdentifier: string }) => `Conversation "${p.conversationIdentifier}" has no open messaging session.`,
  ),
  SessionIdMismatch: define(10072, 400, (p: { sessionId: string }) => `"${p.sessionId}" is not the conversation's open messaging session.`),
  EndUserNotInConversation: define(
    10105,
    400,
    (p: { endUserClientId: string; conversationIdentifier: string }) =>
      `"${p.endUserClientId}" is not the end user of conversation "${p.conversationIdentifier}" on that channel.`,
  ),

  InvalidEntriesStartTime: define(
    10090,
    400,
    () => '"startTime" is required: the Unix epoch time in milliseconds from which to list entries.',
  ),
  InvalidEntriesEndTime: define(10091, 400, () => '"endTime" must be a Unix epoch time in milliseconds after "startTime".'),
  InvalidEntriesLimit: define(10092, 400, (p: { max: number }) => `"limit" must be a whole number from 1 to ${p.max}.`),

  HistoryEndUserCount: define(10044, 400, () => 'List exactly one end user among "conversationParticipants".'),
  HistoryParticipantRole: define(
    10043,
    400,
    (p: { where: string }) => `${p.where}.participant.role must be EndUser or Chatbot in a conversation history.`,
  ),
  EndUserWithLeftTime: define(
    10065,
    400,
    (p: { where: string }) => `${p.where}: an end user stays in the conversation; leave out leftTime.`,
  ),
  JoinedAfterLeft: define(10067, 400, (p: { where: string }) => `${p.where}.joinedTime must be earlier than its leftTime.`),
  HistoryEntryOutsideParticipation: define(
    10074,
    400,
    (p: { where: string }) => `${p.where}.clientTimestamp must fall while its sender was in the conversation (joinedTime to leftTime).`,
  ),
  SenderNotListed: define(10068, 400, (p: { where: string }) => `${p.where} is not one of "conversationParticipants".`),
  InvalidHistoryPayload: define(10078, 400, (p: { field: string; rule: string }) => `"${p.field}" ${p.rule}.`),
  InvalidSessionStartTime: define(10061, 400, () => '"messagingSession.payload.startTime" must be a Unix epoch time in milliseconds.'),
  UnknownSessionToAttach: define(
    10071,
    400,
    (p: { sessionId: string }) => `"${p.sessionId}" is not the open messaging session of the end user's conversation.`,
  ),

  // The bridge itself
  OrgUnavailable: define(10094, 503, (p: { problem: string }) => `${p.problem}. ${RETRY}`),
  Internal: define(500, 500, () => `An internal error occurred. The request may be retried with the same RequestId.`),
} as const;

export type InteractionErrorName = keyof typeof INTERACTION_ERRORS;

/** The refusal `name`, with its message filled in: `throw apiError('InvalidCapacityWeight', { value })`. */
export function apiError<N extends InteractionErrorName>(
  name: N,
  ...params: Parameters<(typeof INTERACTION_ERRORS)[N]['message']>
): ApiError {
  const definition = INTERACTION_ERRORS[name] as ErrorDefinition<typeof params>;
  return new ApiError(definition.status, definition.code, definition.message(...params));
}
