import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccessTokens } from '../auth/access-tokens.ts';
import { bearerTokenOf } from '../auth/bearer-token.ts';
import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall, CrmPort } from '../crm/crm-port.ts';
import { hasSalesforceIdShape, hasValidChecksum, KeyPrefix, sameSalesforceId } from '../contract/salesforce-ids.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REQUIRED_SCOPE = 'interaction_api';

/** The caller of an /api/v1 operation, as established by the guard. */
export function callOf(res: Response): CrmCall {
  const call = res.locals.call as CrmCall | undefined;
  if (!call) throw new Error('interaction guard did not run before this handler');
  return call;
}

/**
 * Every /api/v1 call passes here first: bearer token, scope, OrgId, AuthorizationContext and RequestId.
 * Express reads header names case-insensitively, as HTTP requires.
 */
export function interactionGuard(deps: {
  tokens: AccessTokens;
  crm: Pick<CrmPort<unknown>, 'checkAuthorizationContext'>;
  defaultAuthorizationContext?: string;
}): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = bearerTokenOf(req.get('authorization'));
      if (!token) throw apiError('MissingBearerToken');

      const orgId = requiredHeader(req, 'OrgId');
      const authorizationContext =
        req.get('AuthorizationContext')?.trim() || deps.defaultAuthorizationContext || requiredHeader(req, 'AuthorizationContext');
      const requestId = requiredHeader(req, 'RequestId');
      if (!UUID.test(requestId)) throw apiError('InvalidRequestIdHeader', { value: requestId });
      if (!hasSalesforceIdShape(orgId, KeyPrefix.Org) || !hasValidChecksum(orgId)) {
        throw apiError('InvalidOrgIdHeader', { value: orgId });
      }

      const grant = await deps.tokens.resolve(token);
      if (!grant) throw apiError('InvalidAccessToken');
      if (!grant.scope.split(/\s+/).includes(REQUIRED_SCOPE)) {
        throw apiError('MissingInteractionScope', { scope: REQUIRED_SCOPE });
      }
      if (!sameSalesforceId(orgId, grant.orgId)) {
        throw apiError('TokenOfAnotherOrg', { orgId });
      }
      const call: CrmCall = {
        orgId: grant.orgId,
        userId: grant.userId,
        consumerKey: grant.consumerKey,
        authorizationContext,
        requestId,
      };
      await deps.crm.checkAuthorizationContext(call);
      res.locals.call = call;
      next();
    } catch (err) {
      next(err);
    }
  };
}

function requiredHeader(req: Request, name: string): string {
  const value = req.get(name)?.trim();
  if (!value) throw apiError('MissingHeader', { header: name });
  return value;
}
