import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.ts';

/** The local org's outbound event log: what its Pub/Sub server publishes, the sequence being the replay id. */
export function outboundEventLog(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('outbound_events')
        .addColumn('sequence', sql.raw(dialect === 'postgres' ? 'bigserial' : 'integer') as any, (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('event_uuid', 'text', (c) => c.notNull().unique())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('channel_address_identifier', 'text', (c) => c.notNull())
        .addColumn('conversation_identifier', 'text')
        .addColumn('shape', 'text', (c) => c.notNull())
        .addColumn('fields', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('outbound_events_created_at').on('outbound_events').column('created_at').execute();
    },
  };
}
