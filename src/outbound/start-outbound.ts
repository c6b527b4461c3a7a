import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { eventStreamRoutes } from '../management/event-stream-routes.ts';
import { outboundStatusRoutes } from '../management/outbound-status-routes.ts';
import { webhookRoutes } from '../management/webhook-routes.ts';
import type { BridgeMetrics } from '../metrics/bridge-metrics.ts';
import type { Db } from '../store/database.ts';
import type { TransactionRunner } from '../store/transactions.ts';
import { exclusiveLock } from '../store/exclusive-lock.ts';
import { Wakeup } from '../util/wakeup.ts';
import { readOutboundStatus } from './outbound-status.ts';
import { ReceivedEvents, type StoredEventsHook } from './received-events.ts';
import { startOutboundRetention } from './retention.ts';
import { WebhookEndpoints } from './webhook-endpoints.ts';
import { OutboundSubscriber } from './subscriber.ts';
import { SubscriptionHolder } from './subscription-holder.ts';
import { WebhookDelivery } from './webhook-delivery.ts';

export interface OutboundDeps {
  config: Config;
  logger: Logger;
  db: Db;
  /**
   * The store's transactions for the outbound path's writes (on SQLite a GroupCommit, whose fsync waits
   * off the event loop while deliveries go on).
   */
  runTransaction: TransactionRunner;
  /** The latest replay id the org behind the topic has published, when it is the local org; for the status page. */
  latestPublishedReplayId?: () => Promise<number>;
  /** Fires when the process stops: the SSE streams end. */
  ending?: AbortSignal;
  /** Runs in the transaction that stores received events (bridge mode: lifecycle events for integrations). */
  onStoredInTransaction?: StoredEventsHook | undefined;
  /** Delivery attempts are counted; the status figures become gauges read at scrape time. */
  metrics: BridgeMetrics;
}

/**
 * The outbound path in one place: the subscriber (salesforce-pubsub-api-client against whatever org's
 * Pub/Sub API it is pointed at), webhook delivery and the SSE stream. It consumes events and knows
 * nothing of who publishes them. `routers` go on the management API; `start()` runs once the org's
 * token endpoint and Pub/Sub API answer.
 */
export function createOutbound(deps: OutboundDeps) {
  const { config, logger, db } = deps;
  const o = config.outbound;
  const stored = new Wakeup();
  const received = new ReceivedEvents(db, deps.runTransaction, deps.onStoredInTransaction);
  const webhooks = new WebhookEndpoints(db);
  const delivery = new WebhookDelivery({
    db,
    runTransaction: deps.runTransaction,
    logger: logger.child({ component: 'webhooks' }),
    wakeup: stored,
    policy: o.webhooks,
    onAttempt: (outcome) => deps.metrics.deliveryAttempt(outcome),
  });

  const statusSources = { db, latestPublishedReplayId: deps.latestPublishedReplayId, topicName: o.topicName };
  deps.metrics.readFromStore(async () => {
    const status = await readOutboundStatus(statusSources);
    return {
      deliveries: status.deliveries,
      parkedEvents: status.parkedEvents,
      subscriberLagEvents:
        status.localOrgLatestReplayId === null ? null : Math.max(0, status.localOrgLatestReplayId - (status.subscriberCheckpoint ?? 0)),
      oldestPendingDeliverySeconds:
        status.oldestPendingReceivedAt === null ? 0 : Math.max(0, Date.now() - status.oldestPendingReceivedAt) / 1000,
    };
  });
  const routers: Router[] = [
    webhookRoutes({ webhooks }),
    eventStreamRoutes({ received, stored, ending: deps.ending }),
    outboundStatusRoutes({
      ...statusSources,
      holdsSubscription: () => holder?.holds ?? false,
    }),
  ];
  let holder: SubscriptionHolder | undefined;

  /** `clientConfig`: salesforce-pubsub-api-client's settings for the org to subscribe to. */
  function start(clientConfig: Record<string, unknown>) {
    const subscription = () =>
      new OutboundSubscriber({
        logger: logger.child({ component: 'subscriber' }),
        received,
        clientConfig,
        topicName: o.topicName,
        fieldNames: o.fields,
        startFrom: o.subscribeFrom,
        onStored: () => stored.notify(),
      });
    // One replica at a time holds the subscription (see docs/deployment.md); the others wait for the lock.
    holder = new SubscriptionHolder({
      lock: exclusiveLock({ databaseUrl: config.databaseUrl, name: `outbound-subscription ${o.topicName}` }),
      pollMs: o.lockPollMs,
      logger: logger.child({ component: 'subscriber' }),
      subscription,
    });
    holder.start();
    delivery.start();
    const retention = startOutboundRetention(db, deps.runTransaction, o.receivedRetentionHours, logger.child({ component: 'retention' }));
    return {
      async stop() {
        await retention.stop();
        await holder?.stop();
        await delivery.stop();
      },
    };
  }

  return { routers, start };
}
