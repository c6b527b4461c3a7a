/** The conversation lifecycle events integrations can be triggered by (see docs/integrations.md for what raises each). */
export const LIFECYCLE_EVENTS = [
  'Received',
  'Queued',
  'Allocated',
  'Accepted',
  'Rejected',
  'Transferred',
  'Forwarded',
  'Ended',
  'Abandoned',
] as const;
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

export const DIRECTIONS = ['Inbound', 'Outbound'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** One lifecycle event, as its cause records it (in the cause's transaction). */
export interface LifecycleFact {
  /** Identifies the cause, so a cause seen twice (a redelivered outbound event) records one event. */
  key: string;
  event: LifecycleEventName;
  conversationIdentifier: string;
  direction: Direction;
  channelAddressIdentifier: string | null;
  endUserClientIdentifier: string | null;
  /** The queue the conversation is in (or arrives at); null for a direct conversation. */
  queueId: string | null;
  routingAttributes: Record<string, string>;
  /** Event-specific facts: agent user, work id, PSR id, previous queue, routing type. */
  details: Record<string, unknown>;
  occurredAt: number;
}
