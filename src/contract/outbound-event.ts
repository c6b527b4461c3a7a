// The outbound event contract: the custom platform event a CRM publishes (its two payload shapes and its
// fields by role) and the normalized event partners receive (schemas/normalized-event.schema.json).
// The local org publishes to it and the outbound side consumes it; neither knows the other.

/**
 * The payload layouts of the CRM's custom platform event: `legacy` (entry alone in the payload field),
 * `spring24` (an InteractionEvent: envelope with the entry nested under `payload`) and `spring24-flat`
 * (the same envelope with the entry's fields beside it, as in Salesforce's README text example).
 */
export const PAYLOAD_SHAPES = ['legacy', 'spring24', 'spring24-flat'] as const;
export type PayloadShape = (typeof PAYLOAD_SHAPES)[number];

/** The field API names of the custom platform event, by role (SF_PUB_SUB_CUSTOM_EVENT_*_FIELD). */
export interface CustomEventFieldNames {
  channelAddressId: string;
  payload: string;
  recipient: string;
  eventType: string;
}

/**
 * The field values of one custom platform event, by role; a field a shape does not use is null.
 * Legacy: channel address id and recipient in their own fields, the entry alone in the payload field, no
 * event type. Spring '24 (both variants): everything in the payload field plus the event type field.
 */
export interface CustomEventFields {
  channelAddressId: string | null;
  payload: string;
  recipient: string | null;
  eventType: string | null;
}

export interface Participant {
  appType?: string;
  subject: string;
  role?: string;
  [key: string]: unknown;
}

/** One event for partners, whatever shape the org sent it in (see schemas/normalized-event.schema.json). */
export interface NormalizedEvent {
  eventId: string;
  /** Interaction, RoutingRequested, ... */
  eventType: string;
  /** Message, TypingStartedIndicator, ... for Interaction events; null otherwise. */
  entryType: string | null;
  entryId: string | null;
  channelAddressIdentifier: string;
  conversationIdentifier: string | null;
  recipient: Participant | null;
  sender: Participant | null;
  senderDisplayName: string | null;
  /** The entry payload as sent for Interaction events; the event's content for the other types. */
  payload: unknown;
  timestamps: { createdDate: number | null; transcriptedTimestamp: number | null; clientTimestamp: number | null };
  replayId: number;
  topicName: string;
  shape: PayloadShape;
}
