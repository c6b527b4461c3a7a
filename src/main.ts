import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import { AttachmentRecords } from './attachments/attachment-records.ts';
import { AttachmentStorage } from './attachments/attachment-storage.ts';
import { startEmbeddedS3, type EmbeddedS3 } from './attachments/embedded-s3.ts';
import { InteractionUpload } from './attachments/interaction-upload.ts';
import { resolveAdminKey } from './auth/admin-key.ts';
import { AccessTokens } from './auth/access-tokens.ts';
import { ensureDevCertificate } from './auth/dev-certificate.ts';
import { printBanner } from './banner.ts';
import { UpstreamTokenClient, UpstreamTokenError } from './auth/upstream-token-client.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { curlEnvValues } from './curl-env-values.ts';
import { ResilientUpstream } from './crm/salesforce/resilient-upstream.ts';
import { SalesforceCrm } from './crm/salesforce/salesforce-crm.ts';
import type { SalesforceSettings } from './crm/salesforce/salesforce-settings.ts';
import {
  deleteExpiredIdempotencyRecords,
  InProcessIdempotency,
  ReservingIdempotency,
  TransactionalIdempotency,
} from './http/idempotency.ts';
import { installGracefulShutdown } from './http/graceful-shutdown.ts';
import { createHttpServer } from './http/http-server.ts';
import { createInteractionApp } from './http/interaction-app.ts';
import { createLogger } from './http/logging.ts';
import { Readiness } from './http/readiness.ts';
import { createIntegrations } from './integrations/start-integrations.ts';
import { LocalOrgAgentWork } from './local-org/agent-work.ts';
import { AuthorizationContexts } from './local-org/authorization-contexts.ts';
import { Conversations } from './local-org/conversations.ts';
import { LocalOrgLifecycle } from './local-org/lifecycle-events.ts';
import { LocalOrgCrm } from './local-org/local-org-crm.ts';
import { MessagingSessions } from './local-org/messaging-sessions.ts';
import { OutboundEventLog } from './local-org/outbound-event-log.ts';
import { RoutingEvents } from './local-org/routing-events.ts';
import { LocalOrgRouting } from './local-org/routing.ts';
import { RoutingViews } from './local-org/routing-views.ts';
import { createLocalOrgPublishing } from './local-org/publishing.ts';
import { seedLocalOrg, type SeededOrg } from './local-org/seed.ts';
import { orgRestRouter } from './local-org/salesforce-rest/rest-routes.ts';
import { soapLoginRouter } from './local-org/salesforce-rest/soap-login.ts';
import { agentRoutingRoutes } from './management/agent-routing-routes.ts';
import { createManagementApp } from './management/management-app.ts';
import { BridgeMetrics } from './metrics/bridge-metrics.ts';
import { exemptLoopbackFromGrpcProxy } from './outbound/grpc-proxy.ts';
import { createOutbound } from './outbound/start-outbound.ts';
import { openStore } from './store/database.ts';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
/** An upload this old is no longer in progress: requests are answered long before. */
const INCOMPLETE_UPLOAD_MAX_AGE_MS = 60 * 60 * 1000;

