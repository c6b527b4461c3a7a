import type { Generated } from 'kysely';

/** Row shapes of every table. Times are epoch milliseconds; JSON is stored as text. */
export interface OrgTable {
  org_id: string;
  name: string;
  created_at: number;
}

export interface ConnectedAppTable {
  consumer_key: string;
  org_id: string;
  certificate_pem: string;
  scopes: string;
  active: number;
  created_at: number;
}

export interface UserTable {
  user_id: string;
  org_id: string;
  username: string;
  display_name: string;
  /** 1 for the seeded agent users that agent work can be assigned to. */
  is_agent: Generated<number>;
  created_at: number;
}

export interface ChannelTable {
  channel_address_identifier: string;
  org_id: string;
  authorization_context: string;
  channel_type: string;
  routing_owner: string;
  consent_owner: string;
  active: number;
  created_at: number;
  /** What "route by the channel's configuration" uses: a queue, or a flow with this queue as fallback. */
  routing_queue_id: string | null;
  routing_flow_id: string | null;
  /** Longest value a routing attribute (channel variable) may have. */
  routing_attribute_max_length: Generated<number>;
}

export interface AccessTokenTable {
  token_hash: string;
  org_id: string;
  user_id: string;
  consumer_key: string;
  scope: string;
  issued_at: number;
  expires_at: number;
}

export interface ConversationTable {
  conversation_identifier: string;
  org_id: string;
  channel_address_identifier: string;
  end_user_client_identifier: string;
  created_at: number;
  /** JSON of the routing attributes POST /conversation established the conversation with. */
  routing_attributes: string | null;
}

export interface ConversationEntryTable {
  sequence: Generated<number>;
  conversation_identifier: string;
  entry_id: string;
  entry_type: string;
  sender_role: string;
  sender_subject: string;
  client_timestamp: number | null;
  payload: string;
  routing_attributes: string | null;
  request_id: string | null;
  created_at: number;
}

export interface IdempotencyTable {
  idempotency_key: string;
  request_id: string;
  operation: string;
  status_code: number | null;
  response_body: string | null;
  created_at: number;
  expires_at: number;
}

export interface OutboundEventTable {
  sequence: Generated<number>;
  event_uuid: string;
  org_id: string;
  event_type: string;
  channel_address_identifier: string;
  conversation_identifier: string | null;
  shape: string;
  /** JSON of CustomEventFields: the custom platform event's field values, by role. */
  fields: string;
  created_at: number;
}

export interface QueueTable {
  queue_id: string;
  org_id: string;
  developer_name: string;
  created_at: number;
}

export interface FlowTable {
  flow_id: string;
  org_id: string;
  api_name: string;
  created_at: number;
}

/** The work item: one per stretch of a conversation that is handled, from first message to end. */
export interface MessagingSessionTable {
  session_id: string;
  org_id: string;
  conversation_identifier: string;
  /** New, Waiting, Active or Ended. */
  status: string;
  /** The conversation identifier while the session is open, NULL once ended: one open session per conversation. */
  open_key: string | null;
  opened_at: number;
  updated_at: number;
  ended_at: number | null;
}

export interface PendingServiceRoutingTable {
  psr_id: string;
  session_id: string;
  routing_type: string;
  /** Flow, Queue or ChannelConfiguration: which form of the route request created it. */
  routing_method: string;
  queue_id: string | null;
  flow_id: string | null;
  routing_attributes: string | null;
  routing_correlation_id: string;
  /** Open, Assigned, Routed, Failed, Cancelled or Replaced. */
  status: string;
  /** The session id while Open, NULL once closed: one open routing per session. */
  open_key: string | null;
  cancel_reason: string | null;
  request_id: string | null;
  created_at: number;
  closed_at: number | null;
}

export interface AgentWorkTable {
  work_id: string;
  session_id: string;
  user_id: string;
  psr_id: string | null;
  /** Assigned, Opened, Closed, Declined or Canceled. */
  status: string;
  /** `user_id session_id` while the work is active, NULL after: one active work per user and work item. */
  active_key: string | null;
  /** Decimal text: the API takes doubles and the store keeps only portable column types. */
  capacity_percentage: string | null;
  capacity_weight: string | null;
  routing_type: string;
  routing_correlation_id: string;
  request_id: string | null;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
}

export interface RoutingResultTable {
  result_id: string;
  session_id: string;
  psr_id: string | null;
  routing_type: string;
  success: number;
  externally_routed: number;
  error_message: string | null;
  request_id: string | null;
  created_at: number;
}

export interface EndUserConsentTable {
  channel_address_identifier: string;
  end_user_client_identifier: string;
  /** OptedOut, ImplicitlyOptedIn, ExplicitlyOptedIn or DoublyOptedIn. */
  consent_status: string;
  request_id: string | null;
  updated_at: number;
}

export interface AttachmentTable {
  attachment_id: string;
  org_id: string;
  conversation_identifier: string;
  entry_id: string;
  attachment_index: number;
  file_name: string;
  mime_type: string;
  size: number;
  sha256: string;
  bucket: string;
  object_key: string;
  created_at: number;
}

export interface SubscriberCheckpointTable {
  topic_name: string;
  /** The replay id of the last event whose normalized form (or parking) is committed. */
  replay_id: number;
  updated_at: number;
}

