import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { AccessTokens } from '../auth/access-tokens.ts';
import { tokenEndpointRouter, type TokenEndpointDeps } from '../auth/token-endpoint.ts';
import type { InteractionUpload } from '../attachments/interaction-upload.ts';
import type { CrmPort } from '../crm/crm-port.ts';
import { agentWorkRoutes } from '../interaction-api/agent-work.ts';
import { consentRoutes } from '../interaction-api/consent.ts';
import { interactionsRoute } from '../interaction-api/interactions.ts';
import { routeRoutes } from '../interaction-api/route.ts';
import { routingResultRoutes } from '../interaction-api/routing-result.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import type { Idempotency } from './idempotency.ts';
import { interactionGuard } from './interaction-guard.ts';
import { jsonBodyParser, refuseNulInUrl } from './json-body.ts';
import { requestLogger } from './logging.ts';

export interface InteractionAppDeps {
  logger: Logger;
  tokens: AccessTokens;
  tokenEndpoint: TokenEndpointDeps;
  crm: CrmPort;
  idempotency: Idempotency;
  jsonBodyLimitBytes: number;
  upload: InteractionUpload;
  /** Bridge mode: the AuthorizationContext used when a partner sends none (SF_AUTHORIZATION_CONTEXT). */
  defaultAuthorizationContext?: string;
}

/** The public server (port 8085): the OAuth endpoints and the Interaction API under /api/v1. */
export function createInteractionApp(deps: InteractionAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestLogger(deps.logger, 'interaction-api'));
  app.use(helmet());
  app.use(refuseNulInUrl);

  app.use(tokenEndpointRouter(deps.tokenEndpoint));

  const api = express.Router();
  api.use(interactionGuard({ tokens: deps.tokens, crm: deps.crm, defaultAuthorizationContext: deps.defaultAuthorizationContext }));
  api.use(jsonBodyParser(deps.jsonBodyLimitBytes));
  api.use(interactionsRoute({ crm: deps.crm, idempotency: deps.idempotency, upload: deps.upload }));
  api.use(routeRoutes(deps));
  api.use(routingResultRoutes(deps));
  api.use(agentWorkRoutes(deps));
  api.use(consentRoutes(deps));
  app.use('/api/v1', api);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
