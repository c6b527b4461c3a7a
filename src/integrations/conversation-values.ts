import type { Db } from '../store/database.ts';
import type { Tx } from '../store/transactions.ts';

/** Scopes of the values integrations put on a conversation. */
export type ValueScope = 'routingAttribute' | 'agentData' | 'routing' | 'saved';

export interface ConversationValue {
  scope: ValueScope;
  name: string;
  value: unknown;
  integrationId: string;
}

/**
 * The values integrations took from their answers and put on a conversation: `response.set` routing
 * attributes (read by routing), data for the agent and the queue to route to, and `response.save` values
 * kept on the conversation's record. The latest write of a name wins.
 */
export class ConversationValues {
  constructor(private readonly db: Db) {}

  async write(tx: Tx, conversationIdentifier: string, values: ConversationValue[]): Promise<void> {
    const now = Date.now();
    for (const v of values) {
      const row = {
        conversation_identifier: conversationIdentifier,
        scope: v.scope,
        name: v.name,
        value: JSON.stringify(v.value ?? null),
        integration_id: v.integrationId,
        updated_at: now,
      };
      await tx
        .insertInto('conversation_integration_values')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['conversation_identifier', 'scope', 'name'])
            .doUpdateSet({ value: row.value, integration_id: v.integrationId, updated_at: now }),
        )
        .execute();
    }
  }

  async read(conversationIdentifier: string, tx: Tx | Db = this.db) {
    const rows = await tx
      .selectFrom('conversation_integration_values')
      .selectAll()
      .where('conversation_identifier', '=', conversationIdentifier)
      .orderBy('name')
      .execute();
    const of = (scope: ValueScope) =>
      Object.fromEntries(rows.filter((r) => r.scope === scope).map((r) => [r.name, JSON.parse(r.value) as unknown]));
    return { routingAttributes: of('routingAttribute'), agentData: of('agentData'), routing: of('routing'), saved: of('saved') };
  }

  /** What routing reads: integration-set routing attributes (as strings) and the queue an integration chose, if any. */
  async steering(tx: Tx, conversationIdentifier: string): Promise<{ routingAttributes: Record<string, string>; queueId?: string }> {
    const values = await this.read(conversationIdentifier, tx);
    const routingAttributes = Object.fromEntries(
      Object.entries(values.routingAttributes).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
    const queueId = values.routing.queueId;
    return { routingAttributes, ...(typeof queueId === 'string' ? { queueId } : {}) };
  }
}
