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
import { requestLogger } from './logging.ts';
import type { Readiness } from './readiness.ts';

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
  /** `GET /readyz` for the load balancer in front of this port, and `Connection: close` while draining. */
  readiness: Readiness;
}

/** The public server (port 8085): the OAuth endpoints, the Interaction API under /api/v1, and the readiness probe. */
export function createInteractionApp(deps: InteractionAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(deps.readiness.closeWhenDraining);
  // Before the request log: a balancer probes every few seconds, and that is not news.
  app.get('/readyz', deps.readiness.probe);
  app.use(requestLogger(deps.logger, 'interaction-api'));
  app.use(helmet());

  app.use(tokenEndpointRouter(deps.tokenEndpoint));

  const api = express.Router();
  api.use(interactionGuard({ tokens: deps.tokens, crm: deps.crm, defaultAuthorizationContext: deps.defaultAuthorizationContext }));
  api.use(express.json({ limit: deps.jsonBodyLimitBytes }));
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
