import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccessTokens } from '../auth/access-tokens.ts';
import { badRequest, forbidden, unauthorized } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import { hasValidSalesforceIdChecksum } from '../contract/salesforce-id-checksum.ts';
import type { CrmCall, CrmPort } from '../crm/crm-port.ts';
import { sameSalesforceId } from '../local-org/salesforce-ids.ts';

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
export function interactionGuard(deps: { tokens: AccessTokens; crm: CrmPort; defaultAuthorizationContext?: string }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!token) throw unauthorized(ErrorCode.InvalidAccessToken, 'An "Authorization: Bearer <access token>" header is required.');

      const orgId = requiredHeader(req, 'OrgId');
      const authorizationContext =
        req.get('AuthorizationContext')?.trim() || deps.defaultAuthorizationContext || requiredHeader(req, 'AuthorizationContext');
      const requestId = requiredHeader(req, 'RequestId');
      if (!UUID.test(requestId)) throw badRequest(ErrorCode.InvalidHeader, `The RequestId header must be a UUID; got "${requestId}".`);
      if (!/^00D[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/.test(orgId) || !hasValidSalesforceIdChecksum(orgId)) {
        throw badRequest(
          ErrorCode.InvalidHeader,
          `The OrgId header must be a 15 or 18 character org id starting with 00D (an 18-character one with its checksum); got "${orgId}".`,
        );
      }

      const grant = await deps.tokens.resolve(token);
      if (!grant) throw unauthorized(ErrorCode.InvalidAccessToken, 'The access token is not valid: unknown, revoked or expired.');
      if (!grant.scope.split(/\s+/).includes(REQUIRED_SCOPE)) {
        throw forbidden(ErrorCode.MissingInteractionScope, `The access token lacks the ${REQUIRED_SCOPE} scope.`);
      }
      if (!sameSalesforceId(orgId, grant.orgId)) {
        throw unauthorized(ErrorCode.InvalidAccessToken, `The access token was not issued for org ${orgId}.`);
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
  if (!value) throw badRequest(ErrorCode.InvalidHeader, `The ${name} header is required.`);
  return value;
}
