import express, { type Router } from 'express';
import { z } from 'zod';
import { MAX_INT32 } from '../contract/json-limits.ts';
import { managementError } from '../contract/management-errors.ts';
import { insertChannel } from '../local-org/channels.ts';
import type { ManagementAppDeps } from './management-app.ts';
import type { ManagementOperation } from './openapi/operation.ts';

const owner = z.enum(['Salesforce', 'Partner']);
const newChannel = z.object({
  channelAddressIdentifier: z.string().trim().min(1).max(240),
  authorizationContext: z.string().trim().min(1).max(255),
  routingOwner: owner.default('Salesforce'),
  consentOwner: owner.default('Partner'),
  active: z.boolean().default(true),
  routingAttributeMaxLength: z.number().int().positive().max(MAX_INT32).default(255),
});
const channelChange = z.object({ active: z.boolean().optional(), routingOwner: owner.optional(), consentOwner: owner.optional() });

export const channelOperations: ManagementOperation[] = [
  {
    method: 'post',
    path: '/api/channels',
    tag: 'Org',
    summary: 'Add a messaging channel to the local org, with its own AuthorizationContext',
    body: newChannel,
    responses: {
      201: 'The channel.',
      400: 'The body is not valid (`invalid_request`).',
      409: 'A channel with this address identifier exists.',
    },
  },
  {
    method: 'patch',
    path: '/api/channels/:channelAddressIdentifier',
    tag: 'Org',
    summary: 'Switch a channel on or off, or change its routing or consent owner',
    body: channelChange,
    responses: { 200: 'What changed.', 400: 'The body is not valid (`invalid_request`).', 404: 'No such channel (`not_found`).' },
  },
];

/**
 * More messaging channels for the local org (`POST /api/channels`) and switching one off or changing its
 * owners (`PATCH /api/channels/{channelAddressIdentifier}`); `GET /api/org` lists them. A new channel
 * routes to the org's first queue when routed by its configuration.
 */
export function channelRoutes(deps: Pick<ManagementAppDeps, 'db' | 'orgId'>): Router {
  const router = express.Router();

  router.post('/channels', async (req, res) => {
    const parsed = newChannel.safeParse(req.body);
    if (!parsed.success) {
      throw managementError(
        'invalid_request',
        `Send {"channelAddressIdentifier", "authorizationContext", "routingOwner"?, "consentOwner"?, "active"?}: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}.`,
      );
    }
    const c = parsed.data;
    const queue = await deps.db
      .selectFrom('queues')
      .select('queue_id')
      .where('org_id', '=', deps.orgId)
      .orderBy('queue_id')
      .executeTakeFirst();
    const inserted = await insertChannel(
      deps.db,
      deps.orgId,
      { ...c, routingQueueId: queue?.queue_id ?? null, routingFlowId: null },
      { replaceSettings: false },
    );
    if (!inserted) {
      throw managementError('conflict', `A channel with address identifier "${c.channelAddressIdentifier}" already exists.`);
    }
    res.status(201).json(c);
  });

  router.patch('/channels/:channelAddressIdentifier', async (req, res) => {
    const parsed = channelChange.safeParse(req.body);
    if (!parsed.success || Object.keys(parsed.data).length === 0) {
      throw managementError('invalid_request', 'Send any of {"active": boolean, "routingOwner", "consentOwner"}.');
    }
    const { active, routingOwner, consentOwner } = parsed.data;
    const updated = await deps.db
      .updateTable('channels')
      .set({
        ...(active === undefined ? {} : { active: active ? 1 : 0 }),
        ...(routingOwner ? { routing_owner: routingOwner } : {}),
        ...(consentOwner ? { consent_owner: consentOwner } : {}),
      })
      .where('channel_address_identifier', '=', req.params.channelAddressIdentifier)
      .where('org_id', '=', deps.orgId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw managementError('not_found', `No channel "${req.params.channelAddressIdentifier}".`);
    res.json({ channelAddressIdentifier: req.params.channelAddressIdentifier, ...parsed.data });
  });

  return router;
}
