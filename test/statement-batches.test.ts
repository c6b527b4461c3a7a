import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Db } from '../src/store/database.ts';
import { StatementBatches } from '../src/store/statement-batches.ts';

// How calls are gathered into batches (src/store/statement-batches.ts), with a statement that only records
// what it was given: no database is needed for the gathering itself.

interface Item {
  id: string;
  keys: string[];
}

/** A statement that answers each item with its id once `release` is called for the batch. */
function recordingStatement() {
  const batches: string[][] = [];
  const pending: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  const run = (_db: Db, items: readonly Item[]) => {
    batches.push(items.map((i) => i.id));
    return new Promise<string[]>((resolve, reject) => {
      pending.push({ resolve: () => resolve(items.map((i) => `done ${i.id}`)), reject });
    });
  };
  return { run, batches, pending };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
// Handles only tell batches apart here: the statement above never uses them.
const dbA = Object.create(null) as Db;
const dbB = Object.create(null) as Db;

describe('statement batches', () => {
  test("calls of one turn go out as one batch, and each gets its own item's result", async () => {
    const statement = recordingStatement();
    const batches = new StatementBatches(statement.run, (i: Item) => i.keys);
    const calls = ['a', 'b', 'c'].map((id) => batches.add(dbA, { id, keys: [id] }));
    await turn();
    assert.deepEqual(statement.batches, [['a', 'b', 'c']]);
    statement.pending[0]!.resolve();
    assert.deepEqual(await Promise.all(calls), ['done a', 'done b', 'done c']);
  });

  test('calls made while the concurrency is taken wait, then share the next batch', async () => {
    const statement = recordingStatement();
    const batches = new StatementBatches(statement.run, (i: Item) => i.keys, { concurrency: 1, batchSize: 10 });
    const first = batches.add(dbA, { id: 'a', keys: ['a'] });
    await turn();
    const later = ['b', 'c', 'd'].map((id) => batches.add(dbA, { id, keys: [id] }));
    await turn();
    assert.deepEqual(statement.batches, [['a']], 'nothing more goes out while one batch runs');
    statement.pending[0]!.resolve();
    assert.equal(await first, 'done a');
    await turn();
    assert.deepEqual(statement.batches, [['a'], ['b', 'c', 'd']]);
    statement.pending[1]!.resolve();
    assert.deepEqual(await Promise.all(later), ['done b', 'done c', 'done d']);
  });

  test('calls whose keys meet never share a batch; the later one goes in the next, in order', async () => {
    const statement = recordingStatement();
    const batches = new StatementBatches(statement.run, (i: Item) => i.keys, { concurrency: 1, batchSize: 10 });
    const calls = [
      batches.add(dbA, { id: 'a', keys: ['key 1', 'entry 1'] }),
      batches.add(dbA, { id: 'b', keys: ['key 2', 'entry 1'] }),
      batches.add(dbA, { id: 'c', keys: ['key 3', 'entry 3'] }),
      batches.add(dbA, { id: 'd', keys: ['key 1', 'entry 4'] }),
    ];
    await turn();
    assert.deepEqual(statement.batches, [['a', 'c']]);
    statement.pending[0]!.resolve();
    await turn();
    await turn();
    assert.deepEqual(statement.batches, [
      ['a', 'c'],
      ['b', 'd'],
    ]);
    statement.pending[1]!.resolve();
    assert.deepEqual(await Promise.all(calls), ['done a', 'done b', 'done c', 'done d']);
  });

  test('a batch holds at most batchSize calls, and runs at most concurrency batches at once', async () => {
    const statement = recordingStatement();
    const batches = new StatementBatches(statement.run, (i: Item) => i.keys, { concurrency: 2, batchSize: 2 });
    const calls = ['a', 'b', 'c', 'd', 'e'].map((id) => batches.add(dbA, { id, keys: [id] }));
    await turn();
    assert.deepEqual(statement.batches, [
      ['a', 'b'],
      ['c', 'd'],
    ]);
    statement.pending[0]!.resolve();
    await turn();
    await turn();
    assert.deepEqual(statement.batches.at(-1), ['e']);
    statement.pending[1]!.resolve();
    statement.pending[2]!.resolve();
    assert.deepEqual(await Promise.all(calls), ['done a', 'done b', 'done c', 'done d', 'done e']);
  });

  test('a failed batch fails each of its calls with its error, and the next batch still goes out', async () => {
    const statement = recordingStatement();
    const batches = new StatementBatches(statement.run, (i: Item) => i.keys, { concurrency: 1, batchSize: 10 });
    const failing = ['a', 'b'].map((id) => batches.add(dbA, { id, keys: [id] }));
    await turn();
    const next = batches.add(dbA, { id: 'c', keys: ['c'] });
    const duplicate = Object.assign(new Error('duplicate key'), { code: '23505' });
    statement.pending[0]!.reject(duplicate);
    for (const call of failing) await assert.rejects(call, (err) => err === duplicate);
    await turn();
    assert.deepEqual(statement.batches, [['a', 'b'], ['c']]);
    statement.pending[1]!.resolve();
    assert.equal(await next, 'done c');
  });

  test('each database handle has batches of its own', async () => {
    const statement = recordingStatement();
    const batches = new StatementBatches(statement.run, (i: Item) => i.keys);
    const calls = [batches.add(dbA, { id: 'a', keys: ['a'] }), batches.add(dbB, { id: 'b', keys: ['b'] })];
    await turn();
    assert.deepEqual(statement.batches, [['a'], ['b']]);
    for (const p of statement.pending) p.resolve();
    assert.deepEqual(await Promise.all(calls), ['done a', 'done b']);
  });
});
