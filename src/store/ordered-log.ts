import { PostgresAdapter, sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * Reading an id-ordered log by cursor (`id > cursor`) without ever stepping over a row that commits later.
 *
 * On PostgreSQL ids come from a sequence when a row is inserted, and transactions commit in any order:
 * ids 10 and 11 taken by two transactions, 11 committed first, a reader moving its cursor to 11 would never
 * read 10. So every writer takes a shared advisory lock on the log before it takes an id (the column's
 * default, migration 0008), which it holds until it commits or rolls back; writers never wait for one another.
 * A reader hands out only the rows up to the first gap in the ids. A gap above what is known to be settled
 * may be a transaction still in flight, so the reader then takes the lock exclusively for an instant: that
 * waits for every writer holding an id (new writers queue behind it meanwhile), and the sequence's last value
 * read under it is a horizon at or below which every id is final (committed, or rolled back for good).
 * Gaps come from transactions committing out of order, rollbacks and retention; each costs one such
 * barrier, shared by every reader of the log in the process.
 *
 * SQLite has one writer at a time and a reader sees whole transactions in commit order, so there every row
 * read is final.
 */
export class OrderedLogReader {
  private readonly postgres: boolean;
  /** Every id at or below this is final. */
  private settled = 0;
  private barrier: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    /** The log's table and its id column, as named in migration 0008's `ordered_log_next_id` default. */
    private readonly log: { table: string; idColumn: string },
  ) {
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /**
   * The rows `read(cursor)` returns (ids ascending, all above the cursor) that a cursor reader may take now:
   * up to the first id that may still commit. It may wait for writers in flight, never for new ones.
   */
  async readAfter<T>(cursor: number, read: (cursor: number) => Promise<T[]>, idOf: (row: T) => number): Promise<T[]> {
    const rows = await read(cursor);
    if (!this.postgres) return rows;
    const gap = this.firstOpenGap(cursor, rows.map(idOf));
    if (gap === undefined) return rows;
    await this.settleThrough(gap);
    // Rows may have committed into the gap meanwhile; read again, and stop at any gap above the horizon.
    const again = await read(cursor);
    const cut = this.firstOpenGap(cursor, again.map(idOf));
    return cut === undefined ? again : again.filter((row) => idOf(row) < cut);
  }

  /** A cursor a reader starting "from now" may take: every id at or below it is final. */
  async latestSettled(latestVisible: () => Promise<number>): Promise<number> {
    if (!this.postgres) return latestVisible();
    const visible = await latestVisible();
    await this.settleThrough(visible);
    return this.settled;
  }

  /** The lowest missing id above the cursor that is not yet known to be final, if any. */
  private firstOpenGap(cursor: number, ids: number[]): number | undefined {
    let expected = cursor + 1;
    for (const id of ids) {
      if (id > expected && id - 1 > this.settled) return Math.max(expected, this.settled + 1);
      expected = id + 1;
    }
    return undefined;
  }

  private async settleThrough(id: number): Promise<void> {
    while (this.settled < id) {
      // One barrier at a time; a barrier that began before this id was taken may not cover it, hence the loop.
      this.barrier ??= this.runBarrier().finally(() => (this.barrier = undefined));
      await this.barrier;
    }
  }

  private async runBarrier(): Promise<void> {
    const { table, idColumn } = this.log;
    const horizon = await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(current_schema()), hashtext(${`ordered-log ${table}`}))`.execute(trx);
      const { rows } = await sql<{ last: string | number | null }>`
        select pg_sequence_last_value(pg_get_serial_sequence(${table}, ${idColumn})) as last`.execute(trx);
      return Number(rows[0]?.last ?? 0);
    });
    this.settled = Math.max(this.settled, horizon);
  }
}
