import express, { type ErrorRequestHandler, type Router } from 'express';
import { closeAfterAnswer } from '../http/close-after-answer.ts';
import type { AccessTokens } from './access-tokens.ts';
import { OAuthError, verifyJwtBearerAssertion, type AssertionPolicy } from './jwt-bearer-grant.ts';
import { bearerTokenOf } from './bearer-token.ts';
import type { Db } from '../store/database.ts';

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface TokenEndpointDeps {
  db: Db;
  tokens: AccessTokens;
  policy: AssertionPolicy;
  publicBaseUrl: string;
}

/** `POST /services/oauth2/token` (JWT bearer grant) and `GET /services/oauth2/userinfo`. */
export function tokenEndpointRouter(deps: TokenEndpointDeps): Router {
  const router = express.Router();
  const identityUrl = (orgId: string, userId: string) => `${deps.publicBaseUrl}/id/${orgId}/${userId}`;

  router.post('/services/oauth2/token', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (body.grant_type !== JWT_BEARER_GRANT) {
        throw new OAuthError('unsupported_grant_type', `Only grant_type=${JWT_BEARER_GRANT} is supported.`);
      }
      if (typeof body.assertion !== 'string' || body.assertion === '') {
        throw new OAuthError('invalid_request', 'The assertion parameter is required.');
      }
      const verified = await verifyJwtBearerAssertion(deps.db, body.assertion, deps.policy);
      const issued = await deps.tokens.issue({
        orgId: verified.orgId,
        userId: verified.userId,
        consumerKey: verified.consumerKey,
        scope: verified.scopes,
      });
      req.log.info({ consumerKey: verified.consumerKey, userId: verified.userId }, 'access token issued');
      res.status(200).json({
        access_token: issued.token,
        scope: issued.scope,
        instance_url: deps.publicBaseUrl,
        id: identityUrl(issued.orgId, issued.userId),
        token_type: 'Bearer',
        issued_at: String(issued.issuedAt),
      });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      req.log.warn({ error: err.error, reason: err.description }, 'token request refused');
      res.status(err.status).json({ error: err.error, error_description: err.description });
    }
  });

  router.get('/services/oauth2/userinfo', async (req, res) => {
    const token = bearerTokenOf(req.get('authorization'));
    const grant = token ? await deps.tokens.resolve(token) : undefined;
    if (!grant) {
      res.status(401).json({ error: 'invalid_token', error_description: 'The access token is missing, unknown or expired.' });
      return;
    }
    const user = await deps.db.selectFrom('users').selectAll().where('user_id', '=', grant.userId).executeTakeFirst();
    res.json({
      sub: identityUrl(grant.orgId, grant.userId),
      user_id: grant.userId,
      organization_id: grant.orgId,
      preferred_username: user?.username ?? null,
      name: user?.display_name ?? null,
      active: true,
      urls: { rest: `${deps.publicBaseUrl}/services/data/v60.0/` },
    });
  });

  // What fails before the handler (a body over the limit, an unsupported charset or encoding, a
  // malformed body) is answered in OAuth's shape too, as a client of this endpoint expects.
  const oauthShape: ErrorRequestHandler = (err: unknown, req, res, next) => {
    const e = err as { status?: unknown; type?: unknown };
    if (typeof e.status !== 'number' || e.status >= 500) {
      next(err);
      return;
    }
    const description =
      e.type === 'entity.too.large'
        ? 'The request body is larger than the token endpoint accepts (64 KB).'
        : e.type === 'charset.unsupported' || e.type === 'encoding.unsupported'
          ? 'The request body must be application/x-www-form-urlencoded in UTF-8, without a content encoding other than gzip or deflate.'
          : 'The request body cannot be read as application/x-www-form-urlencoded.';
    req.log.warn({ reason: description }, 'token request refused');
    if (!req.complete) closeAfterAnswer(req, res);
    res.status(400).set('Cache-Control', 'no-store').json({ error: 'invalid_request', error_description: description });
  };
  router.use('/services/oauth2', oauthShape);
  return router;
}
