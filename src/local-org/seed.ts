import type { Config } from '../config.ts';
import type { Db } from '../store/database.ts';

export interface SeededOrg {
  orgId: string;
  userId: string;
  username: string;
  consumerKey: string;
  channelAddressIdentifier: string;
  authorizationContext: string;
  routingOwner: string;
  consentOwner: string;
  endUserClientIdentifier: string;
}

/**
 * Makes the store hold the local org described by the configuration: the org, its connected app bound to
 * the dev certificate, its integration user and its messaging channel. Runs at every start, so values
 * changed in `.env` take effect; nothing else in the store is touched. In bridge mode the same identity,
 * under the real org's id, is what partners authenticate against (the dev partner app can be switched off).
 */
export async function seedLocalOrg(
  db: Db,
  o: Config['localOrg'],
  certificatePem: string,
  options: { connectedApp: boolean } = { connectedApp: true },
): Promise<SeededOrg> {
  const now = Date.now();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('orgs')
      .values({ org_id: o.orgId, name: 'Local BYOC org', created_at: now })
      .onConflict((oc) => oc.column('org_id').doNothing())
      .execute();
    if (options.connectedApp) await trx
      .insertInto('connected_apps')
      .values({
        consumer_key: o.consumerKey,
        org_id: o.orgId,
        certificate_pem: certificatePem,
        scopes: 'interaction_api api refresh_token',
        active: 1,
        created_at: now,
      })
      .onConflict((oc) => oc.column('consumer_key').doUpdateSet({ org_id: o.orgId, certificate_pem: certificatePem, active: 1 }))
      .execute();
    await trx.deleteFrom('users').where('username', '=', o.username).where('user_id', '!=', o.userId).execute();
    await trx
      .insertInto('users')
      .values({ user_id: o.userId, org_id: o.orgId, username: o.username, display_name: 'Integration User', created_at: now })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ org_id: o.orgId, username: o.username }))
      .execute();
    await trx
      .insertInto('channels')
      .values({
        channel_address_identifier: o.channelAddressIdentifier,
        org_id: o.orgId,
        authorization_context: o.authorizationContext,
        channel_type: 'Custom',
        routing_owner: o.routingOwner,
        consent_owner: o.consentOwner,
        active: 1,
        created_at: now,
      })
      .onConflict((oc) =>
        oc.column('channel_address_identifier').doUpdateSet({
          org_id: o.orgId,
          authorization_context: o.authorizationContext,
          routing_owner: o.routingOwner,
          consent_owner: o.consentOwner,
        }),
      )
      .execute();
  });
  return { ...o };
}
