import { isSalesforceId, toEighteenCharId } from '../contract/salesforce-ids.ts';
import type { NormalizedEvent } from '../contract/outbound-event.ts';
import type { Tx } from '../store/transactions.ts';
import type { LifecycleSink } from './lifecycle-recorder.ts';
import type { LifecycleEventName } from './lifecycle.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** A lifecycle step an outbound event shows, before the conversation's state fills in queue and Ended/Abandoned. */
export interface OutboundLifecycleStep {
  event: LifecycleEventName | 'Closed';
  conversationIdentifier: string;
  queueId: string | null;
  details: Record<string, unknown>;
}

const WORK_TYPE_EVENTS: Record<string, LifecycleEventName | 'Closed'> = {
  Assigned: 'Allocated',
  Accepted: 'Accepted',
  Declined: 'Rejected',
  Cancelled: 'Rejected',
  Transferred: 'Transferred',
  Closed: 'Closed',
};

/**
 * Bridge mode: what the org's outbound events say about a conversation's lifecycle. A RoutingRequested
 * event is Queued (routingType Initial or Conference) or Transferred (Transfer); a RoutingWorkResult entry is
 * Allocated (workType Assigned), Accepted, Rejected (Declined, Cancelled), Transferred, or Closed (decided
 * into Ended or Abandoned by whether the conversation was Accepted). Nothing else raises an event.
 */
export function lifecycleStepOf(event: NormalizedEvent): OutboundLifecycleStep | undefined {
  const payload = isObject(event.payload) ? event.payload : {};
  if (event.eventType === 'RoutingRequested') {
    const conversationIdentifier = event.conversationIdentifier ?? str(payload.conversationIdentifier);
    if (!conversationIdentifier) return undefined;
    const routingType = str(payload.routingType) ?? 'Initial';
    const parameters = isObject(payload.routingParameters) ? payload.routingParameters : {};
    return {
      event: routingType === 'Transfer' ? 'Transferred' : 'Queued',
      conversationIdentifier,
      queueId: eighteen(str(parameters.queueId)),
      details: { routingType, workItemId: str(payload.workRecordId), flowId: str(parameters.flowId) },
    };
  }
  if (event.eventType === 'Interaction' && event.entryType === 'RoutingWorkResult') {
    const step = WORK_TYPE_EVENTS[str(payload.workType) ?? ''];
    const conversationIdentifier = event.conversationIdentifier ?? str(payload.conversationIdentifier);
    if (!step || !conversationIdentifier) return undefined;
    return {
      event: step,
      conversationIdentifier,
      queueId: null,
      details: {
        workId: str(payload.workId),
        workItemId: str(payload.workItemId),
        psrId: str(payload.pendingServiceRoutingId),
        userId: event.sender?.subject ?? null,
      },
    };
  }
  return undefined;
}

/** Queue ids are kept in their 18-character form; the org's events carry 15. */
const eighteen = (id: string | null) => (id && id.length === 15 && isSalesforceId(id) ? toEighteenCharId(id) : id);

/**
 * Records the lifecycle events of outbound events the subscriber just stored, in the same transaction. A
 * step without a queue takes the conversation's last known one. The event id is the key: an outbound event
 * received twice raises its lifecycle event once.
 */
export async function recordOutboundLifecycle(tx: Tx, sink: LifecycleSink, events: NormalizedEvent[]): Promise<void> {
  for (const event of events) {
    const step = lifecycleStepOf(event);
    if (!step) continue;
    const last = await tx
      .selectFrom('lifecycle_events')
      .select(['queue_id', 'end_user_client_identifier'])
      .where('conversation_identifier', '=', step.conversationIdentifier)
      .orderBy('sequence', 'desc')
      .limit(1)
      .executeTakeFirst();
    let name: LifecycleEventName;
    if (step.event === 'Closed') {
      const accepted = await tx
        .selectFrom('lifecycle_events')
        .select('sequence')
        .where('conversation_identifier', '=', step.conversationIdentifier)
        .where('event', '=', 'Accepted')
        .limit(1)
        .executeTakeFirst();
      name = accepted ? 'Ended' : 'Abandoned';
    } else name = step.event;
    const endUser = event.recipient?.role === 'EndUser' ? event.recipient.subject : (last?.end_user_client_identifier ?? null);
    await sink.record(tx, {
      key: `${name}:${event.eventId}`,
      event: name,
      conversationIdentifier: step.conversationIdentifier,
      // The org's events carry no direction; a conversation the bridge sees routed came in through it.
      direction: 'Inbound',
      channelAddressIdentifier: event.channelAddressIdentifier,
      endUserClientIdentifier: endUser,
      queueId: step.queueId ?? last?.queue_id ?? null,
      routingAttributes: {},
      details: step.details,
      occurredAt: event.timestamps.createdDate ?? Date.now(),
    });
  }
}
