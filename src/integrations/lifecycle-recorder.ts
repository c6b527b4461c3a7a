import { randomUUID } from 'node:crypto';
import { afterCommit, type Tx } from '../store/transactions.ts';
import type { Wakeup } from '../util/wakeup.ts';
import type { ConversationValues } from './conversation-values.ts';
import type { LifecycleFact } from './lifecycle.ts';

/** What a cause (the local org's routing, or the bridge's received outbound events) hands its lifecycle events to. */
export interface LifecycleSink {
  record(tx: Tx, fact: LifecycleFact): Promise<void>;
}

/**
 * Stores a lifecycle event in its cause's transaction, and with it one pending call per integration it
 * matches (event ticked, direction, direct conversation or listed queue). So an event committed is called
 * once per matching integration, whatever happens to this process afterwards. Once the cause commits,
 * `callsAdded` wakes the dispatcher (which could not see the calls before).
 */
export class LifecycleRecorder implements LifecycleSink {
  constructor(
    private readonly values: ConversationValues,
    private readonly callsAdded: Wakeup,
  ) {}

  async record(tx: Tx, fact: LifecycleFact): Promise<void> {
    const steering = await this.values.steering(tx, fact.conversationIdentifier);
    // The routing attributes integrations set count too; those the conversation's routing carries win.
    const routingAttributes = { ...steering.routingAttributes, ...fact.routingAttributes };
    const now = Date.now();
    const inserted = await tx
      .insertInto('lifecycle_events')
      .values({
        event_key: fact.key,
        event: fact.event,
        conversation_identifier: fact.conversationIdentifier,
        direction: fact.direction,
        channel_address_identifier: fact.channelAddressIdentifier,
        end_user_client_identifier: fact.endUserClientIdentifier,
        queue_id: fact.queueId,
        routing_attributes: JSON.stringify(routingAttributes),
        details: JSON.stringify(fact.details),
        occurred_at: fact.occurredAt,
      })
      .onConflict((oc) => oc.column('event_key').doNothing())
      .returning('sequence')
      .executeTakeFirst();
    if (!inserted) return;
    const integrations = await tx
      .selectFrom('integrations')
      .select(['integration_id', 'direction', 'events', 'direct_conversations', 'queue_ids'])
      .execute();
    const matching = integrations.filter(
      (i) =>
        (JSON.parse(i.events) as string[]).includes(fact.event) &&
        (i.direction === 'Both' || i.direction === fact.direction) &&
        (fact.queueId === null ? i.direct_conversations === 1 : (JSON.parse(i.queue_ids) as string[]).includes(fact.queueId)),
    );
    if (matching.length === 0) return;
    afterCommit(tx, () => this.callsAdded.notify());
    await tx
      .insertInto('integration_calls')
      .values(
        matching.map((i) => ({
          call_id: `call_${randomUUID()}`,
          integration_id: i.integration_id,
          event_sequence: inserted.sequence,
          conversation_identifier: fact.conversationIdentifier,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  }
}
