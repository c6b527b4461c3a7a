import express, { type Router } from 'express';
import { capabilitiesByContext } from '../local-org/capabilities.ts';
import type { ManagementAppDeps } from './management-app.ts';
import type { ManagementOperation } from './openapi/operation.ts';

export const orgOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/org',
    tag: 'Org',
    summary: 'The org: identifiers, mode, users, connected apps, channels, queues, flows and agent users',
    responses: { 200: 'The org.' },
  },
];

/** `GET /api/org`: the local org's seeded identifiers, users, connected apps, channels, queues, flows and agent users. */
export function orgRoutes(deps: Pick<ManagementAppDeps, 'db' | 'orgId' | 'describe' | 'routingViews'>): Router {
  const router = express.Router();
  router.get('/org', async (_req, res) => {
    const [channels, users, apps, routing, capabilities] = await Promise.all([
      deps.db.selectFrom('channels').selectAll().where('org_id', '=', deps.orgId).execute(),
      deps.db.selectFrom('users').select(['user_id', 'username', 'display_name']).where('org_id', '=', deps.orgId).execute(),
      deps.db.selectFrom('connected_apps').select(['consumer_key', 'scopes', 'active']).where('org_id', '=', deps.orgId).execute(),
      deps.routingViews.orgRouting(deps.orgId),
      capabilitiesByContext(deps.db, deps.orgId),
    ]);
    res.json({
      ...deps.describe(),
      orgId: deps.orgId,
      users: users.map((u) => ({ userId: u.user_id, username: u.username, name: u.display_name })),
      connectedApps: apps.map((a) => ({ consumerKey: a.consumer_key, scopes: a.scopes, active: Boolean(a.active) })),
      channels: channels.map((c) => ({
        channelAddressIdentifier: c.channel_address_identifier,
        authorizationContext: c.authorization_context,
        channelType: c.channel_type,
        routingOwner: c.routing_owner,
        consentOwner: c.consent_owner,
        active: Boolean(c.active),
        routing: { queueId: c.routing_queue_id, flowId: c.routing_flow_id, routingAttributeMaxLength: c.routing_attribute_max_length },
        capabilities: capabilities.get(c.authorization_context) ?? null,
      })),
      ...routing,
    });
  });
  return router;
}
