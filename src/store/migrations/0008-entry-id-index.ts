import type { Kysely, Migration } from 'kysely';

/**
 * Every inbound message checks that its id is new in its conversation (10073), and acknowledgements find
 * the entry they name: by (conversation, entry id). Without this index that read walked the conversation's
 * entries, so each message cost more than the one before it.
 */
export function entryIdIndex(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('conversation_entries_by_entry_id')
        .on('conversation_entries')
        .columns(['conversation_identifier', 'entry_id'])
        .execute();
    },
  };
}
