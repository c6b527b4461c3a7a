import type { LifecycleEventName } from '../integrations/lifecycle.ts';
import type { LifecycleSink } from '../integrations/lifecycle-recorder.ts';
import type { Tx } from '../store/transactions.ts';

/**
 * The local org's conversation lifecycle, told to the integrations in the transaction of the routing change
 * that causes it. Each call names its cause's record (session, PSR, work) as the event's key. The queue is
 * that of the session's latest routing, or the channel's configured queue before any routing; the routing
 * attributes are the latest routing's. Every local conversation is Inbound: the end user's message opens it.
 */
export class LocalOrgLifecycle {
  constructor(private readonly sink: LifecycleSink | undefined) {}

  async raise(
    tx: Tx,
    r: { event: LifecycleEventName; cause: string; conversationIdentifier: string; sessionId: string; details?: Record<string, unknown> },
  ): Promise<void> {
    if (!this.sink) return;
    const conversation = await tx
      .selectFrom('conversations as c')
      .innerJoin('channels as ch', 'ch.channel_address_identifier', 'c.channel_address_identifier')
      .select(['c.channel_address_identifier', 'c.end_user_client_identifier', 'ch.routing_queue_id'])
      .where('c.conversation_identifier', '=', r.conversationIdentifier)
      .executeTakeFirstOrThrow();
    const routing = await tx
      .selectFrom('pending_service_routings')
      .select(['queue_id', 'routing_attributes'])
      .where('session_id', '=', r.sessionId)
      .orderBy('created_at', 'desc')
      .orderBy('psr_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    await this.sink.record(tx, {
      key: `${r.event}:${r.cause}`,
      event: r.event,
      conversationIdentifier: r.conversationIdentifier,
      direction: 'Inbound',
      channelAddressIdentifier: conversation.channel_address_identifier,
      endUserClientIdentifier: conversation.end_user_client_identifier,
      queueId: routing?.queue_id ?? conversation.routing_queue_id,
      routingAttributes: routing?.routing_attributes ? (JSON.parse(routing.routing_attributes) as Record<string, string>) : {},
      details: { workItemId: r.sessionId.slice(0, 15), ...r.details },
      occurredAt: Date.now(),
    });
  }

  /** Whether an agent accepted work on the conversation since the session opened (Ended rather than Abandoned). */
  async wasConnected(tx: Tx, conversationIdentifier: string, sessionOpenedAt: number): Promise<boolean> {
    const accepted = await tx
      .selectFrom('lifecycle_events')
      .select('sequence')
      .where('conversation_identifier', '=', conversationIdentifier)
      .where('event', '=', 'Accepted')
      .where('occurred_at', '>=', sessionOpenedAt)
      .limit(1)
      .executeTakeFirst();
    return Boolean(accepted);
  }
}
