import { createHash } from 'node:crypto';
import type { CrmCall } from '../crm/crm-port.ts';

/**
 * What makes two requests "the same" for idempotency: the caller (org, connected app, user and
 * AuthorizationContext) and the body. The caller belongs in it: replaying another caller's RequestId and
 * body must be judged on its own (e.g. 403 10001 for a channel it may not use), never answered with the
 * first caller's stored answer.
 */
export function requestFingerprint(call: CrmCall, ...bodyParts: string[]): string {
  const hash = createHash('sha256').update(JSON.stringify([call.orgId, call.consumerKey, call.userId, call.authorizationContext]));
  for (const part of bodyParts) hash.update(`\n${part}`);
  return hash.digest('hex');
}
