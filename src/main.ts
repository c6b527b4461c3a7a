import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveAdminKey } from './auth/admin-key.ts';
import { AccessTokens } from './auth/access-tokens.ts';
import { ensureDevCertificate } from './auth/dev-certificate.ts';
import { printBanner } from './banner.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { Idempotency } from './http/idempotency.ts';
import { createInteractionApp } from './http/interaction-app.ts';
import { createLogger } from './http/logging.ts';
import { Conversations } from './local-org/conversations.ts';
import { LocalOrgCrm } from './local-org/local-org-crm.ts';
import { seedLocalOrg } from './local-org/seed.ts';
import { createManagementApp } from './management/management-app.ts';
import { createOutbound } from './outbound/start-outbound.ts';
import { openStore } from './store/database.ts';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

async function main(config: Config) {
  const started = Date.now();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const certificate = await ensureDevCertificate(config.certsDir);
  if (certificate.created) logger.info({ certPath: certificate.certPath }, 'generated a self-signed dev certificate and key');
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const org = await seedLocalOrg(store.db, config, certificate.certificatePem);
  const adminKey = resolveAdminKey({ adminKey: config.adminKey, dataDir: config.dataDir });

  const tokens = new AccessTokens(store.db, config.tokens.accessTokenTtlSeconds);
  const idempotency = new Idempotency(store.db, config.idempotencyTtlSeconds);
  const conversations = new Conversations(store.db);
  const crm = new LocalOrgCrm(store.db, conversations);

  const outbound = createOutbound({ config, logger, db: store.db, org, tokens, conversations, certificate });

  const interactionApp = createInteractionApp({
    logger,
    tokens,
    crm,
    idempotency,
    jsonBodyLimitBytes: config.jsonBodyLimitBytes,
    tokenEndpoint: { db: store.db, tokens, policy: config.tokens, publicBaseUrl: config.publicBaseUrl },
  });
  const managementApp = createManagementApp({
    logger,
    adminKey: adminKey.key,
    db: store.db,
    orgId: org.orgId,
    conversations,
    describe: () => ({ mode: 'local-org', interactionApiUrl: config.publicBaseUrl, store: store.dialect }),
    routers: outbound.routers,
  });

  const servers = await Promise.all([
    listen(interactionApp, config.port, config.host),
    listen(managementApp, config.managementPort, config.host),
  ]);
  const [apiPort, managementPort] = servers.map((s) => (s.address() as AddressInfo).port);
  const outboundRunning = await outbound.start();

  const sweep = setInterval(() => {
    Promise.all([tokens.deleteExpired(), idempotency.deleteExpired()]).catch((err) => logger.warn({ err }, 'expiry sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  printBanner({ config, org, store, apiPort: apiPort!, managementPort: managementPort!, adminKeySource: adminKey.source, readyMs: Date.now() - started, pubSub: { port: outboundRunning.pubSubPort, topicName: config.outbound.topicName } });
  logger.info({ apiPort, managementPort, pubSubPort: outboundRunning.pubSubPort, store: store.dialect }, 'ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(sweep);
    await outboundRunning.stop();
    await Promise.all(servers.map(closeServer));
    await store.close();
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function listen(app: { listen: (port: number, host: string, cb: () => void) => Server }, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
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
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const e = err as NodeJS.ErrnoException & { port?: number };
    console.error(`Port ${e.port} is already in use. Stop the other process or set PORT / MANAGEMENT_PORT / PUBSUB_PORT.`);
  } else {
    console.error('Failed to start:', (err as Error).message);
  }
  process.exit(1);
}
