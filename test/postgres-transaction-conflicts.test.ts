import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { GroupedWrites } from '../src/http/grouped-writes.ts';
import pino from 'pino';
import { TransactionalIdempotency } from '../src/http/idempotency.ts';
import { isUndoneForConflict, retryingConflicts } from '../src/store/conflicts.ts';
import type { Db } from '../src/store/database.ts';
import { OwnSchemaPostgresDialect } from '../src/store/own-schema-introspection.ts';
import type { Tables } from '../src/store/tables.ts';
import { inTransaction, type TransactionRunner, type Tx } from '../src/store/transactions.ts';
import { storeKinds } from './helpers/bridge-process.ts';
import { openTestStore } from './helpers/test-store.ts';

// A transaction PostgreSQL undoes to break a deadlock is run again rather than failing its request (a
// 500): the idempotency step's usual transaction goes through retryingConflicts.

const log = pino({ level: 'silent' });
const conflict = (code: string) => Object.assign(new Error(`conflict ${code}`), { code });

describe('retryingConflicts (no database)', () => {
  /** A runner that hands `work` no transaction and counts its calls. */
  const counting = () => {
    const calls = { n: 0 };
    const run: TransactionRunner = (work) => {
      calls.n++;
      return work(undefined as unknown as Tx);
    };
    return { run, calls };
  };

  test('a deadlock or serialization failure runs the work again; the answer is the later attempt’s', async () => {
    for (const code of ['40P01', '40001']) {
      const { run, calls } = counting();
      const answer = await retryingConflicts(run, () => (calls.n === 1 ? Promise.reject(conflict(code)) : Promise.resolve('second')));
      assert.equal(answer, 'second');
      assert.equal(calls.n, 2, code);
    }
  });

  test('it gives up after the attempts, with the last conflict', async () => {
    const { run, calls } = counting();
    await assert.rejects(
      retryingConflicts(run, () => Promise.reject(conflict('40P01')), 3),
      (err: unknown) => isUndoneForConflict(err),
    );
    assert.equal(calls.n, 3);
  });

  test('any other failure is not run again', async () => {
    for (const err of [conflict('23505'), conflict('22003'), new Error('plain')]) {
      const { run, calls } = counting();
      await assert.rejects(retryingConflicts(run, () => Promise.reject(err)));
      assert.equal(calls.n, 1, String(err));
    }
  });
});

const postgres = storeKinds().includes('postgres');

