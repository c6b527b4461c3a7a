import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { AttachmentRecords } from '../attachments/attachment-records.ts';
import type { AttachmentStorage } from '../attachments/attachment-storage.ts';
import { adminKeyMatches } from '../auth/admin-key.ts';
import { ApiError } from '../contract/api-error.ts';
import { errorHandler, notFoundHandler } from '../http/error-handler.ts';
import { jsonBodyParser, refuseNulInUrl } from '../http/json-body.ts';
import { requestLogger } from '../http/logging.ts';
import type { Conversations } from '../local-org/conversations.ts';
import type { RoutingViews } from '../local-org/routing-views.ts';
import type { Db } from '../store/database.ts';
import { channelRoutes } from './channel-routes.ts';
import { connectedAppRoutes } from './connected-app-routes.ts';
import { attachmentRoutes } from './attachment-routes.ts';
import { conversationRoutes } from './conversation-routes.ts';
import { orgRoutes } from './org-routes.ts';

export interface ManagementAppDeps {
  logger: Logger;
  adminKey: string;
  db: Db;
  orgId: string;
  conversations: Conversations;
  routingViews: RoutingViews;
  attachmentRecords: AttachmentRecords;
  attachmentStorage: AttachmentStorage;
  describe: () => Record<string, unknown>;
  /** Further `/api` routes (agent side, webhooks, deliveries, event stream), mounted after auth. */
  routers?: Router[];
}

/** The management API (port 7080): health without auth, everything else with `Authorization: Bearer <admin key>`. */
export function createManagementApp(deps: ManagementAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(deps.logger, 'management'));
  app.use(helmet());
  app.use(refuseNulInUrl);
  app.use(jsonBodyParser(1024 * 1024));

  app.get('/api/health', async (_req, res) => {
    await deps.db.selectFrom('orgs').select('org_id').limit(1).execute();
    res.json({ status: 'ok' });
  });

  app.use('/api', (req, _res, next) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (!presented || !adminKeyMatches(deps.adminKey, presented)) {
      next(new ApiError(401, 401, 'The management API needs "Authorization: Bearer <admin key>" (see `npm run -s admin-key`).'));
    } else next();
  });

  app.use('/api', orgRoutes(deps));
  app.use('/api', conversationRoutes(deps));
  app.use('/api', connectedAppRoutes(deps));
  app.use('/api', channelRoutes(deps));
  app.use('/api', attachmentRoutes(deps));
  for (const router of deps.routers ?? []) app.use('/api', router);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
