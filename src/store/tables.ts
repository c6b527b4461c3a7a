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
  /** JSON of OutboundEventFields: the custom platform event's field values, by role. */
  fields: string;
  created_at: number;
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
  attachments: AttachmentTable;
}
