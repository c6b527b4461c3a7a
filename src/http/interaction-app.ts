import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import type { AccessTokens } from '../auth/access-tokens.ts';
import { tokenEndpointRouter, type TokenEndpointDeps } from '../auth/token-endpoint.ts';
import type { InteractionUpload } from '../attachments/interaction-upload.ts';
import { apiError } from '../contract/interaction-errors.ts';
import { jsonLimitRefusal } from '../contract/json-limits.ts';
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
import { jsonBodyParser, refuseNulInUrl } from './json-body.ts';
import { requestLogger } from './logging.ts';
import { securityHeaders } from './security-headers.ts';
import { rememberMountPath, type BridgeMetrics } from '../metrics/bridge-metrics.ts';
import type { Readiness } from './readiness.ts';

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
  metrics: BridgeMetrics;
  /** Local org: the Salesforce REST and SOAP endpoints integrations call on start (`/services/data`, `/services/Soap`). */
  orgRouters?: Router[];
  /** `GET /readyz` for the load balancer in front of this port, and `Connection: close` while draining. */
  readiness: Readiness;
}

/** The public server (port 8085): the OAuth endpoints, the Interaction API under /api/v1, and the readiness probe. */
export function createInteractionApp<Scope>(deps: InteractionAppDeps<Scope>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(deps.metrics.httpMiddleware('interaction-api'));
  app.use(deps.readiness.closeWhenDraining);
  // Before the request log: a balancer probes every few seconds, and that is not news.
  app.get('/readyz', deps.readiness.probe);
  app.use(requestLogger(deps.logger, 'interaction-api'));
  app.use(securityHeaders());
  app.use(refuseNulInUrl(() => apiError('NulInInput', { where: 'The URL' })));

  const api = express.Router();
  api.use(interactionGuard({ tokens: deps.tokens, crm: deps.crm, defaultAuthorizationContext: deps.defaultAuthorizationContext }));
  api.use(jsonBodyParser(deps.jsonBodyLimitBytes, (problem) => jsonLimitRefusal(problem, 'The request body')));
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
  app.use('/api/v1', rememberMountPath, api);
  // After the Interaction API, whose calls are most of the traffic: they need not walk these routers' routes.
  app.use(tokenEndpointRouter(deps.tokenEndpoint));
  for (const router of deps.orgRouters ?? []) app.use(router);

  app.use(interactionNotFound);
  app.use(interactionErrorHandler);
  return app;
}
