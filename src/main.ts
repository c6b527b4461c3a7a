import http, { type RequestListener, type Server } from 'node:http';
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
import { ResilientUpstream } from './crm/salesforce/resilient-upstream.ts';
import { SalesforceCrm } from './crm/salesforce/salesforce-crm.ts';
import type { SalesforceSettings } from './crm/salesforce/salesforce-settings.ts';
import { Idempotency } from './http/idempotency.ts';
import { AmbientTransactions } from './store/ambient-transaction.ts';
import { createInteractionApp } from './http/interaction-app.ts';
import { createLogger } from './http/logging.ts';
import { LocalOrgAgentWork } from './local-org/agent-work.ts';
import { Conversations } from './local-org/conversations.ts';
import { LocalOrgCrm } from './local-org/local-org-crm.ts';
import { MessagingSessions } from './local-org/messaging-sessions.ts';
import { OutboundEventLog } from './local-org/outbound-event-log.ts';
import { RoutingEvents } from './local-org/routing-events.ts';
import { LocalOrgRouting } from './local-org/routing.ts';
import { RoutingViews } from './local-org/routing-views.ts';
import { seedLocalOrg } from './local-org/seed.ts';
import { createManagementApp } from './management/management-app.ts';
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
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const sf = config.salesforce;
  const identity = sf
    ? { ...config.localOrg, orgId: sf.orgId, authorizationContext: sf.defaultAuthorizationContext ?? config.localOrg.authorizationContext }
    : config.localOrg;
  const org = await seedLocalOrg(store.db, identity, certificate.certificatePem, { connectedApp: !sf || sf.devPartnerApp });
  const adminKey = resolveAdminKey({ adminKey: config.adminKey, dataDir: config.dataDir });

  const tokens = new AccessTokens(store.db, config.tokens.accessTokenTtlSeconds);
  // The local org's writes and their idempotency records commit as one transaction (see AmbientTransactions).
  const ambient = sf ? undefined : new AmbientTransactions(store.db);
  const localDb = ambient?.db ?? store.db;
  const idempotency = new Idempotency(store.db, config.idempotencyTtlSeconds, ambient);
  const conversations = new Conversations(localDb);
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
    endpoint: s3.endpoint ?? embeddedS3!.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(embeddedS3 ? { credentials: embeddedS3.credentials } : {}),
  });
  await attachmentStorage.ensureBucket(logger);
  const attachmentRecords = new AttachmentRecords(localDb);
  const upload = new InteractionUpload(attachmentStorage, {
    maxFileBytes: config.attachments.maxBytes,
    jsonPartLimitBytes: config.jsonBodyLimitBytes,
  });
  const outboundEvents = new OutboundEventLog(store.db);
  const sessions = new MessagingSessions();
  const routingEvents = new RoutingEvents(outboundEvents);
  const crm = sf
    ? await connectToOrg(sf, logger, attachmentStorage)
    : new LocalOrgCrm(
        localDb,
        conversations,
        new LocalOrgRouting(localDb, sessions, routingEvents),
        new LocalOrgAgentWork(localDb, sessions, routingEvents),
        attachmentRecords,
      );

  const outbound = createOutbound({ config, logger, db: store.db, org, tokens, conversations, certificate });

  const interactionApp = createInteractionApp({
    logger,
    tokens,
    crm,
    idempotency,
    jsonBodyLimitBytes: config.jsonBodyLimitBytes,
    upload,
    defaultAuthorizationContext: sf?.defaultAuthorizationContext,
    tokenEndpoint: { db: store.db, tokens, policy: config.tokens, publicBaseUrl: config.publicBaseUrl },
  });
  const managementApp = createManagementApp({
    logger,
    adminKey: adminKey.key,
    db: store.db,
    orgId: org.orgId,
    conversations,
    attachmentRecords,
    attachmentStorage,
    routingViews: new RoutingViews(store.db, outboundEvents),
    describe: () => ({ mode: config.mode, interactionApiUrl: config.publicBaseUrl, store: store.dialect }),
    routers: outbound.routers,
  });

  const servers = await Promise.all([
    listen(interactionApp, config.port, config.host, config.httpTimeouts),
    listen(managementApp, config.managementPort, config.host, config.httpTimeouts),
  ]);
  const [apiPort, managementPort] = servers.map((s) => (s.address() as AddressInfo).port);
  const outboundRunning = await outbound.start();

  const sweepOnce = () =>
    Promise.all([
      tokens.deleteExpired(),
      idempotency.deleteExpired(),
      embeddedS3?.sweepIncompleteUploads(INCOMPLETE_UPLOAD_MAX_AGE_MS),
    ]).catch((err) => logger.warn({ err }, 'expiry sweep failed'));
  void sweepOnce();
  const sweep = setInterval(() => void sweepOnce(), SWEEP_INTERVAL_MS);
  sweep.unref();

  const attachmentsAt = `${embeddedS3 ? 'embedded S3' : 'S3'} ${attachmentStorage.settings.endpoint} bucket ${s3.bucket}`;
  printBanner({
    config,
    org,
    store,
    apiPort: apiPort!,
    managementPort: managementPort!,
    adminKeySource: adminKey.source,
    attachmentsAt,
    readyMs: Date.now() - started,
    pubSub:
      outboundRunning.pubSubPort === undefined ? undefined : { port: outboundRunning.pubSubPort, topicName: config.outbound.topicName },
  });
  logger.info(
    {
      apiPort,
      managementPort,
      pubSubPort: outboundRunning.pubSubPort,
      store: store.dialect,
      s3Endpoint: attachmentStorage.settings.endpoint,
      s3Bucket: s3.bucket,
    },
    'ready',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(sweep);
    await outboundRunning.stop();
    await Promise.all(servers.map(closeServer));
    attachmentStorage.close();
    await embeddedS3?.close();
    await store.close();
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Bridge mode: the org must hand out a token before the bridge accepts anything, so bad settings fail the start. */
async function connectToOrg(sf: SalesforceSettings, logger: Logger, storage: AttachmentStorage) {
  const tokens = new UpstreamTokenClient(sf, { timeoutMs: sf.attemptTimeoutMs });
  try {
    await tokens.token();
  } catch (err) {
    throw new StartupError(err instanceof UpstreamTokenError ? `Bridge mode cannot start: ${err.message}` : String(err));
  }
  logger.info({ org: sf.scrtInstanceUrl, orgId: sf.orgId }, 'authenticated to the Salesforce org');
  return new SalesforceCrm(new ResilientUpstream(sf, tokens, logger.child({ upstream: 'salesforce' })), storage);
}

class StartupError extends Error {}

function listen(app: RequestListener, port: number, host: string, timeouts: Config['httpTimeouts']): Promise<Server> {
  // Node checks the headers and request timeouts every connectionsCheckingInterval (30 s by default);
  // a tighter interval makes them hold to within a second.
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
    },
    app,
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Stops accepting, lets requests in flight finish (up to 10 s), then drops idle keep-alive connections. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

try {
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
