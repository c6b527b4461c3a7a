import express, { type Router } from 'express';
import { readOutboundStatus } from '../outbound/outbound-status.ts';
import type { Db } from '../store/database.ts';
import type { ManagementOperation } from './openapi/operation.ts';

export const outboundStatusOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/outbound/status',
    tag: 'Outbound',
    summary:
      'Subscriber checkpoint against the local org’s latest replay id, whether this replica holds the subscription, deliveries by state, parked events',
    responses: { 200: 'The status.' },
  },
];

/**
 * `GET /api/outbound/status`: how far the subscriber is (its checkpoint against the local org's latest
 * replay id, null in bridge mode), whether this replica is the one subscribed, and how many deliveries are in each state.
 */
export function outboundStatusRoutes(deps: {
  db: Db;
  latestPublishedReplayId: (() => Promise<number>) | undefined;
  topicName: string;
  holdsSubscription: () => boolean;
}): Router {
  const router = express.Router();
  router.get('/outbound/status', async (_req, res) => {
    const { topicName, ...status } = await readOutboundStatus(deps);
    // Of the replicas sharing the store, one holds the subscription (see SubscriptionHolder).
    res.json({ topicName, holdsSubscription: deps.holdsSubscription(), ...status });
  });
  return router;
}
