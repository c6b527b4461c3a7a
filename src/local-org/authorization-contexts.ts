import { apiError } from '../contract/interaction-errors.ts';
import type { CrmCall } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';

/**
 * The guard's question to the local org, asked before the request's transaction is opened: does the
 * AuthorizationContext name a conversation channel definition of the caller's org?
 */
export class AuthorizationContexts {
  constructor(private readonly db: Db) {}

  async check(call: CrmCall): Promise<void> {
    const channel = await this.db
      .selectFrom('channels')
      .select('channel_address_identifier')
      .where('org_id', '=', call.orgId)
      .where('authorization_context', '=', call.authorizationContext)
      .executeTakeFirst();
    if (!channel) {
      throw apiError('ContextNotValidForToken', { authorizationContext: call.authorizationContext, orgId: call.orgId });
    }
  }
}
