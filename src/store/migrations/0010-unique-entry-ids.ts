import { sql, type Kysely, type Migration } from 'kysely';

/**
 * An entry id is stored once per conversation (10073), enforced by the database: a unique index on
 * (conversation, entry id), so two requests carrying one id at the same moment, even to two processes
 * sharing the database, store it once. Before this, a read-then-write check did it, which concurrent
 * requests could both pass: such twins are kept, the later ones under their id suffixed with
 * `#duplicate-<sequence>`, so the index can be built without losing an entry.
 */
export function uniqueEntryIds(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await sql`
        update conversation_entries
           set entry_id = entry_id || '#duplicate-' || "sequence"
         where "sequence" not in (
           select min("sequence") from conversation_entries group by conversation_identifier, entry_id
         )`.execute(db);
      await db.schema
        .createIndex('conversation_entries_entry_id_unique')
        .on('conversation_entries')
        .columns(['conversation_identifier', 'entry_id'])
        .unique()
        .execute();
    },
  };
}
