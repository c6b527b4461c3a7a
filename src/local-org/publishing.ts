import type { Router } from 'express';
import type { Logger } from 'pino';
import type { AttachmentStorage } from '../attachments/attachment-storage.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { DevCertificate } from '../auth/dev-certificate.ts';
import type { Config } from '../config.ts';
import { agentRoutes } from '../management/agent-routes.ts';
import type { Db } from '../store/database.ts';
import { AgentFiles } from './agent-files.ts';
import { AgentMessages } from './agent-messages.ts';
import { fileLinkDownloadRouter } from '../interaction-api/file-link-download.ts';
import { FileLinks } from './file-links.ts';
import type { LocalOrgLifecycle } from './lifecycle-events.ts';
import type { OutboundEventLog } from './outbound-event-log.ts';
import { CustomEventCodec } from './pubsub/custom-event-schema.ts';
import { PubSubServer } from './pubsub/pubsub-server.ts';
import type { SeededOrg } from './seed.ts';

const RETENTION_SWEEP_MS = 10 * 60 * 1000;

export interface LocalOrgPublishingDeps {
  config: Config;
  logger: Logger;
  db: Db;
  org: SeededOrg;
  tokens: AccessTokens;
  certificate: DevCertificate;
  /** The one outbound event log, whose writer the routing operations append to as well. */
  log: OutboundEventLog;
  /** Where the agent's files go, like the end users'. */
  attachmentStorage: AttachmentStorage;
  /** Told when the agent ends a session, as routing tells it of the rest of the lifecycle. */
  lifecycle: LocalOrgLifecycle;
}

/**
 * The local org's publishing side, standing where a real org's agents and Pub/Sub API are: its agent
 * (answering from the management API) writes conversation entries and outbound events, and its Pub/Sub
 * API gRPC server serves the event log as the custom platform event topic. The outbound side subscribes
 * to it like to any org. `routers` go on the management API, `interactionRouters` on the Interaction API's
 * port (the signed links of the agent's files); `start()` runs once the token endpoint listens.
 */
export function createLocalOrgPublishing(deps: LocalOrgPublishingDeps) {
  const { config, logger, db, log } = deps;
  const o = config.outbound;
  const agentMessages = new AgentMessages(db, log.writer, {
    agent: { userId: deps.org.userId, displayName: 'Local Agent' },
    defaultShape: o.localEventShape,
    lifecycle: deps.lifecycle,
  });
  const pubSub = new PubSubServer({
    logger: logger.child({ component: 'pubsub-server' }),
    tokens: deps.tokens,
    log,
    codec: new CustomEventCodec(o.topicName, o.fields),
    instanceUrl: config.publicBaseUrl,
    createdById: deps.org.userId,
    keepaliveMs: o.keepaliveSeconds * 1000,
    pollMs: o.pubSubPollMs,
  });
  const links = FileLinks.fromDataDir(config.dataDir, config.publicBaseUrl);
  const agentFiles = new AgentFiles({ db, orgId: deps.org.orgId, storage: deps.attachmentStorage, messages: agentMessages, links });
  const routers: Router[] = [agentRoutes({ agentMessages, agentFiles, maxFileBytes: config.attachments.maxBytes })];
  // The agent's files, for the partner holding a published link (on the Interaction API's port).
  const interactionRouters: Router[] = [fileLinkDownloadRouter({ db, orgId: deps.org.orgId, storage: deps.attachmentStorage, links })];

  async function start() {
    const pubSubPort = await pubSub.listen(config.host, o.pubSubPort, {
      certPem: deps.certificate.certificatePem,
      keyPem: deps.certificate.privateKeyPem,
    });
    const sweepRetention = () =>
      log
        .deleteOlderThan(Date.now() - o.retentionHours * 3600_000)
        .catch((err: unknown) => logger.warn({ err }, 'outbound event retention sweep failed'));
    void sweepRetention();
    const sweep = setInterval(() => void sweepRetention(), RETENTION_SWEEP_MS);
    sweep.unref();
    return {
      pubSubPort,
      async stop() {
        clearInterval(sweep);
        await pubSub.close();
      },
    };
  }

  return { routers, interactionRouters, start };
}