describe('a real deadlock on PostgreSQL', { skip: !postgres && 'PostgreSQL not available' }, () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  before(async () => {
    store = await openTestStore('postgres');
    await sql`create table lock_probe (id int primary key, touched int not null default 0)`.execute(store.store.db);
  });
  after(() => store.dispose());

  /** Each test starts from two untouched rows. */
  const resetRows = async () => {
    await sql`delete from lock_probe`.execute(store.store.db);
    await sql`insert into lock_probe (id) values (1), (2)`.execute(store.store.db);
  };
  const touched = async () =>
    (await sql<{ id: number; touched: number }>`select id, touched from lock_probe order by id`.execute(store.store.db)).rows.map(
      (r) => r.touched,
    );

  /**
   * Two pieces of work that each lock one row and then, once both hold theirs, the other's: PostgreSQL
   * finds the deadlock (after deadlock_timeout, 1 s by default) and undoes one of the two transactions.
   */
  function crossedWork() {
    let held = 0;
    let bothHold!: () => void;
    const bothHolding = new Promise<void>((resolve) => (bothHold = resolve));
    const attempts = [0, 0];
    const work = (first: number, second: number) => async (tx: Tx) => {
      attempts[first - 1]!++;
      await sql`update lock_probe set touched = touched + 1 where id = ${first}`.execute(tx);
      if (attempts[first - 1] === 1) {
        if (++held === 2) bothHold();
        await bothHolding;
      }
      await sql`update lock_probe set touched = touched + 1 where id = ${second}`.execute(tx);
      return `${first} then ${second}`;
    };
    return { one: work(1, 2), two: work(2, 1), attempts };
  }

  test('without a retry one of the two fails with 40P01 (the setup does deadlock)', async () => {
    await resetRows();
    const run: TransactionRunner = (work) => inTransaction(store.store.db, work);
    const { one, two } = crossedWork();
    const results = await Promise.allSettled([run(one), run(two)]);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 1, JSON.stringify(results));
    assert.ok(isUndoneForConflict(failed[0]!.reason), String(failed[0]!.reason));
    // The undone transaction kept nothing: the other one touched each row once.
    assert.deepEqual(await touched(), [1, 1]);
  });

  test('with retryingConflicts both complete, the undone one run again from nothing', async () => {
    await resetRows();
    const run: TransactionRunner = (work) => inTransaction(store.store.db, work);
    const { one, two, attempts } = crossedWork();
    const answers = await Promise.all([retryingConflicts(run, one), retryingConflicts(run, two)]);
    assert.deepEqual(answers, ['1 then 2', '2 then 1']);
    assert.deepEqual([...attempts].sort(), [1, 2]);
    assert.deepEqual(await touched(), [2, 2]);
  });

  test('grouped writes of two replicas that deadlock: the undone group runs again and every write is answered', async () => {
    await resetRows();
    // Two replicas: each its own pool, and its own GroupedWrites queuing two updates in one turn.
    const other = new Kysely<Tables>({
      dialect: new OwnSchemaPostgresDialect({ pool: new pg.Pool({ connectionString: store.databaseUrl, max: 2 }) }),
    });
    try {
      let held = 0;
      let bothHold!: () => void;
      const bothHolding = new Promise<void>((resolve) => (bothHold = resolve));
      const firstRuns = [0, 0];
      const touch = (db: Db, id: number, holdFirst = false) =>
        sql`update lock_probe set touched = touched + 1 where id = ${id}`.execute(db).then(async () => {
          if (holdFirst && ++firstRuns[id - 1]! === 1) {
            if (++held === 2) bothHold();
            await bothHolding;
          }
          return id;
        });
      const a = new GroupedWrites(store.store.db);
      const b = new GroupedWrites(other);
      const answers = await Promise.all([
        a.run((db) => touch(db, 1, true)),
        a.run((db) => touch(db, 2)),
        b.run((db) => touch(db, 2, true)),
        b.run((db) => touch(db, 1)),
      ]);
      assert.deepEqual(answers, [1, 2, 2, 1]);
      // One group ran twice: its first run was undone whole, so each row was touched once per replica.
      assert.deepEqual(await touched(), [2, 2]);
      assert.deepEqual([...firstRuns].sort(), [1, 2]);
    } finally {
      await other.destroy();
    }
  });

  test('the idempotency step answers both requests and stores each record once', async () => {
    await resetRows();
    const idempotency = new TransactionalIdempotency(store.store.db, 60, undefined, 'postgres');
    const { one, two, attempts } = crossedWork();
    const operation = (work: (tx: Tx) => Promise<string>) => async (tx: Tx) => ({ status: 202, body: await work(tx) });
    const key = (requestId: string) => ({ operation: 'TEST', requestId, fingerprint: 'body' });
    const outcomes = await Promise.all([
      idempotency.run(key('deadlock-a'), log, operation(one)),
      idempotency.run(key('deadlock-b'), log, operation(two)),
    ]);
    assert.deepEqual(
      outcomes.map((o) => [o.status, o.body, o.replayed]),
      [
        [202, '1 then 2', false],
        [202, '2 then 1', false],
      ],
    );
    assert.deepEqual([...attempts].sort(), [1, 2]);
    const records = await store.store.db
      .selectFrom('idempotency_keys')
      .select(['request_id', 'status_code', 'response_body'])
      .where('request_id', 'in', ['deadlock-a', 'deadlock-b'])
      .orderBy('request_id')
      .execute();
    assert.deepEqual(records, [
      { request_id: 'deadlock-a', status_code: 202, response_body: '"1 then 2"' },
      { request_id: 'deadlock-b', status_code: 202, response_body: '"2 then 1"' },
    ]);
    // Replays answer from the records, without running the work.
    const replay = await idempotency.run(key('deadlock-b'), log, () => Promise.reject(new Error('must not run')));
    assert.deepEqual([replay.status, replay.body, replay.replayed], [202, '2 then 1', true]);
  });
});
