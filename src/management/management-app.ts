import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import type { AttachmentRecords } from '../attachments/attachment-records.ts';
import type { AttachmentStorage } from '../attachments/attachment-storage.ts';
import { adminKeyMatches } from '../auth/admin-key.ts';
import { bearerTokenOf } from '../auth/bearer-token.ts';
import { describeJsonLimitProblem } from '../contract/json-limits.ts';
import { managementError } from '../contract/management-errors.ts';
import { jsonBodyParser, refuseNulInUrl } from '../http/json-body.ts';
import { requestLogger } from '../http/logging.ts';
import { securityHeaders } from '../http/security-headers.ts';
import type { Readiness } from '../http/readiness.ts';
import { rememberMountPath, type BridgeMetrics } from '../metrics/bridge-metrics.ts';
import type { Conversations } from '../local-org/conversations.ts';
import type { RoutingViews } from '../local-org/routing-views.ts';
import type { Db } from '../store/database.ts';
import { channelRoutes } from './channel-routes.ts';
import { managementErrorHandler, managementNotFound } from './error-responses.ts';
import { connectedAppRoutes } from './connected-app-routes.ts';
import { attachmentRoutes } from './attachment-routes.ts';
import { conversationRoutes } from './conversation-routes.ts';
import { orgRoutes } from './org-routes.ts';
import { buildOpenApiDocument } from './openapi/openapi-document.ts';
import { managementOperations } from './openapi/management-operations.ts';
import { webPages } from './web-pages.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';

const PACKAGE_VERSION = (
  JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
).version;

export interface ManagementAppDeps {
  logger: Logger;
  adminKey: string;
  db: Db;
  /** Told when a connected app's tokens are revoked, so the cache of recent tokens forgets them. */
  tokens: Pick<AccessTokens, 'forgetConsumerKey'>;
  orgId: string;
  conversations: Conversations;
  routingViews: RoutingViews;
  attachmentRecords: AttachmentRecords;
  attachmentStorage: AttachmentStorage;
  describe: () => Record<string, unknown>;
  metrics: BridgeMetrics;
  /** Further `/api` routes (agent side, webhooks, deliveries, event stream), mounted after auth. */
  routers?: Router[];
  /** `GET /api/ready` for an orchestrator that probes the private port; `Connection: close` while draining. */
  readiness: Readiness;
}

/**
 * The management API (port 7080): health, readiness, metrics, the OpenAPI document and the pages without
 * auth, everything else with `Authorization: Bearer <admin key>`.
 */
export function createManagementApp(deps: ManagementAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(deps.metrics.httpMiddleware('management'));
  app.use(deps.readiness.closeWhenDraining);
  app.get('/api/ready', deps.readiness.probe);
  app.use(requestLogger(deps.logger, 'management'));
  app.use(
    securityHeaders({
      contentSecurityPolicy: {
        directives: {
          // The console shows attachment previews from blob: URLs (fetched with the admin key, which an <img> cannot send).
          'img-src': ["'self'", 'data:', 'blob:'],
          // The port serves plain HTTP on loopback by default; upgrading its requests to HTTPS would break the pages.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  app.use(refuseNulInUrl(() => managementError('invalid_request', 'The URL holds a NUL character (%00), which is not accepted.')));
  app.use(
    jsonBodyParser(1024 * 1024, (problem) => managementError('invalid_request', describeJsonLimitProblem(problem, 'The request body'))),
  );

  app.get('/api/health', async (_req, res) => {
    await deps.db.selectFrom('orgs').select('org_id').limit(1).execute();
    res.json({ status: 'ok' });
  });

  const openApi = JSON.stringify(buildOpenApiDocument(managementOperations, { version: PACKAGE_VERSION }));
  app.get('/api/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });

  // Open like /api/health: counts and route templates only, no identifiers or content (docs/metrics.md).
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.use('/api', rememberMountPath);
  app.use('/api', (req, _res, next) => {
    const presented = bearerTokenOf(req.get('authorization'));
    if (!presented || !adminKeyMatches(deps.adminKey, presented)) {
      next(managementError('unauthorized', 'The management API needs "Authorization: Bearer <admin key>" (see `npm run -s admin-key`).'));
    } else next();
  });

  app.use('/api', orgRoutes(deps));
  app.use('/api', conversationRoutes(deps));
  app.use('/api', connectedAppRoutes(deps));
  app.use('/api', channelRoutes(deps));
  app.use('/api', attachmentRoutes(deps));
  for (const router of deps.routers ?? []) app.use('/api', router);

  app.use(webPages());
  app.use(managementNotFound);
  app.use(managementErrorHandler);
  return app;
}
