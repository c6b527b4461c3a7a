import type { CrmCall } from '../crm/crm-port.ts';
import { sha256 } from '../util/sha256.ts';

/**
 * What makes two requests "the same" for idempotency: the caller (org, connected app, user and
 * AuthorizationContext) and the body. The caller belongs in it: replaying another caller's RequestId and
 * body must be judged on its own (e.g. 403 10001 for a channel it may not use), never answered with the
 * first caller's stored answer.
 */
export function requestFingerprint(call: CrmCall, ...bodyParts: string[]): string {
  let text = JSON.stringify([call.orgId, call.consumerKey, call.userId, call.authorizationContext]);
  // The same bytes as hashing the parts one after another: each starts with a line break, so no UTF-16
  // surrogate pair spans two of them.
  for (const part of bodyParts) text += `\n${part}`;
  return sha256(text, 'hex');
}
