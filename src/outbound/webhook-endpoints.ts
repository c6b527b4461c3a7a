import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Db } from '../store/database.ts';
import type { WebhookDeliveryTable, WebhookEndpointTable } from '../store/tables.ts';

export interface NewEndpoint {
  url: string;
  eventTypes?: string[];
  channelAddressIdentifier?: string;
  secret?: string;
  description?: string;
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The partner's webhook endpoints and the delivery records of each event to each of them. */
export class WebhookEndpoints {
  constructor(private readonly db: Db) {}

  async create(input: NewEndpoint) {
    const row = {
      endpoint_id: `ep_${randomUUID()}`,
      url: input.url,
      secret: input.secret ?? generateSigningSecret(),
      event_types: input.eventTypes?.length ? JSON.stringify(input.eventTypes) : null,
      channel_address_identifier: input.channelAddressIdentifier ?? null,
      description: input.description ?? null,
      created_at: Date.now(),
    };
    await this.db.insertInto('webhook_endpoints').values(row).execute();
    return toEndpoint(row);
  }

  async list() {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at', 'asc').execute();
    return rows.map(toEndpoint);
  }

  async get(id: string) {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('endpoint_id', '=', id).executeTakeFirst();
    return row && toEndpoint(row);
  }

  /** Gives the endpoint a new signing secret; undefined when there is no such endpoint. */
  async rotateSecret(id: string, secret = generateSigningSecret()) {
    const result = await this.db.updateTable('webhook_endpoints').set({ secret }).where('endpoint_id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0 ? this.get(id) : undefined;
  }

  /** Removes the endpoint and its delivery records; false when there was none. */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      const result = await trx.deleteFrom('webhook_endpoints').where('endpoint_id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async listDeliveries(filter: { status?: DeliveryStatus; endpointId?: string; eventId?: string; limit: number }) {
    let query = this.db.selectFrom('webhook_deliveries').selectAll().orderBy('event_sequence', 'desc').limit(filter.limit);
    // The status as a literal (one of three): the pending and dead ones have partial indexes, which the
    // databases use only when they see the status in the query's text.
    if (filter.status) query = query.where('status', '=', sql.lit(DELIVERY_STATUSES.find((s) => s === filter.status)!));
    if (filter.endpointId) query = query.where('endpoint_id', '=', filter.endpointId);
    // Through the event's sequence, which the deliveries are indexed by (an event has one).
    if (filter.eventId) {
      const eventId = filter.eventId;
      query = query.where('event_sequence', '=', (eb) =>
        eb.selectFrom('normalized_events').select('sequence').where('event_id', '=', eventId),
      );
    }
    return (await query.execute()).map(toDelivery);
  }

  async getDelivery(id: string) {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('delivery_id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  /** Puts a dead-lettered delivery back in line with a fresh retry schedule; false when it is not dead. */
  async retry(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: Date.now() })
      .where('delivery_id', '=', id)
      .where('status', '=', 'dead')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

function toEndpoint(r: Selectable<WebhookEndpointTable>) {
  return {
    id: r.endpoint_id,
    url: r.url,
    eventTypes: r.event_types ? (JSON.parse(r.event_types) as string[]) : null,
    channelAddressIdentifier: r.channel_address_identifier,
    description: r.description,
    secret: r.secret,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toDelivery(r: Selectable<WebhookDeliveryTable>) {
  return {
    id: r.delivery_id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    lastAttemptAt: iso(r.last_attempt_at),
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    deliveredAt: iso(r.delivered_at),
    createdAt: iso(r.created_at),
  };
}
