import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.ts';

/**
 * The local org's routing model: queues, flows, agent users, each channel's routing settings, messaging
 * sessions (work items), pending service routings, agent work, routing results and end-user consent.
 *
 * "At most one open X" rules are unique constraints on an `open_key` column that holds the owner's key
 * while the row is open and NULL once it is closed (both dialects let NULLs repeat in a unique column),
 * so they hold across processes sharing one database, not just within one.
 */
export function routing(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('users')
        .addColumn('is_agent', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('channels').addColumn('routing_queue_id', 'text').execute();
      await db.schema.alterTable('channels').addColumn('routing_flow_id', 'text').execute();
      await db.schema
        .alterTable('channels')
        .addColumn('routing_attribute_max_length', 'integer', (c) => c.notNull().defaultTo(255))
        .execute();

      await db.schema
        .createTable('queues')
        .addColumn('queue_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.org_id'))
        .addColumn('developer_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('flows')
        .addColumn('flow_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.org_id'))
        .addColumn('api_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('messaging_sessions')
        .addColumn('session_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('conversation_identifier', 'text', (c) => c.notNull().references('conversations.conversation_identifier'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('open_key', 'text', (c) => c.unique())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('messaging_sessions_by_conversation')
        .on('messaging_sessions')
        .columns(['conversation_identifier', 'opened_at'])
        .execute();

      await db.schema
        .createTable('pending_service_routings')
        .addColumn('psr_id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().references('messaging_sessions.session_id'))
        .addColumn('routing_type', 'text', (c) => c.notNull())
        .addColumn('routing_method', 'text', (c) => c.notNull())
        .addColumn('queue_id', 'text')
        .addColumn('flow_id', 'text')
        .addColumn('routing_attributes', 'text')
        .addColumn('routing_correlation_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('open_key', 'text', (c) => c.unique())
        .addColumn('cancel_reason', 'text')
        .addColumn('request_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('closed_at', 'bigint')
        .execute();
      await db.schema.createIndex('psr_by_session').on('pending_service_routings').columns(['session_id', 'created_at']).execute();

      await db.schema
        .createTable('agent_work')
        .addColumn('work_id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().references('messaging_sessions.session_id'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id'))
        .addColumn('psr_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('active_key', 'text', (c) => c.unique())
        .addColumn('capacity_percentage', 'text')
        .addColumn('capacity_weight', 'text')
        .addColumn('routing_type', 'text', (c) => c.notNull())
        .addColumn('routing_correlation_id', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('closed_at', 'bigint')
        .execute();
      await db.schema.createIndex('agent_work_by_session').on('agent_work').columns(['session_id', 'created_at']).execute();

      await db.schema
        .createTable('routing_results')
        .addColumn('result_id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().references('messaging_sessions.session_id'))
        .addColumn('psr_id', 'text')
        .addColumn('routing_type', 'text', (c) => c.notNull())
        .addColumn('success', 'integer', (c) => c.notNull())
        .addColumn('externally_routed', 'integer', (c) => c.notNull())
        .addColumn('error_message', 'text')
        .addColumn('request_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('routing_results_by_session').on('routing_results').columns(['session_id', 'created_at']).execute();

      await db.schema
        .createTable('end_user_consents')
        .addColumn('channel_address_identifier', 'text', (c) => c.notNull())
        .addColumn('end_user_client_identifier', 'text', (c) => c.notNull())
        .addColumn('consent_status', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('end_user_consents_pk', ['channel_address_identifier', 'end_user_client_identifier'])
        .execute();
    },
  };
}
