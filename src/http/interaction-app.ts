import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { AccessTokens } from '../auth/access-tokens.ts';
import { tokenEndpointRouter, type TokenEndpointDeps } from '../auth/token-endpoint.ts';
import type { InteractionUpload } from '../attachments/interaction-upload.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import { acknowledgementRoutes } from '../interaction-api/acknowledgement.ts';
import { agentWorkRoutes } from '../interaction-api/agent-work.ts';
import { capabilitiesRoutes } from '../interaction-api/capabilities.ts';
import { consentRoutes } from '../interaction-api/consent.ts';
import { conversationRoutes } from '../interaction-api/conversation.ts';
import { conversationHistoryRoutes } from '../interaction-api/conversation-history.ts';
import { conversationEntryRoutes } from '../interaction-api/conversation-entry.ts';
import { messagingSessionRoutes } from '../interaction-api/messaging-session.ts';
import { participantRoutes } from '../interaction-api/participant.ts';
import { interactionsRoute } from '../interaction-api/interactions.ts';
import { routeRoutes } from '../interaction-api/route.ts';
import { routingResultRoutes } from '../interaction-api/routing-result.ts';
import { interactionErrorHandler, interactionNotFound } from './error-handler.ts';
import type { Idempotency } from './idempotency.ts';
import { interactionGuard } from './interaction-guard.ts';
import { requestLogger } from './logging.ts';
import { keepRawBody } from './raw-body.ts';

export interface InteractionAppDeps<Scope> {
  logger: Logger;
  tokens: AccessTokens;
  tokenEndpoint: TokenEndpointDeps;
  crm: CrmPort<Scope>;
  idempotency: Idempotency<Scope>;
  jsonBodyLimitBytes: number;
  upload: InteractionUpload;
  /** Bridge mode: the AuthorizationContext used when a partner sends none (SF_AUTHORIZATION_CONTEXT). */
  defaultAuthorizationContext?: string;
}

/** The public server (port 8085): the OAuth endpoints and the Interaction API under /api/v1. */
export function createInteractionApp<Scope>(deps: InteractionAppDeps<Scope>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestLogger(deps.logger, 'interaction-api'));
  app.use(helmet());

  app.use(tokenEndpointRouter(deps.tokenEndpoint));

  const api = express.Router();
  api.use(interactionGuard({ tokens: deps.tokens, crm: deps.crm, defaultAuthorizationContext: deps.defaultAuthorizationContext }));
  api.use(express.json({ limit: deps.jsonBodyLimitBytes, verify: keepRawBody }));
  api.use(interactionsRoute({ crm: deps.crm, idempotency: deps.idempotency, upload: deps.upload }));
  api.use(routeRoutes(deps));
  api.use(routingResultRoutes(deps));
  api.use(agentWorkRoutes(deps));
  api.use(consentRoutes(deps));
  api.use(acknowledgementRoutes(deps));
  api.use(capabilitiesRoutes(deps));
  api.use(conversationRoutes(deps));
  api.use(conversationEntryRoutes(deps));
  api.use(conversationHistoryRoutes(deps));
  api.use(participantRoutes(deps));
  api.use(messagingSessionRoutes(deps));
  app.use('/api/v1', api);

  app.use(interactionNotFound);
  app.use(interactionErrorHandler);
  return app;
}
