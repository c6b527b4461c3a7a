import { randomUUID } from 'node:crypto';
import type { Tx } from '../store/transactions.ts';
import type { OutboundEventWriter } from './outbound-event-log.ts';
import { publishInteraction, type EntryAuthor } from './conversation-events.ts';
import {
  participantChangedEntry,
  queuePositionEntry,
  routingResultEntry,
  sessionStatusChangedEntry,
  type ParticipantOperation,
} from './interaction-entries.ts';
import { toFifteenCharId } from '../contract/salesforce-ids.ts';

/** The work event types of the outbound contract (RoutingWorkType). */
export type RoutingWorkType = 'Assigned' | 'Accepted' | 'Cancelled' | 'Closed' | 'Declined' | 'TransferError' | 'Transferred';

export interface RoutingEventTarget {
  orgId: string;
  channelAddressIdentifier: string;
  conversationIdentifier: string;
  endUserClientIdentifier: string;
}

/** The author of what the org itself says in a conversation (a session opened, a queue position). */
export const systemAuthor = (target: RoutingEventTarget): EntryAuthor => ({
  appType: 'conversation',
  subject: toFifteenCharId(target.orgId),
  role: 'System',
  displayName: 'System',
});

/** An agent user as a participant of a conversation. */
export const agentParticipant = (userId: string) => ({
  appType: 'agent' as const,
  subject: toFifteenCharId(userId),
  role: 'Agent' as const,
});

/** An agent user as the author of a conversation entry. */
export const agentAuthor = (agent: { userId: string; displayName: string }): EntryAuthor => ({
  appType: 'agent',
  subject: toFifteenCharId(agent.userId),
  role: 'Agent',
  displayName: agent.displayName,
});

/**
 * The routing and session events of the local org's outbound log, in the Spring '24 shape and in the
 * transaction of the change that causes them. A Partner-routed channel (its partner routes) gets:
 * - RoutingRequested (event type RoutingRequested) when a conversation needs routing;
 * - a RoutingWorkResult conversation entry (event type Interaction) when agent work changes, its
 *   `workType` being Assigned, Accepted, Declined, Cancelled, Closed, Transferred (the work handed to the
 *   agent who accepted the transfer) or TransferError (a transfer that failed; the agent keeps the work);
 * - a RoutingResult entry when a routing ends: routed or failed (POST /routingResult), cancelled.
 * Every channel gets SessionStatusChanged (a session opened, inactivated, ended), ParticipantChanged (an
 * agent accepting work or leaving it, a transfer, a participant removed) and QueuePosition (the end user's
 * place in its queue, when a routing joins or leaves the queue).
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
    return this.sessionStatusChanged(tx, target, { ...s, status: 'Ended' }, agentAuthor(s.agent));
  }

  /**
   * SessionStatusChanged: the session opened (New, no previous status), was inactivated, or ended (by
   * `author`'s role).
   */
  async sessionStatusChanged(
    tx: Tx,
    target: RoutingEventTarget,
    s: { sessionId: string; status: string; previousStatus: string | null; openedAt: number; endedAt?: number },
    author: EntryAuthor,
  ) {
    const ended = s.status === 'Ended';
    const entry = sessionStatusChangedEntry({
      sessionId: s.sessionId,
      channelAddressIdentifier: target.channelAddressIdentifier,
      conversationIdentifier: target.conversationIdentifier,
      status: s.status,
      previousStatus: s.previousStatus,
      startTime: s.openedAt,
      endTime: ended ? (s.endedAt ?? Date.now()) : null,
      endedByRole: ended ? author.role : null,
    });
    return publishInteraction(tx, this.log, target, entry, author, 'spring24');
  }

  /** ParticipantChanged: who joined or left (a transfer is one entry removing one agent and adding another). */
  async participantsChanged(
    tx: Tx,
    target: RoutingEventTarget,
    changes: { operation: ParticipantOperation; participant: { appType: string; subject: string; role: string }; displayName: string }[],
    author: EntryAuthor,
  ) {
    return publishInteraction(tx, this.log, target, participantChangedEntry(changes), author, 'spring24');
  }

  /** RoutingResult: how a routing of the session ended. */
  async routingResult(tx: Tx, target: RoutingEventTarget, r: Parameters<typeof routingResultEntry>[0]) {
    return publishInteraction(tx, this.log, target, routingResultEntry(r), systemAuthor(target), 'spring24');
  }

  /**
   * QueuePosition for open routings of a queue: the one just queued (`only`), or, when a routing left the
   * queue, each one that was behind it (created after `leftCreatedAt`), whose place moved up.
   */
  async queuePositions(tx: Tx, queueId: string | null, which: { only: string } | { leftCreatedAt: number }) {
    if (!queueId) return;
    const queued = await tx
      .selectFrom('pending_service_routings as p')
      .innerJoin('messaging_sessions as s', 's.session_id', 'p.session_id')
      .innerJoin('conversations as c', 'c.conversation_identifier', 's.conversation_identifier')
      .select([
        'p.psr_id',
        'p.session_id',
        'p.created_at',
        's.org_id',
        'c.channel_address_identifier',
        'c.conversation_identifier',
        'c.end_user_client_identifier',
      ])
      .where('p.queue_id', '=', queueId)
      .where('p.open_key', 'is not', null)
      .orderBy('p.created_at', 'asc')
      .orderBy('p.psr_id', 'asc')
      .execute();
    for (const [index, row] of queued.entries()) {
      const moved = 'only' in which ? row.psr_id === which.only : row.created_at > which.leftCreatedAt;
      if (!moved) continue;
      const target = {
        orgId: row.org_id,
        channelAddressIdentifier: row.channel_address_identifier,
        conversationIdentifier: row.conversation_identifier,
        endUserClientIdentifier: row.end_user_client_identifier,
      };
      const entry = queuePositionEntry(row.psr_id, toFifteenCharId(row.session_id), index + 1);
      await publishInteraction(tx, this.log, target, entry, systemAuthor(target), 'spring24');
    }
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