export interface NormalizedEventTable {
  sequence: Generated<number>;
  event_id: string;
  topic_name: string;
  replay_id: number;
  event_type: string;
  channel_address_identifier: string;
  /** Events with the same key are delivered in order: the conversation, or channel + recipient when the event names none. */
  ordering_key: string;
  /** JSON of NormalizedEvent. */
  body: string;
  received_at: number;
}

export interface ParkedEventTable {
  sequence: Generated<number>;
  topic_name: string;
  replay_id: number;
  event_id: string | null;
  reason: string;
  /** JSON of the decoded field values as received. */
  raw: string;
  parked_at: number;
}

export interface WebhookEndpointTable {
  endpoint_id: string;
  url: string;
  secret: string;
  /** JSON array of event types, or null for every type. */
  event_types: string | null;
  channel_address_identifier: string | null;
  description: string | null;
  created_at: number;
}

export interface WebhookDeliveryTable {
  delivery_id: string;
  event_sequence: number;
  event_id: string;
  endpoint_id: string;
  ordering_key: string;
  /** pending | succeeded | dead */
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
  /** The process sending it now, until lease_until: another replica leaves it (and its conversation) alone meanwhile. */
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
}

export interface IntegrationTable {
  integration_id: string;
  name: string;
  description: string | null;
  /** The endpoint URL template (placeholders unresolved). */
  url: string;
  /** Inbound | Outbound | Both */
  direction: string;
  /** JSON array of lifecycle event names; empty = disabled. */
  events: string;
  direct_conversations: number;
  /** JSON array of queue ids (18 characters). */
  queue_ids: string;
  /** JSON of {request, response}. */
  configuration: string;
  created_at: number;
  updated_at: number;
}

export interface IntegrationAuthenticationTable {
  integration_id: string;
  /** basic:<user>, digest:<user> or a chosen name for a header value. */
  auth_id: string;
  /** Write-only: never returned by the API nor logged. */
  secret: string;
}

export interface LifecycleEventTable {
  sequence: Generated<number>;
  /** What raised it, so one cause records one event even when seen twice. */
  event_key: string;
  /** Received | Queued | Allocated | Accepted | Rejected | Transferred | Forwarded | Ended | Abandoned */
  event: string;
  conversation_identifier: string;
  /** Inbound | Outbound */
  direction: string;
  channel_address_identifier: string | null;
  end_user_client_identifier: string | null;
  /** null: a direct conversation (no queue). */
  queue_id: string | null;
  /** JSON string map. */
  routing_attributes: string;
  /** JSON of event-specific facts (agent, work, PSR, previous queue). */
  details: string;
  occurred_at: number;
}

export interface IntegrationCallTable {
  call_id: string;
  integration_id: string;
  event_sequence: number;
  conversation_identifier: string;
  /** pending | succeeded | failed */
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface IntegrationCallAttemptTable {
  sequence: Generated<number>;
  call_id: string;
  /** JSON of the request as sent, with every secret replaced by a marker. */
  request: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  response_excerpt: string | null;
  started_at: number;
}

export interface ConversationIntegrationValueTable {
  conversation_identifier: string;
  /** routingAttribute | agentData | routing | saved */
  scope: string;
  name: string;
  /** JSON of the value. */
  value: string;
  integration_id: string;
  updated_at: number;
}

/** A channel definition's structured-content capabilities, as last registered through PATCH /capabilities. */
export interface ChannelCapabilitiesTable {
  org_id: string;
  authorization_context: string;
  app_type: string;
  /** JSON of the request's channelCapabilities. */
  capabilities: string;
  request_id: string | null;
  updated_at: number;
}

/** A delivery or read receipt on a conversation entry, from POST /acknowledgement. */
export interface EntryAcknowledgementTable {
  conversation_identifier: string;
  acknowledgement_entry_id: string;
  acknowledged_entry_id: string;
  acknowledgement_type: string;
  acknowledged_at: number;
  sender_role: string;
  sender_subject: string;
  request_id: string | null;
  created_at: number;
}

/** Who takes part in a conversation, from when until when (left_at null: still in it). */
export interface ConversationParticipantTable {
  conversation_identifier: string;
  role: string;
  subject: string;
  app_type: string;
  joined_at: number;
  left_at: number | null;
  request_id: string | null;
}

export interface Tables {
  orgs: OrgTable;
  connected_apps: ConnectedAppTable;
  users: UserTable;
  channels: ChannelTable;
  access_tokens: AccessTokenTable;
  conversations: ConversationTable;
  conversation_entries: ConversationEntryTable;
  idempotency_keys: IdempotencyTable;
  outbound_events: OutboundEventTable;
  queues: QueueTable;
  flows: FlowTable;
  messaging_sessions: MessagingSessionTable;
  pending_service_routings: PendingServiceRoutingTable;
  agent_work: AgentWorkTable;
  routing_results: RoutingResultTable;
  end_user_consents: EndUserConsentTable;
  attachments: AttachmentTable;
  subscriber_checkpoints: SubscriberCheckpointTable;
  normalized_events: NormalizedEventTable;
  parked_events: ParkedEventTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  integrations: IntegrationTable;
  integration_authentications: IntegrationAuthenticationTable;
  lifecycle_events: LifecycleEventTable;
  integration_calls: IntegrationCallTable;
  integration_call_attempts: IntegrationCallAttemptTable;
  conversation_integration_values: ConversationIntegrationValueTable;
  channel_capabilities: ChannelCapabilitiesTable;
  entry_acknowledgements: EntryAcknowledgementTable;
  conversation_participants: ConversationParticipantTable;
}
