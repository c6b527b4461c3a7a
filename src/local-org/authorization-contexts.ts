import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import { ExpiringCache } from '../util/expiring-cache.ts';

/**
 * A channel's AuthorizationContext changes only when the seed rewrites it at a start; channels are never
 * deleted. A context found valid is trusted this long without asking the store again.
 */
const VALID_CONTEXT_CACHE_MS = 10_000;

/**
 * The guard's question to the local org, asked before the request's transaction is opened: does the
 * AuthorizationContext name a conversation channel definition of the caller's org?
 */
export class AuthorizationContexts {
  /** `orgId AuthorizationContext` pairs found valid; a refusal is not kept, so a new channel counts at once. */
  private readonly valid = new ExpiringCache<string, true>(1_000, VALID_CONTEXT_CACHE_MS);

  constructor(private readonly db: Db) {}

  async check(call: CrmCall): Promise<void> {
    const key = `${call.orgId} ${call.authorizationContext}`;
    if (this.valid.get(key)) return;
    const channel = await this.db
      .selectFrom('channels')
      .select('channel_address_identifier')
      .where('org_id', '=', call.orgId)
      .where('authorization_context', '=', call.authorizationContext)
      .executeTakeFirst();
    if (!channel) {
      throw apiError('ContextNotValidForToken', { authorizationContext: call.authorizationContext, orgId: call.orgId });
    }
    this.valid.set(key, true);
  }
}
