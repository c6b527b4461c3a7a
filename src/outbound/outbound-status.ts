import { sql } from 'kysely';
import type { Db } from '../store/database.ts';
import { DELIVERY_STATUSES } from './webhook-endpoints.ts';

export interface OutboundStatus {
  topicName: string;
  subscriberCheckpoint: number | null;
  /** The local org's newest replay id; null in bridge mode, where the org's topic is not ours to read. */
  localOrgLatestReplayId: number | null;
  deliveries: Record<(typeof DELIVERY_STATUSES)[number], number>;
  parkedEvents: number;
  /** When the oldest event still waiting for a webhook delivery arrived (epoch ms), or null. */
  oldestPendingReceivedAt: number | null;
}

/**
 * How far the outbound path is, read from the store: the subscriber's checkpoint against the local org's
 * latest replay id, deliveries per state, parked events. Shared by `GET /api/outbound/status` and `/metrics`.
 */
export async function readOutboundStatus(deps: {
  db: Db;
  /** The latest replay id the org behind the topic has published, when it is the local org. */
  latestPublishedReplayId: (() => Promise<number>) | undefined;
  topicName: string;
}): Promise<OutboundStatus> {
  const [checkpoint, latestReplayId, deliveries, parked, oldestPending] = await Promise.all([
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
    deps.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('normalized_events as e', 'e.event_id', 'd.event_id')
      .select('e.received_at')
      .where('d.status', '=', sql.lit('pending'))
      .orderBy('d.event_sequence', 'asc')
      .limit(1)
      .executeTakeFirst(),
  ]);
  return {
    topicName: deps.topicName,
    subscriberCheckpoint: checkpoint ? checkpoint.replay_id : null,
    localOrgLatestReplayId: latestReplayId,
    deliveries: Object.fromEntries(
      DELIVERY_STATUSES.map((s) => [s, deliveries.find((d) => d.status === s)?.count ?? 0]),
    ) as OutboundStatus['deliveries'],
    parkedEvents: parked?.count ?? 0,
    oldestPendingReceivedAt: oldestPending ? oldestPending.received_at : null,
  };
}
