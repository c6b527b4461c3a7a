import { badRequest, forbidden } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import type { CrmCall } from '../crm/crm-port.ts';
import type { Tx } from '../store/transactions.ts';

/** The channel a request addresses, checked against the caller's org (10017), its state (10031) and AuthorizationContext (10001). */
export async function resolveChannel(tx: Tx, call: CrmCall, channelAddressIdentifier: string) {
  const channel = await tx
    .selectFrom('channels')
    .selectAll()
    .where('channel_address_identifier', '=', channelAddressIdentifier)
    .where('org_id', '=', call.orgId)
    .executeTakeFirst();
  if (!channel) {
    throw badRequest(
      ErrorCode.UnknownChannel,
      `No messaging channel has the address identifier "${channelAddressIdentifier}" in this org.`,
    );
  }
  if (!channel.active) {
    throw badRequest(ErrorCode.InactiveChannel, `The messaging channel "${channelAddressIdentifier}" is not active.`);
  }
  if (channel.authorization_context !== call.authorizationContext) {
    throw forbidden(
      ErrorCode.ContextNotValidForChannel,
      `AuthorizationContext "${call.authorizationContext}" is not the one configured for channel "${channelAddressIdentifier}".`,
    );
  }
  return channel;
}
