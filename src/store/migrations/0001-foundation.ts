import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.ts';

/** Org, connected apps, users, channels, access tokens, conversations and entries, idempotency keys. */
export function foundation(dialect: Dialect): Migration {
  const autoIncrementKey = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('orgs')
        .addColumn('org_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('connected_apps')
        .addColumn('consumer_key', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.org_id'))
        .addColumn('certificate_pem', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.org_id'))
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('channels')
        .addColumn('channel_address_identifier', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.org_id'))
        .addColumn('authorization_context', 'text', (c) => c.notNull())
        .addColumn('channel_type', 'text', (c) => c.notNull())
        .addColumn('routing_owner', 'text', (c) => c.notNull())
        .addColumn('consent_owner', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('access_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('consumer_key', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('access_tokens_expires_at').on('access_tokens').column('expires_at').execute();
      await db.schema
        .createTable('conversations')
        .addColumn('conversation_identifier', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('channel_address_identifier', 'text', (c) => c.notNull())
        .addColumn('end_user_client_identifier', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('conversations_channel_end_user', ['org_id', 'channel_address_identifier', 'end_user_client_identifier'])
        .execute();
      await db.schema
        .createTable('conversation_entries')
        .addColumn('sequence', sql.raw(autoIncrementKey) as any, (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('conversation_identifier', 'text', (c) => c.notNull().references('conversations.conversation_identifier'))
        .addColumn('entry_id', 'text', (c) => c.notNull())
        .addColumn('entry_type', 'text', (c) => c.notNull())
        .addColumn('sender_role', 'text', (c) => c.notNull())
        .addColumn('sender_subject', 'text', (c) => c.notNull())
        .addColumn('client_timestamp', 'bigint')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('routing_attributes', 'text')
        .addColumn('request_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('conversation_entries_by_conversation')
        .on('conversation_entries')
        .columns(['conversation_identifier', 'sequence'])
        .execute();
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('idempotency_keys_by_request_id').on('idempotency_keys').columns(['request_id', 'operation']).execute();
      await db.schema.createIndex('idempotency_keys_expires_at').on('idempotency_keys').column('expires_at').execute();
    },
  };
}