async function main(config: Config) {
  const started = Date.now();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const certificate = await ensureDevCertificate(config.certsDir);
  if (certificate.created) logger.info({ certPath: certificate.certPath }, 'generated a self-signed dev certificate and key');
  const metrics = new BridgeMetrics();
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onQueryError: () => metrics.storeError() });
  const sf = config.salesforce;
  const identity = sf
    ? { ...config.localOrg, orgId: sf.orgId, authorizationContext: sf.defaultAuthorizationContext ?? config.localOrg.authorizationContext }
    : config.localOrg;
  const org = await seedLocalOrg(store.db, identity, certificate.certificatePem, { connectedApp: !sf || sf.devPartnerApp });
  const adminKey = resolveAdminKey({ adminKey: config.adminKey, dataDir: config.dataDir });

  const tokens = new AccessTokens(store.db, config.tokens.accessTokenTtlSeconds);
  const conversations = new Conversations(store.db);
  const s3 = config.attachments.s3;
  const embeddedS3: EmbeddedS3 | undefined = s3.endpoint
    ? undefined
    : await startEmbeddedS3({
        directory: s3.embeddedDir,
        credentialsFile: s3.embeddedCredentialsFile,
        port: s3.embeddedPort,
        bucket: s3.bucket,
      });
  const attachmentStorage = new AttachmentStorage({
    endpoint: embeddedS3?.endpoint ?? (s3.endpoint as string),
    bucket: s3.bucket,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(embeddedS3 ? { credentials: embeddedS3.credentials, startLocalPut: () => embeddedS3.startLocalPut() } : {}),
    onError: (operation) => metrics.s3Error(operation),
  });
  await attachmentStorage.ensureBucket(logger);
  const attachmentRecords = new AttachmentRecords(store.db);
  const upload = new InteractionUpload(attachmentStorage, {
    maxFileBytes: config.attachments.maxBytes,
    jsonPartLimitBytes: config.jsonBodyLimitBytes,
  });
  // The one outbound event log: routing operations and the agent append to it, the Pub/Sub server serves it.
  const outboundEvents = new OutboundEventLog(store.db);
  const sessions = new MessagingSessions();
  const routingEvents = new RoutingEvents(outboundEvents.writer);
  const integrations = createIntegrations({ config, logger, db: store.db });
  const lifecycle = new LocalOrgLifecycle(integrations.sink);
  // The local org's agent and Pub/Sub API; in bridge mode the real org's agents answer and it publishes.
  const readiness = new Readiness();
  const publishing = sf
    ? undefined
    : createLocalOrgPublishing({
        config,
        logger,
        db: store.db,
        org,
        tokens,
        certificate,
        log: outboundEvents,
        attachmentStorage,
        lifecycle,
      });
  const outbound = createOutbound({
    config,
    logger,
    db: store.db,
    runTransaction: store.runTransaction,
    latestPublishedReplayId: publishing && (() => outboundEvents.latestReplayId()),
    ending: readiness.listenersClosing,
    // The local org tells its lifecycle itself; a real org's shows in its outbound events.
    onStoredInTransaction: sf ? integrations.outboundHook : undefined,
    metrics,
  });

  const localRouting = new LocalOrgRouting(sessions, routingEvents, lifecycle, integrations.values);
  const localAgentWork = new LocalOrgAgentWork(sessions, routingEvents, lifecycle);
  const interactionDeps = {
    logger,
    metrics,
    tokens,
    jsonBodyLimitBytes: config.jsonBodyLimitBytes,
    upload,
    readiness,
    defaultAuthorizationContext: sf?.defaultAuthorizationContext,
    orgRouters: sf
      ? []
      : [
          ...(publishing?.interactionRouters ?? []),
          orgRestRouter({ db: store.db, tokens, orgId: org.orgId, topicName: config.outbound.topicName, fields: config.outbound.fields }),
          soapLoginRouter({
            db: store.db,
            tokens,
            orgId: org.orgId,
            publicBaseUrl: config.publicBaseUrl,
            password: config.localOrg.password,
            maxBodyBytes: 64 * 1024,
          }),
        ],
    tokenEndpoint: { db: store.db, tokens, policy: config.tokens, publicBaseUrl: config.publicBaseUrl },
  };
  // Local org: the idempotency step opens each request's transaction and hands it to the operation, so
  // the effect and its idempotency record are one commit. Bridge mode: the operation is an HTTP call;
  // on SQLite, which no other process writes, duplicates in flight are caught in memory and only the
  // answer is written; on PostgreSQL, shared by replicas, the key is reserved before the call.
  const interactionApp = sf
    ? createInteractionApp({
        ...interactionDeps,
        crm: await connectToOrg(sf, logger, attachmentStorage, metrics),
        idempotency:
          store.dialect === 'sqlite'
            ? new InProcessIdempotency(store.db, config.idempotencyTtlSeconds)
            : new ReservingIdempotency(store.db, config.idempotencyTtlSeconds),
      })
    : createInteractionApp({
        ...interactionDeps,
        crm: new LocalOrgCrm(
          new AuthorizationContexts(store.db),
          localRouting,
          localAgentWork,
          { log: outboundEvents.writer, shape: config.outbound.localEventShape },
          sessions,
        ),
        idempotency: new TransactionalIdempotency(store.db, config.idempotencyTtlSeconds, store.runTransaction, store.dialect),
      });
  const managementApp = createManagementApp({
    logger,
    metrics,
    adminKey: adminKey.key,
    db: store.db,
    tokens,
    orgId: org.orgId,
    conversations,
    attachmentRecords,
    attachmentStorage,
    routingViews: new RoutingViews(store.db, outboundEvents),
    describe: () => ({ mode: config.mode, interactionApiUrl: config.publicBaseUrl, store: store.dialect, curlEnv: curlEnvValues(config) }),
    routers: [
      ...(publishing?.routers ?? []),
      // The local org's agent moves its routing too; in bridge mode the real org's Omni-Channel does.
      ...(sf
        ? []
        : [agentRoutingRoutes({ db: store.db, orgId: org.orgId, userId: org.userId, routing: localRouting, agentWork: localAgentWork })]),
      ...outbound.routers,
      ...integrations.routers,
    ],
    readiness,
  });

  const servers = await Promise.all([
    listen(interactionApp, config.port, config.host, config.httpTimeouts),
    listen(managementApp, config.managementPort, config.host, config.httpTimeouts),
  ]);
  const [apiPort = 0, managementPort = 0] = servers.map((s) => (s.address() as AddressInfo).port);
  const publishingRunning = await publishing?.start();
  const pubSubPort = publishingRunning?.pubSubPort;
  const outboundRunning = outbound.start(
    sf ? salesforcePubSubClient(sf) : localOrgPubSubClient(config, org, certificate.privateKeyPem, pubSubPort!),
  );
  integrations.start();
  readiness.ready();

  const sweepOnce = () =>
    Promise.all([
      tokens.deleteExpired(),
      deleteExpiredIdempotencyRecords(store.db),
      embeddedS3?.sweepIncompleteUploads(INCOMPLETE_UPLOAD_MAX_AGE_MS),
    ]).catch((err: unknown) => logger.warn({ err }, 'expiry sweep failed'));
  void sweepOnce();
  const sweep = setInterval(() => void sweepOnce(), SWEEP_INTERVAL_MS);
  sweep.unref();

  const attachmentsAt = `${embeddedS3 ? 'embedded S3' : 'S3'} ${attachmentStorage.settings.endpoint} bucket ${s3.bucket}`;
  printBanner({
    config,
    org,
    store,
    apiPort,
    managementPort,
    adminKeySource: adminKey.source,
    attachmentsAt,
    readyMs: Date.now() - started,
    pubSub: pubSubPort === undefined ? undefined : { port: pubSubPort, topicName: config.outbound.topicName },
  });
  logger.info(
    {
      apiPort,
      managementPort,
      pubSubPort,
      store: store.dialect,
      s3Endpoint: attachmentStorage.settings.endpoint,
      s3Bucket: s3.bucket,
    },
    'ready',
  );

  installGracefulShutdown({
    logger,
    readiness,
    servers,
    ...config.shutdown,
    afterServers: async () => {
      clearInterval(sweep);
      await outboundRunning.stop();
      await integrations.stop();
      await publishingRunning?.stop();
      attachmentStorage.close();
      await embeddedS3?.close();
      await store.close();
    },
  });
}

