import type { CapabilitiesRequest } from '../contract/capabilities-request.ts';
import type { CrmCall, CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import type { Tx } from '../store/transactions.ts';

/**
 * `PATCH /capabilities` in the local org: the request names no channel, so the capabilities belong to the
 * channel definition its AuthorizationContext names (the guard has checked it is one of the org's), and so
 * to every channel configured with it. A later registration replaces the earlier one.
 */
export async function registerCapabilities(tx: Tx, call: CrmCall, request: CapabilitiesRequest): Promise<CrmResponse> {
  const values = {
    app_type: request.appType,
    capabilities: JSON.stringify(request.channelCapabilities),
    request_id: call.requestId,
    updated_at: Date.now(),
  };
  await tx
    .insertInto('channel_capabilities')
    .values({ org_id: call.orgId, authorization_context: call.authorizationContext, ...values })
    .onConflict((oc) => oc.columns(['org_id', 'authorization_context']).doUpdateSet(values))
    .execute();
  return { status: 200, body: { success: true } };
}

/** Registered capabilities by AuthorizationContext, for the management API. */
export async function capabilitiesByContext(db: Db, orgId: string) {
  const rows = await db.selectFrom('channel_capabilities').selectAll().where('org_id', '=', orgId).execute();
  return new Map(
    rows.map((r) => [
      r.authorization_context,
      {
        appType: r.app_type,
        channelCapabilities: JSON.parse(r.capabilities) as unknown,
        registeredAt: new Date(r.updated_at).toISOString(),
      },
    ]),
  );
}
