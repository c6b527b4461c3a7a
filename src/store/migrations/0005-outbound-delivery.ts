import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.ts';

/**
 * The outbound side: the subscriber's replay checkpoint, the normalized events it stored, the events it
 * parked as malformed, the partner's webhook endpoints and one delivery record per event and endpoint.
 */
export function outboundDelivery(dialect: Dialect): Migration {
  const autoIncrementKey = sql.raw(dialect === 'postgres' ? 'bigserial' : 'integer') as any;
  const identity = (c: any) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('subscriber_checkpoints')
        .addColumn('topic_name', 'text', (c) => c.primaryKey())
        .addColumn('replay_id', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('normalized_events')
        .addColumn('sequence', autoIncrementKey, identity)
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('topic_name', 'text', (c) => c.notNull())
        .addColumn('replay_id', 'bigint', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('channel_address_identifier', 'text', (c) => c.notNull())
        .addColumn('ordering_key', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('parked_events')
        .addColumn('sequence', autoIncrementKey, identity)
        .addColumn('topic_name', 'text', (c) => c.notNull())
        .addColumn('replay_id', 'bigint', (c) => c.notNull())
        .addColumn('event_id', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('raw', 'text', (c) => c.notNull())
        .addColumn('parked_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('parked_events_topic_replay', ['topic_name', 'replay_id'])
        .execute();
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('endpoint_id', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('event_types', 'text')
        .addColumn('channel_address_identifier', 'text')
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('delivery_id', 'text', (c) => c.primaryKey())
        .addColumn('event_sequence', 'bigint', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('ordering_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_attempt_at', 'bigint')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('webhook_deliveries_event_endpoint', ['event_id', 'endpoint_id'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_pending_order')
        .on('webhook_deliveries')
        .columns(['status', 'event_sequence'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_line')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'ordering_key', 'status', 'event_sequence'])
        .execute();
    },
  };
}
