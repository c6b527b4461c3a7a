import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { MAX_NAMED, PreparingClient } from '../src/store/postgres-client.ts';
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

// Each connection keeps its most recently run statements prepared, at most MAX_NAMED: texts that vary (an
// `in` list of each length) no longer use up the names, leaving the statements that repeat unprepared.

describe(
  'prepared statements of a connection (postgres)',
  { skip: !process.env.BRIDGE_TEST_POSTGRES_URL && 'PostgreSQL not reachable' },
  () => {
    // As the pool uses it: through pg.Client's own signature.
    let client: pg.Client;
    before(async () => {
      client = new PreparingClient({ connectionString: process.env.BRIDGE_TEST_POSTGRES_URL });
      await client.connect();
    });
    after(() => client.end());

    const prepared = async () =>
      (await client.query<{ statement: string }>('select statement from pg_prepared_statements order by prepare_time')).rows.map(
        (r) => r.statement,
      );

    test('a statement first run after MAX_NAMED others is prepared, and stays while as many again come and go', async () => {
      const hot = 'select $1::int + 1 as n';
      for (let length = 1; length <= 3 * MAX_NAMED; length++) {
        const list = Array.from({ length }, (_, i) => `$${i + 1}`).join(', ');
        const values = Array.from({ length }, (_, i) => i);
        const { rows } = await client.query(`select count(*)::int as n from generate_series(0, 10000) g where g in (${list})`, values);
        assert.deepEqual(rows, [{ n: length }]);
        if (length > MAX_NAMED && length % 20 === 0) assert.deepEqual((await client.query(hot, [length])).rows, [{ n: length + 1 }]);
      }
      const statements = await prepared();
      assert.ok(statements.length <= MAX_NAMED, `${statements.length} prepared`);
      assert.ok(statements.includes(hot), 'the repeated statement is still prepared');
      assert.ok(
        statements.some((s) => s.includes(`$${3 * MAX_NAMED})`)),
        'the latest list is prepared',
      );
      // A statement let go of and run again is prepared again under a new name, and answers.
      const first = 'select count(*)::int as n from generate_series(0, 10000) g where g in ($1)';
      assert.ok(!statements.includes(first));
      assert.deepEqual((await client.query(first, [5])).rows, [{ n: 1 }]);
      assert.ok((await prepared()).includes(first));
    });

    test('in a failed transaction the deallocation fails quietly and the connection goes on', async () => {
      await client.query('begin');
      await assert.rejects(client.query('select $1::int / 0', [1]), /division by zero/);
      // New texts while the transaction is failed: each fails as the transaction does, nothing else.
      for (let i = 0; i < 3; i++)
        await assert.rejects(client.query(`select $1::int + ${i} as other`, [1]), /current transaction is aborted/);
      await client.query('rollback');
      assert.deepEqual((await client.query('select $1::int + 1 as n', [41])).rows, [{ n: 42 }]);
      assert.ok((await prepared()).length <= MAX_NAMED + 3);
    });
  },
);
