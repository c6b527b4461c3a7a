import express, { type Router } from 'express';
import type { OutboundEventLog } from '../local-org/outbound-event-log.ts';
import { readOutboundStatus } from '../outbound/outbound-status.ts';
import type { Db } from '../store/database.ts';
import type { ManagementOperation } from './openapi/operation.ts';

export const outboundStatusOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/outbound/status',
    tag: 'Outbound',
    summary: 'Subscriber checkpoint against the local org’s latest replay id, deliveries by state, parked events',
    responses: { 200: 'The status.' },
  },
];

/**
 * `GET /api/outbound/status`: how far the subscriber is (its checkpoint against the local org's latest
 * replay id) and how many deliveries are in each state.
 */
export function outboundStatusRoutes(deps: { db: Db; log?: OutboundEventLog; topicName: string }): Router {
  const router = express.Router();
  router.get('/outbound/status', async (_req, res) => {
    res.json(await readOutboundStatus(deps));
  });
  return router;
}
