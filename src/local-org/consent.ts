import { apiError } from '../contract/interaction-errors.ts';
import type { ConsentRequest, ConsentStatus } from '../contract/consent-request.ts';
import { resolveChannel } from './channels.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import type { Tx } from '../store/transactions.ts';
import type { PayloadShape } from '../contract/outbound-event.ts';
import { publishInteraction } from './conversation-events.ts';
import { endUserConsentUpdatedEntry } from './interaction-entries.ts';
import type { OutboundEventWriter } from './outbound-event-log.ts';

/** Where a consent change is published: the outbound log, in the channel's payload shape. */
export interface ConsentEvents {
  log: OutboundEventWriter;
  shape: PayloadShape;
}

/** What an end user who has contacted a channel has consented to until someone says otherwise. */
export const DEFAULT_CONSENT_STATUS: ConsentStatus = 'ImplicitlyOptedIn';

/**
 * An end user's messaging consent on a channel: the stored status, the default for a known end user
 * without one, or null when the end user has never had a conversation on the channel.
 * The outbound side asks this before sending: an OptedOut end user gets no new message.
 */
export async function consentStatusOf(
  db: Db | Tx,
  channelAddressIdentifier: string,
  endUserClientIdentifier: string,
): Promise<ConsentStatus | null> {
  const stored = await db
    .selectFrom('end_user_consents')
    .select('consent_status')
    .where('channel_address_identifier', '=', channelAddressIdentifier)
    .where('end_user_client_identifier', '=', endUserClientIdentifier)
    .executeTakeFirst();
  if (stored) return stored.consent_status as ConsentStatus;
  const known = await db
    .selectFrom('conversations')
    .select('conversation_identifier')
    .where('channel_address_identifier', '=', channelAddressIdentifier)
    .where('end_user_client_identifier', '=', endUserClientIdentifier)
    .executeTakeFirst();
  return known ? DEFAULT_CONSENT_STATUS : null;
}

/**
 * `PATCH /consent` in the local org: only a channel whose consent owner is Partner takes consent from the
 * partner. The change is published (EndUserConsentUpdated, in the end user's conversation, same
 * transaction) so every consumer of the channel learns it.
 */
export async function updateConsent(tx: Tx, call: CrmCall, request: ConsentRequest, events: ConsentEvents): Promise<CrmResponse> {
  const channel = await resolveChannel(tx, call, request.channelAddressIdentifier);
  if (channel.consent_owner !== 'Partner') {
    throw apiError('ConsentOwnerNotPartner', {
      channelAddressIdentifier: request.channelAddressIdentifier,
      consentOwner: channel.consent_owner,
    });
  }
  if ((await consentStatusOf(tx, request.channelAddressIdentifier, request.endUserClientId)) === null) {
    throw apiError('UnknownEndUser', {
      endUserClientId: request.endUserClientId,
      channelAddressIdentifier: request.channelAddressIdentifier,
    });
  }
  const now = Date.now();
  await tx
    .insertInto('end_user_consents')
    .values({
      channel_address_identifier: request.channelAddressIdentifier,
      end_user_client_identifier: request.endUserClientId,
      consent_status: request.consentStatus,
      request_id: call.requestId,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .columns(['channel_address_identifier', 'end_user_client_identifier'])
        .doUpdateSet({ consent_status: request.consentStatus, request_id: call.requestId, updated_at: now }),
    )
    .execute();
  const conversation = await tx
    .selectFrom('conversations')
    .select(['conversation_identifier', 'org_id'])
    .where('channel_address_identifier', '=', request.channelAddressIdentifier)
    .where('end_user_client_identifier', '=', request.endUserClientId)
    .executeTakeFirst();
  if (conversation) {
    await publishInteraction(
      tx,
      events.log,
      {
        orgId: conversation.org_id,
        channelAddressIdentifier: request.channelAddressIdentifier,
        conversationIdentifier: conversation.conversation_identifier,
        endUserClientIdentifier: request.endUserClientId,
      },
      endUserConsentUpdatedEntry(request.endUserClientId, request.consentStatus === 'OptedOut', true),
      { appType: 'conversation', subject: request.channelAddressIdentifier, role: 'System', displayName: 'System' },
      events.shape,
    );
  }
  return { status: 200, body: { success: true } };
}
