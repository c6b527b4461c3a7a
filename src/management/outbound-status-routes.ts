import express, { type Router } from 'express';
import type { Db } from '../store/database.ts';

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
    const [checkpoint, latestReplayId, deliveries, parked] = await Promise.all([
      deps.db.selectFrom('subscriber_checkpoints').select('replay_id').where('topic_name', '=', deps.topicName).executeTakeFirst(),
      deps.latestPublishedReplayId?.() ?? null,
      deps.db
        .selectFrom('webhook_deliveries')
        .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
        .groupBy('status')
        .execute(),
      deps.db
        .selectFrom('parked_events')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirst(),
    ]);
    res.json({
      topicName: deps.topicName,
      // Of the replicas sharing the store, one holds the subscription (see SubscriptionHolder).
      holdsSubscription: deps.holdsSubscription(),
      subscriberCheckpoint: checkpoint ? checkpoint.replay_id : null,
      localOrgLatestReplayId: latestReplayId,
      deliveries: Object.fromEntries(['pending', 'succeeded', 'dead'].map((s) => [s, deliveries.find((d) => d.status === s)?.count ?? 0])),
      parkedEvents: parked?.count ?? 0,
    });
  });
  return router;
}
