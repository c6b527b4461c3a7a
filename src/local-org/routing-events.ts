import { randomUUID } from 'node:crypto';
import type { Tx } from '../store/transactions.ts';
import type { OutboundEventWriter } from './outbound-event-log.ts';
import { publishInteraction } from './conversation-events.ts';
import { sessionStatusChangedEntry } from './interaction-entries.ts';
import { toFifteenCharId } from '../contract/salesforce-ids.ts';

/** The work event types of the outbound contract (RoutingWorkType). */
export type RoutingWorkType = 'Assigned' | 'Accepted' | 'Cancelled' | 'Closed' | 'Declined' | 'TransferError' | 'Transferred';

export interface RoutingEventTarget {
  orgId: string;
  channelAddressIdentifier: string;
  conversationIdentifier: string;
  endUserClientIdentifier: string;
}

/**
 * The routing events a Partner-routed channel gets in the local org's outbound log, in the Spring '24
 * shape and in the transaction of the change that causes them:
 * - RoutingRequested (event type RoutingRequested) when a conversation needs routing;
 * - a RoutingWorkResult conversation entry (event type Interaction) when agent work changes, its
 *   `workType` being Assigned, Accepted, Declined, Cancelled or Closed.
 */
export class RoutingEvents {
  constructor(private readonly log: OutboundEventWriter) {}

  async routingRequested(
    tx: Tx,
    target: RoutingEventTarget,
    r: { routingType: string; routingCorrelationId: string; sessionId: string; queueId: string | null; flowId: string | null },
  ) {
    const channelData = {
      eventId: r.routingCorrelationId,
      routerParticipantSubject: target.channelAddressIdentifier,
      routingType: r.routingType,
      conversationId: target.conversationIdentifier,
    };
    return this.append(tx, target, 'RoutingRequested', {
      conversationIdentifier: target.conversationIdentifier,
      routingParameters: {
        queueId: r.queueId && toFifteenCharId(r.queueId),
        channelData: JSON.stringify(channelData),
        isTransfer: r.routingType === 'Transfer',
        routingConfigId: null,
        userId: null,
        isFallbackOnPsrNotCreated: null,
        serviceChannelId: null,
        isEstimatedWaitTimeRequested: null,
        skillsList: [],
        botId: null,
        flowId: r.flowId && toFifteenCharId(r.flowId),
        isScrt2: true,
        isUserRequired: null,
      },
      routingType: r.routingType,
      workRecordId: toFifteenCharId(r.sessionId),
    });
  }

  async workChanged(
    tx: Tx,
    target: RoutingEventTarget,
    w: {
      workType: RoutingWorkType;
      workId: string;
      sessionId: string;
      userId: string;
      agentName: string;
      psrId: string | null;
      routingType: string;
      routingCorrelationId: string;
    },
  ) {
    const identifier = randomUUID();
    const now = Date.now();
    return this.append(tx, target, 'Interaction', {
      senderDisplayName: w.agentName,
      identifier,
      entryType: 'RoutingWorkResult',
      entryPayload: {
        entryType: 'RoutingWorkResult',
        id: identifier,
        workType: w.workType,
        workId: w.workId,
        workItemId: toFifteenCharId(w.sessionId),
        pendingServiceRoutingId: w.psrId,
        routingType: w.routingType,
        routingCorrelationId: w.routingCorrelationId,
        conversationIdentifier: target.conversationIdentifier,
      },
      sender: { appType: 'agent', subject: toFifteenCharId(w.userId), role: 'Agent' },
      transcriptedTimestamp: now,
      clientTimestamp: now,
      clientDuration: 0,
    });
  }

  /** SessionStatusChanged (Ended) when closing an agent's work ends the messaging session, on every channel. */
  async sessionEnded(
    tx: Tx,
    target: RoutingEventTarget,
    s: { sessionId: string; previousStatus: string; openedAt: number; endedAt: number; agent: { userId: string; displayName: string } },
  ) {
    const entry = sessionStatusChangedEntry({
      sessionId: s.sessionId,
      channelAddressIdentifier: target.channelAddressIdentifier,
      conversationIdentifier: target.conversationIdentifier,
      status: 'Ended',
      previousStatus: s.previousStatus,
      startTime: s.openedAt,
      endTime: s.endedAt,
      endedByRole: 'Agent',
    });
    const author = { appType: 'agent', subject: toFifteenCharId(s.agent.userId), role: 'Agent', displayName: s.agent.displayName };
    return publishInteraction(tx, this.log, target, entry, author, 'spring24');
  }

  /** Spring '24 shape, content nested under `payload`, addressed to the conversation's end user. */
  private append(tx: Tx, target: RoutingEventTarget, eventType: string, content: Record<string, unknown>) {
    return this.log.append(tx, {
      orgId: target.orgId,
      eventType,
      channelAddressIdentifier: target.channelAddressIdentifier,
      conversationIdentifier: target.conversationIdentifier,
      recipient: { appType: 'custom', subject: target.endUserClientIdentifier, role: 'EndUser' },
      shape: 'spring24',
      content,
    });
  }
}
