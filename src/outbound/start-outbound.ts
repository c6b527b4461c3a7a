import type { Router } from 'express';
import type { Logger } from 'pino';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { DevCertificate } from '../auth/dev-certificate.ts';
import type { Config } from '../config.ts';
import { AgentMessages } from '../local-org/agent-messages.ts';
import type { Conversations } from '../local-org/conversations.ts';
import { OutboundEventLog } from '../local-org/outbound-event-log.ts';
import { CustomEventCodec } from '../local-org/pubsub/custom-event-schema.ts';
import { PubSubServer } from '../local-org/pubsub/pubsub-server.ts';
import type { SeededOrg } from '../local-org/seed.ts';
import { agentRoutes } from '../management/agent-routes.ts';
import { eventStreamRoutes } from '../management/event-stream-routes.ts';
import { outboundStatusRoutes } from '../management/outbound-status-routes.ts';
import { webhookRoutes } from '../management/webhook-routes.ts';
import type { Db } from '../store/database.ts';
import { Wakeup } from '../util/wakeup.ts';
import { ReceivedEvents, type StoredEventsHook } from './received-events.ts';
import { WebhookEndpoints } from './webhook-endpoints.ts';
import { OutboundSubscriber } from './subscriber.ts';
import { WebhookDelivery } from './webhook-delivery.ts';

const RETENTION_SWEEP_MS = 10 * 60 * 1000;

export interface OutboundDeps {
  config: Config;
  logger: Logger;
  db: Db;
  org: SeededOrg;
  tokens: AccessTokens;
  conversations: Conversations;
  certificate: DevCertificate;
  /** Runs in the transaction that stores received events (bridge mode: lifecycle events for integrations). */
  onStoredInTransaction?: StoredEventsHook | undefined;
}

/**
 * The outbound path in one place: the local org's agent side and Pub/Sub server, the subscriber (the
 * real salesforce-pubsub-api-client against that server), webhook delivery and the SSE stream.
 * `routers` go on the management API; `start()` runs once the token endpoint listens.
 */
export function createOutbound(deps: OutboundDeps) {
  const { config, logger, db } = deps;
  const o = config.outbound;
  const appended = new Wakeup();
  const stored = new Wakeup();
  const log = new OutboundEventLog(db);
  const received = new ReceivedEvents(db, deps.onStoredInTransaction);
  const webhooks = new WebhookEndpoints(db);
  const agentMessages = new AgentMessages(db, deps.conversations, {
    agent: { userId: deps.org.userId, displayName: 'Local Agent' },
    defaultShape: o.localEventShape,
    appended,
  });
  const codec = new CustomEventCodec(o.topicName, o.fields);
  const pubSub = new PubSubServer({
    logger: logger.child({ component: 'pubsub-server' }),
    tokens: deps.tokens,
    log,
    codec,
    instanceUrl: config.publicBaseUrl,
    createdById: deps.org.userId,
    appended,
    keepaliveMs: o.keepaliveSeconds * 1000,
  });
  const delivery = new WebhookDelivery({ db, logger: logger.child({ component: 'webhooks' }), wakeup: stored, policy: o.webhooks });

  const sf = config.salesforce;
  const routers: Router[] = [
    // The agent side belongs to the local org; in bridge mode the real org's agents answer.
    ...(sf ? [] : [agentRoutes({ agentMessages })]),
    webhookRoutes({ webhooks }),
    eventStreamRoutes({ received, stored }),
    outboundStatusRoutes({ db, log, topicName: o.topicName }),
  ];

  async function start() {
    const pubSubPort = sf
      ? undefined
      : await pubSub.listen(config.host, o.pubSubPort, {
          certPem: deps.certificate.certificatePem,
          keyPem: deps.certificate.privateKeyPem,
        });
    const subscriber = new OutboundSubscriber({
      logger: logger.child({ component: 'subscriber' }),
      received,
      clientConfig: sf
        ? {
            // The client signs with aud = loginUrl and posts to {loginUrl}/services/oauth2/token.
            authType: 'oauth-jwt-bearer',
            loginUrl: sf.audience,
            clientId: sf.consumerKey,
            username: sf.subject,
            privateKey: sf.privateKeyPem,
            pubSubEndpoint: sf.pubSubEndpoint,
            rejectUnauthorizedSsl: sf.pubSubRejectUnauthorized,
          }
        : {
            authType: 'oauth-jwt-bearer',
            loginUrl: config.publicBaseUrl,
            clientId: deps.org.consumerKey,
            username: deps.org.username,
            privateKey: deps.certificate.privateKeyPem,
            pubSubEndpoint: `localhost:${pubSubPort}`,
            // The local server's certificate is the self-signed dev one, not in the client's CA bundle.
            rejectUnauthorizedSsl: false,
          },
      topicName: o.topicName,
      fieldNames: o.fields,
      startFrom: o.subscribeFrom,
      onStored: () => stored.notify(),
    });
    subscriber.start();
    delivery.start();
    const sweepRetention = () =>
      log
        .deleteOlderThan(Date.now() - o.retentionHours * 3600_000)
        .catch((err) => logger.warn({ err }, 'outbound event retention sweep failed'));
    void sweepRetention();
    const sweep = setInterval(sweepRetention, RETENTION_SWEEP_MS);
    sweep.unref();
    return {
      pubSubPort,
      async stop() {
        clearInterval(sweep);
        await subscriber.stop();
        await delivery.stop();
        if (pubSubPort !== undefined) await pubSub.close();
      },
    };
  }

  return { routers, start };
}
