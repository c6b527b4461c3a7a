import type { Config } from '../config.ts';
import type { Db } from '../store/database.ts';
import { insertChannel } from './channels.ts';

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
  queues: Array<{ queueId: string; developerName: string }>;
  flows: Array<{ flowId: string; apiName: string }>;
  agentUsers: Array<{ userId: string; username: string }>;
  channelRouting: { queueId: string; flowId: string | null; attributeMaxLength: number };
}

/**
 * Makes the store hold the local org described by the configuration: the org, its connected app bound to
 * the dev certificate, its integration user, its messaging channel with its routing settings, and its
 * queues, flows and agent users. Runs at every start, so values changed in `.env` take effect; nothing
 * else in the store is touched (queues, flows and agents no longer configured stay, as records do). In bridge mode the same identity, under the real org's id, is what partners authenticate
 * against (the dev partner app can be switched off).
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
    if (options.connectedApp)
      await trx
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
    await insertChannel(
      trx,
      o.orgId,
      {
        channelAddressIdentifier: o.channelAddressIdentifier,
        authorizationContext: o.authorizationContext,
        routingOwner: o.routingOwner,
        consentOwner: o.consentOwner,
        active: true,
        routingQueueId: o.channelRouting.queueId,
        routingFlowId: o.channelRouting.flowId,
        routingAttributeMaxLength: o.channelRouting.attributeMaxLength,
      },
      { replaceSettings: true },
    );
    for (const q of o.queues) {
      await trx
        .insertInto('queues')
        .values({ queue_id: q.queueId, org_id: o.orgId, developer_name: q.developerName, created_at: now })
        .onConflict((oc) => oc.column('queue_id').doUpdateSet({ org_id: o.orgId, developer_name: q.developerName }))
        .execute();
    }
    for (const f of o.flows) {
      await trx
        .insertInto('flows')
        .values({ flow_id: f.flowId, org_id: o.orgId, api_name: f.apiName, created_at: now })
        .onConflict((oc) => oc.column('flow_id').doUpdateSet({ org_id: o.orgId, api_name: f.apiName }))
        .execute();
    }
    for (const a of o.agentUsers) {
      await trx.deleteFrom('users').where('username', '=', a.username).where('user_id', '!=', a.userId).execute();
      await trx
        .insertInto('users')
        .values({
          user_id: a.userId,
          org_id: o.orgId,
          username: a.username,
          display_name: displayNameOf(a.username),
          is_agent: 1,
          created_at: now,
        })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ org_id: o.orgId, username: a.username, is_agent: 1 }))
        .execute();
    }
  });
  return { ...o };
}

/** `agent.one@byoc.local` → `Agent One`. */
function displayNameOf(username: string): string {
  return username
    .split('@')[0]!
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}
