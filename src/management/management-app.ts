import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { adminKeyMatches } from '../auth/admin-key.ts';
import { ApiError, notFound } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import { errorHandler, notFoundHandler } from '../http/error-handler.ts';
import { requestLogger } from '../http/logging.ts';
import type { Conversations } from '../local-org/conversations.ts';
import type { Db } from '../store/database.ts';

export interface ManagementAppDeps {
  logger: Logger;
  adminKey: string;
  db: Db;
  orgId: string;
  conversations: Conversations;
  describe: () => Record<string, unknown>;
}

/** The management API (port 7080): health without auth, everything else with `Authorization: Bearer <admin key>`. */
export function createManagementApp(deps: ManagementAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(deps.logger, 'management'));
  app.use(helmet());
  app.use(express.json({ limit: '1mb' }));

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

  app.get('/api/org', async (_req, res) => {
    const [channels, users, apps] = await Promise.all([
      deps.db.selectFrom('channels').selectAll().where('org_id', '=', deps.orgId).execute(),
      deps.db.selectFrom('users').select(['user_id', 'username', 'display_name']).where('org_id', '=', deps.orgId).execute(),
      deps.db.selectFrom('connected_apps').select(['consumer_key', 'scopes', 'active']).where('org_id', '=', deps.orgId).execute(),
    ]);
    res.json({
      ...deps.describe(),
      orgId: deps.orgId,
      users: users.map((u) => ({ userId: u.user_id, username: u.username, name: u.display_name })),
      connectedApps: apps.map((a) => ({ consumerKey: a.consumer_key, scopes: a.scopes, active: Boolean(a.active) })),
      channels: channels.map((c) => ({
        channelAddressIdentifier: c.channel_address_identifier,
        authorizationContext: c.authorization_context,
        channelType: c.channel_type,
        routingOwner: c.routing_owner,
        consentOwner: c.consent_owner,
        active: Boolean(c.active),
      })),
    });
  });

  app.get('/api/conversations', async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1000);
    res.json({ conversations: await deps.conversations.list(deps.orgId, { limit }) });
  });

  app.get('/api/conversations/:conversationIdentifier', async (req, res) => {
    const conversation = await deps.conversations.get(req.params.conversationIdentifier);
    if (!conversation) throw notFound(ErrorCode.InvalidConversationIdentifier, `No conversation "${req.params.conversationIdentifier}".`);
    res.json(conversation);
  });

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
