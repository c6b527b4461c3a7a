import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.ts';

/** The id-ordered logs read by cursor (src/store/ordered-log.ts): the local org's outbound events, and the normalized events the SSE stream reads. */
const LOGS = [
  { table: 'outbound_events', idColumn: 'sequence' },
  { table: 'normalized_events', idColumn: 'sequence' },
];

/**
 * PostgreSQL only: a log's ids are taken under a shared advisory lock on that log, held until the writing
 * transaction ends, so a reader can wait for every id handed out so far to be final (see OrderedLogReader).
 * Writers share the lock and never wait for one another. SQLite serialises writers and needs nothing.
 */
export function orderedLogIds(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect !== 'postgres') return;
      await sql`
        create function ordered_log_next_id(log_name text, id_sequence regclass) returns bigint
        language plpgsql volatile as $$
        begin
          perform pg_advisory_xact_lock_shared(hashtext(current_schema()), hashtext('ordered-log ' || log_name));
          return nextval(id_sequence);
        end
        $$`.execute(db);
      for (const { table, idColumn } of LOGS) {
        const { rows } = await sql<{ name: string }>`select pg_get_serial_sequence(${table}, ${idColumn}) as name`.execute(db);
        const sequence = rows[0]!.name;
        await sql`alter table ${sql.table(table)} alter column ${sql.ref(idColumn)}
          set default ordered_log_next_id(${sql.lit(table)}, ${sql.lit(sequence)}::regclass)`.execute(db);
      }
    },
  };
}
