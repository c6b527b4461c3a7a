import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import { preparedQuery } from '../store/prepared-query.ts';
import type { Tx } from '../store/transactions.ts';

/** The channel a request addresses, checked against the caller's org (10017), its state (10031) and AuthorizationContext (10001). */
export async function resolveChannel(tx: Tx, call: CrmCall, channelAddressIdentifier: string) {
  const [channel] = (await channelOfOrg(tx, channelAddressIdentifier, call.orgId)).rows;
  if (!channel) {
    throw apiError('UnknownChannel', { channelAddressIdentifier });
  }
  if (!channel.active) {
    throw apiError('InactiveChannel', { channelAddressIdentifier });
  }
  checkChannelContext(call, channel);
  return channel;
}

// Every inbound message reads its channel: built once.
const channelOfOrg = preparedQuery((db, channelAddressIdentifier: string, orgId: string) =>
  db.selectFrom('channels').selectAll().where('channel_address_identifier', '=', channelAddressIdentifier).where('org_id', '=', orgId),
);

/** A channel configured with another AuthorizationContext, and anything on it, is not the caller's to touch (10001). */
export function checkChannelContext(call: CrmCall, channel: { authorization_context: string; channel_address_identifier: string }) {
  if (channel.authorization_context !== call.authorizationContext) {
    throw apiError('ContextNotValidForChannel', {
      authorizationContext: call.authorizationContext,
      channelAddressIdentifier: channel.channel_address_identifier,
    });
  }
}

/** A messaging channel of the local org as configured (`.env` for the seeded one, the management API for more). */
export interface ChannelSettings {
  channelAddressIdentifier: string;
  authorizationContext: string;
  routingOwner: string;
  consentOwner: string;
  active: boolean;
  routingQueueId: string | null;
  routingFlowId: string | null;
  routingAttributeMaxLength: number;
}

/**
 * Adds a Custom messaging channel to the org. An existing channel with that address identifier is left as
 * it is (answer false), unless `replaceSettings` (the seed at start, so `.env` changes take effect), which
 * gives it these settings but keeps whether it is active, since that is switched through the management API.
 */
export async function insertChannel(
  db: Db | Tx,
  orgId: string,
  c: ChannelSettings,
  options: { replaceSettings: boolean },
): Promise<boolean> {
  const settings = {
    org_id: orgId,
    authorization_context: c.authorizationContext,
    routing_owner: c.routingOwner,
    consent_owner: c.consentOwner,
    routing_queue_id: c.routingQueueId,
    routing_flow_id: c.routingFlowId,
    routing_attribute_max_length: c.routingAttributeMaxLength,
  };
  const inserted = await db
    .insertInto('channels')
    .values({
      ...settings,
      channel_address_identifier: c.channelAddressIdentifier,
      channel_type: 'Custom',
      active: c.active ? 1 : 0,
      created_at: Date.now(),
    })
    .onConflict((oc) =>
      options.replaceSettings
        ? oc.column('channel_address_identifier').doUpdateSet(settings)
        : oc.column('channel_address_identifier').doNothing(),
    )
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
}
