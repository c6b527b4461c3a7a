import type { InteractionEntry } from './conversation-events.ts';
import type { Participant } from './outbound-event-log.ts';

// One builder per entry type of the outbound catalog: each returns the entry publishInteraction()
// publishes. Callers (the agent, consent, sessions, and operations added later) build here and publish
// there, so an entry type's layout is written once.

/**
 * A message in any format of the contract: the abstractMessage as given, its id the entry's. A field
 * the contract types as a value (messageReason) is left out rather than sent as null.
 */
export function messageEntry(id: string, abstractMessage: Record<string, unknown>): InteractionEntry {
  return { id, entryType: 'Message', fields: { abstractMessage: { ...abstractMessage, id } } };
}

export function typingEntry(state: 'started' | 'stopped'): InteractionEntry {
  return { entryType: state === 'started' ? 'TypingStartedIndicator' : 'TypingStoppedIndicator', fields: { timestamp: Date.now() } };
}

/** The agent side acknowledging an end user's entry: delivered to, or read by, `by`. */
export function acknowledgementEntry(
  kind: 'DeliveryAcknowledgement' | 'ReadAcknowledgement',
  acknowledgedEntryId: string,
  by: Participant,
): InteractionEntry {
  return {
    entryType: kind,
    fields: { recipient: by, acknowledgedConversationEntryIdentifier: acknowledgedEntryId, acknowledgementTimestamp: Date.now() },
  };
}

export function sessionStatusChangedEntry(s: {
  sessionId: string;
  channelAddressIdentifier: string;
  conversationIdentifier: string;
  status: string;
  /** Null for a session just opened: it had no status before. */
  previousStatus: string | null;
  startTime: number;
  endTime: number | null;
  endedByRole: string | null;
}): InteractionEntry {
  return {
    entryType: 'SessionStatusChanged',
    fields: {
      sessionId: s.sessionId,
      channelAddressIdentifier: s.channelAddressIdentifier,
      conversationIdentifier: s.conversationIdentifier,
      sessionStatus: s.status,
      ...(s.previousStatus === null ? {} : { sessionStatusPrev: s.previousStatus }),
      sessionStartTime: s.startTime,
      ...(s.endTime === null ? {} : { sessionEndTime: s.endTime }),
      ...(s.endedByRole === null ? {} : { sessionEndedByRole: s.endedByRole }),
    },
  };
}

export type ParticipantOperation = 'add' | 'remove' | 'update';

/** An agent or bot joining, leaving or being replaced (a transfer is a remove and an add). */
export function participantChangedEntry(
  changes: { operation: ParticipantOperation; participant: Participant; displayName: string }[],
): InteractionEntry {
  return {
    entryType: 'ParticipantChanged',
    fields: { entries: changes, participant: changes[0]?.participant },
  };
}

/** The contract's two consent states: everything but an opt-out still lets messages through. */
export function endUserConsentUpdatedEntry(endUserSubject: string, optedOut: boolean, isEndUserInitiated: boolean): InteractionEntry {
  return {
    entryType: 'EndUserConsentUpdated',
    fields: { endUserSubject, consentStatus: optedOut ? 'OptOut' : 'OptIn', isEndUserInitiated },
  };
}

/** An agent entry the end user's channel could not take. */
export function messageDeliveryFailedEntry(
  failedEntryId: string,
  recipient: Participant,
  errorCode: string,
  errorMessage?: string,
): InteractionEntry {
  return {
    entryType: 'MessageDeliveryFailed',
    fields: { failedConversationEntryIdentifier: failedEntryId, recipient, errorCode, ...(errorMessage ? { errorMessage } : {}) },
  };
}

/** A new version of an earlier message (the message keeps its id). */
export function messageUpdatedEntry(messageId: string, abstractMessage: Record<string, unknown>): InteractionEntry {
  return { entryType: 'MessageUpdated', fields: { updatedMessage: { ...abstractMessage, id: messageId } } };
}

/** "Still working on it": the one progress indicator type of the contract. */
export function progressIndicatorEntry(): InteractionEntry {
  return {
    entryType: 'ProgressIndicator',
    fields: { progressIndicator: { indicatorType: 'ProgressUpdateIndicator', timestamp: Date.now() } },
  };
}

export function queuePositionEntry(pendingServiceRoutingId: string, workItemId: string, position: number): InteractionEntry {
  return { entryType: 'QueuePosition', fields: { pendingServiceRoutingId, workItemId, position } };
}

/** How a routing ended (the contract's RoutingFailureType): None for a success. */
export type RoutingFailureType = 'None' | 'Unknown' | 'SubmissionError' | 'RoutingError' | 'Cancelled';

/** The result of a conversation's routing: routed (None), failed, or cancelled. */
export function routingResultEntry(r: {
  routingType: string;
  failureType: RoutingFailureType;
  errorMessages: string[];
  pendingServiceRoutingId: string | null;
  recordId: string;
  isExternallyRouted: boolean;
  cancelReason?: string;
}): InteractionEntry {
  return {
    entryType: 'RoutingResult',
    fields: {
      routingType: r.routingType,
      failureType: r.failureType,
      errorMessages: r.errorMessages,
      recordId: r.recordId,
      isExternallyRouted: r.isExternallyRouted,
      ...(r.pendingServiceRoutingId ? { pendingServiceRoutingId: r.pendingServiceRoutingId } : {}),
      ...(r.cancelReason ? { cancelReason: r.cancelReason } : {}),
    },
  };
}
