import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Indexes of webhook_deliveries that recording an outcome does not rewrite. Before, two indexes held a
 * delivery's status, so each outcome moved the row within both (a delete and an insert in each), and
 * the unique (event id, endpoint) index took each new delivery at a random place (event ids are UUIDs).
 * Now:
 * - unique (event sequence, endpoint): the same rule, one delivery of an event per endpoint, since an
 *   event has one sequence; it grows at its end and serves listings in event order;
 * - (endpoint, conversation, event sequence): a line's next deliveries; the status is read from the row;
 * - (event sequence) of the pending deliveries only, and of the dead-lettered ones only: an outcome only
 *   takes the row out of the pending one (queries name the status as a literal, so both databases see
 *   that the partial index applies).
 * SQLite cannot drop a table's unique constraint, so the table is built again (on both databases: one
 * code path).
 */
const COLUMNS = [
  'delivery_id',
  'event_sequence',
  'event_id',
  'endpoint_id',
  'ordering_key',
  'status',
  'attempts',
  'next_attempt_at',
  'last_attempt_at',
  'last_status_code',
  'last_error',
  'delivered_at',
  'lease_owner',
  'lease_until',
  'created_at',
];

export function deliveryIndexes(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook_deliveries_rebuilt')
        .addColumn('delivery_id', 'text', (c) => c.primaryKey())
        .addColumn('event_sequence', 'bigint', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('ordering_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_attempt_at', 'bigint')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('webhook_deliveries_sequence_endpoint', ['event_sequence', 'endpoint_id'])
        .execute();
      const columns = sql.raw(COLUMNS.join(', '));
      await sql`insert into webhook_deliveries_rebuilt (${columns}) select ${columns} from webhook_deliveries`.execute(db);
      await db.schema.dropTable('webhook_deliveries').execute();
      await db.schema.alterTable('webhook_deliveries_rebuilt').renameTo('webhook_deliveries').execute();
      await db.schema
        .createIndex('webhook_deliveries_line')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'ordering_key', 'event_sequence'])
        .execute();
      for (const status of ['pending', 'dead']) {
        await db.schema
          .createIndex(`webhook_deliveries_${status}`)
          .on('webhook_deliveries')
          .column('event_sequence')
          .where(sql.ref('status'), '=', sql.lit(status))
          .execute();
      }
    },
  };
}
