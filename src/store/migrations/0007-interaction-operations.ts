import type { Kysely, Migration } from 'kysely';

/**
 * State of the Interaction API operations beyond messages and routing: a channel definition's registered
 * structured-content capabilities (PATCH /capabilities) and the end user's delivery and read receipts
 * (POST /acknowledgement), each receipt stored once under the id its client gave it; a conversation's
 * participants, who join (POST /conversation) and leave (POST /participant); the routing attributes a
 * conversation was established with.
 */
export function interactionOperations(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('channel_capabilities')
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('authorization_context', 'text', (c) => c.notNull())
        .addColumn('app_type', 'text', (c) => c.notNull())
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('channel_capabilities_pk', ['org_id', 'authorization_context'])
        .execute();
      await db.schema
        .createTable('entry_acknowledgements')
        .addColumn('conversation_identifier', 'text', (c) => c.notNull().references('conversations.conversation_identifier'))
        .addColumn('acknowledgement_entry_id', 'text', (c) => c.notNull())
        .addColumn('acknowledged_entry_id', 'text', (c) => c.notNull())
        .addColumn('acknowledgement_type', 'text', (c) => c.notNull())
        .addColumn('acknowledged_at', 'bigint', (c) => c.notNull())
        .addColumn('sender_role', 'text', (c) => c.notNull())
        .addColumn('sender_subject', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('entry_acknowledgements_pk', ['conversation_identifier', 'acknowledgement_entry_id'])
        .execute();
      await db.schema
        .createTable('conversation_participants')
        .addColumn('conversation_identifier', 'text', (c) => c.notNull().references('conversations.conversation_identifier'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('app_type', 'text', (c) => c.notNull())
        .addColumn('joined_at', 'bigint', (c) => c.notNull())
        .addColumn('left_at', 'bigint')
        .addColumn('request_id', 'text')
        .addPrimaryKeyConstraint('conversation_participants_pk', ['conversation_identifier', 'role', 'subject'])
        .execute();
      await db.schema.alterTable('conversations').addColumn('routing_attributes', 'text').execute();
    },
  };
}
