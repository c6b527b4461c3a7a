import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.ts';

/**
 * Event-driven integrations: their definitions and write-only secrets, the conversation lifecycle events
 * that trigger them, one call record per (event, matching integration) with a log of its attempts, and
 * the values integrations set on a conversation from their answers.
 */
export function integrations(dialect: Dialect): Migration {
  const autoIncrementKey = sql.raw(dialect === 'postgres' ? 'bigserial' : 'integer');
  const identity = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('integrations')
        .addColumn('integration_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('direct_conversations', 'integer', (c) => c.notNull())
        .addColumn('queue_ids', 'text', (c) => c.notNull())
        .addColumn('configuration', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('integration_authentications')
        .addColumn('integration_id', 'text', (c) => c.notNull())
        .addColumn('auth_id', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('integration_authentications_pk', ['integration_id', 'auth_id'])
        .execute();
      await db.schema
        .createTable('lifecycle_events')
        .addColumn('sequence', autoIncrementKey, identity)
        .addColumn('event_key', 'text', (c) => c.notNull().unique())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('conversation_identifier', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('channel_address_identifier', 'text')
        .addColumn('end_user_client_identifier', 'text')
        .addColumn('queue_id', 'text')
        .addColumn('routing_attributes', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('lifecycle_events_conversation')
        .on('lifecycle_events')
        .columns(['conversation_identifier', 'sequence'])
        .execute();
      await db.schema
        .createTable('integration_calls')
        .addColumn('call_id', 'text', (c) => c.primaryKey())
        .addColumn('integration_id', 'text', (c) => c.notNull())
        .addColumn('event_sequence', 'bigint', (c) => c.notNull())
        .addColumn('conversation_identifier', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('integration_calls_event_integration', ['event_sequence', 'integration_id'])
        .execute();
      await db.schema.createIndex('integration_calls_due').on('integration_calls').columns(['status', 'next_attempt_at']).execute();
      await db.schema
        .createTable('integration_call_attempts')
        .addColumn('sequence', autoIncrementKey, identity)
        .addColumn('call_id', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('response_excerpt', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('integration_call_attempts_call')
        .on('integration_call_attempts')
        .columns(['call_id', 'sequence'])
        .execute();
      await db.schema
        .createTable('conversation_integration_values')
        .addColumn('conversation_identifier', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('integration_id', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('conversation_integration_values_pk', ['conversation_identifier', 'scope', 'name'])
        .execute();
    },
  };
}
