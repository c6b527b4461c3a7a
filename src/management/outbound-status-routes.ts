import express, { type Router } from 'express';
import type { OutboundEventLog } from '../local-org/outbound-event-log.ts';
import { readOutboundStatus } from '../outbound/outbound-status.ts';
import type { Db } from '../store/database.ts';

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