/** salesforce-pubsub-api-client settings for the real org: it signs with aud = loginUrl and posts to {loginUrl}/services/oauth2/token. */
function salesforcePubSubClient(sf: SalesforceSettings) {
  return {
    authType: 'oauth-jwt-bearer',
    loginUrl: sf.audience,
    clientId: sf.consumerKey,
    username: sf.subject,
    privateKey: sf.privateKeyPem,
    pubSubEndpoint: sf.pubSubEndpoint,
    rejectUnauthorizedSsl: sf.pubSubRejectUnauthorized,
  };
}

/** The same client pointed at the local org's own token endpoint and Pub/Sub server, as its connected app. */
function localOrgPubSubClient(config: Config, org: SeededOrg, privateKeyPem: string, pubSubPort: number) {
  return {
    authType: 'oauth-jwt-bearer',
    loginUrl: config.publicBaseUrl,
    clientId: org.consumerKey,
    username: org.username,
    privateKey: privateKeyPem,
    pubSubEndpoint: `localhost:${pubSubPort}`,
    // The local server's certificate is the self-signed dev one, not in the client's CA bundle.
    rejectUnauthorizedSsl: false,
  };
}

/** Bridge mode: the org must hand out a token before the bridge accepts anything, so bad settings fail the start. */
async function connectToOrg(sf: SalesforceSettings, logger: Logger, storage: AttachmentStorage, metrics: BridgeMetrics) {
  const tokens = new UpstreamTokenClient(sf, { timeoutMs: sf.attemptTimeoutMs });
  try {
    await tokens.token();
  } catch (err) {
    throw new StartupError(err instanceof UpstreamTokenError ? `Bridge mode cannot start: ${err.message}` : String(err));
  }
  logger.info({ org: sf.scrtInstanceUrl, orgId: sf.orgId }, 'authenticated to the Salesforce org');
  return new SalesforceCrm(new ResilientUpstream(sf, tokens, logger.child({ upstream: 'salesforce' }), metrics.upstream()), storage);
}

class StartupError extends Error {}

function listen(app: Express, port: number, host: string, timeouts: Config['httpTimeouts']): Promise<Server> {
  // Node checks the headers and request timeouts every connectionsCheckingInterval (30 s by default);
  // a tighter interval makes them hold to within a second.
  const server = createHttpServer(app, {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

try {
  exemptLoopbackFromGrpcProxy(process.env);
  await main(loadConfig());
} catch (err) {
  if (err instanceof ConfigError || err instanceof StartupError) {
    console.error(err.message);
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const e = err as NodeJS.ErrnoException & { port?: number };
    console.error(`Port ${e.port} is already in use. Stop the other process or set PORT / MANAGEMENT_PORT / S3_PORT / PUBSUB_PORT.`);
  } else {
    console.error('Failed to start:', (err as Error).message);
  }
  process.exit(1);
}
