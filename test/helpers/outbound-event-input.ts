import type { OutboundEventInput } from '../../src/local-org/outbound-event-log.ts';
import { LOCAL_ORG } from './bridge-process.ts';

/** An outbound event to write straight into the log in store-level tests; `overrides` change its kind. */
export function outboundEventInput(conversationIdentifier: string, overrides: Partial<OutboundEventInput> = {}): OutboundEventInput {
  return {
    orgId: LOCAL_ORG.orgId,
    eventType: 'Interaction',
    channelAddressIdentifier: 'channel',
    conversationIdentifier,
    recipient: null,
    content: { text: conversationIdentifier },
    shape: 'spring24',
    ...overrides,
  };
}
