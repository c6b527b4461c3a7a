import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openTestStore } from './helpers/test-store.ts';

// Every parameterized statement runs as a named prepared statement of its connection (src/store/postgres-client.ts).
describe('named prepared statements on PostgreSQL', { skip: !process.env.BRIDGE_TEST_POSTGRES_URL && 'PostgreSQL not reachable' }, () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  before(async () => {
    store = await openTestStore('postgres');
  });
  after(() => store.dispose());

  test('a column added meanwhile (another replica migrating) fails one run of a prepared select *, not every later one', async () => {
    const { db } = store.store;
    const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]!.schema;
    await db
      .insertInto('idempotency_keys')
      .values({
        idempotency_key: 'k',
        request_id: 'r',
        operation: 'TEST',
        status_code: 202,
        response_body: '{}',
        created_at: 1,
        expires_at: 2,
      })
      .execute();
    await db.connection().execute(async (connection) => {
      const records = () => sql<Record<string, unknown>>`select * from idempotency_keys where request_id = ${'r'}`.execute(connection);
      await records();
      await records();
      const other = new pg.Client({ connectionString: process.env.BRIDGE_TEST_POSTGRES_URL });
      await other.connect();
      try {
        await other.query(`alter table ${schema}.idempotency_keys add column added_by_a_later_version text`);
      } finally {
        await other.end();
      }
      await assert.rejects(records(), /cached plan must not change result type/);
      const { rows } = await records();
      assert.equal(rows.length, 1);
      assert.ok('added_by_a_later_version' in rows[0]!);
    });
  });
});
