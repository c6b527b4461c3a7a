import type { Kysely, Migration } from 'kysely';

/** Attachments stored in the bucket, one row per file, written with the entry that records it. */
export function attachments(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('attachments')
        .addColumn('attachment_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn('conversation_identifier', 'text', (c) => c.notNull())
        .addColumn('entry_id', 'text', (c) => c.notNull())
        .addColumn('attachment_index', 'integer', (c) => c.notNull())
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('mime_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('attachments_by_conversation')
        .on('attachments')
        .columns(['conversation_identifier', 'entry_id'])
        .execute();
    },
  };
}
