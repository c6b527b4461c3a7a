import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { OutboundEventWriter } from '../src/local-org/outbound-event-log.ts';
import { afterCommit } from '../src/store/transactions.ts';
import { Wakeup } from '../src/util/wakeup.ts';
import { storeKinds } from './helpers/bridge-process.ts';
import { outboundEventInput } from './helpers/outbound-event-input.ts';
import { openTestStore } from './helpers/test-store.ts';

const writer = new OutboundEventWriter(new Wakeup());

const event = (conversationIdentifier: string) => outboundEventInput(conversationIdentifier);

// store.runTransaction is how every Interaction API operation's transaction runs: a group commit on SQLite,
// one transaction each on PostgreSQL. Either way each caller sees inTransaction()'s contract.
for (const kind of storeKinds()) {
  describe(`the store's transactions for operations (${kind})`, () => {
    let store: Awaited<ReturnType<typeof openTestStore>>;
    /** Reads through another connection: it sees only what has been committed. */
    let committed: (conversationIdentifier: string) => Promise<number[]>;
    let closeReader = () => {};
    before(async () => {
      store = await openTestStore(kind);
      if (kind === 'sqlite') {
        const reader = new Database(store.store.location, { readonly: true });
        const statement = reader.prepare('select sequence from outbound_events where conversation_identifier = ? order by sequence');
        committed = (id) => Promise.resolve((statement.all(id) as { sequence: number }[]).map((r) => r.sequence));
        closeReader = () => reader.close();
      } else {
        committed = async (id) =>
          (
            await store.store.db
              .selectFrom('outbound_events')
              .select('sequence')
              .where('conversation_identifier', '=', id)
              .orderBy('sequence')
              .execute()
          ).map((r) => r.sequence);
      }
    });
    after(async () => {
      closeReader();
      await store.dispose();
    });

    test('concurrent operations each answer once committed; one that fails rolls back only its own writes', async () => {
      const hooks: string[] = [];
      const seenByAnswer = new Map<string, number>();
      const runs = Array.from({ length: 40 }, (_, i) => {
        const id = `group-${i}`;
        return store.store
          .runTransaction(async (tx) => {
            await writer.append(tx, event(id));
            afterCommit(tx, () => hooks.push(id));
            if (i % 10 === 7) throw new Error(`operation ${i} fails after writing`);
            await writer.append(tx, event(id));
            return id;
          })
          .then(async (answer) => {
            // At the moment of the answer, another connection already sees the writes.
            seenByAnswer.set(answer, (await committed(answer)).length);
            return answer;
          });
      });
      const outcomes = await Promise.allSettled(runs);
      for (const [i, outcome] of outcomes.entries()) {
        const id = `group-${i}`;
        if (i % 10 === 7) {
          assert.equal(outcome.status, 'rejected');
          assert.match(String(outcome.reason), new RegExp(`operation ${i} fails`));
          assert.deepEqual(await committed(id), [], `${id} left nothing`);
          assert.ok(!hooks.includes(id), `${id}'s after-commit hook did not run`);
        } else {
          assert.deepEqual(outcome, { status: 'fulfilled', value: id });
          assert.equal(seenByAnswer.get(id), 2, `${id}'s two writes were committed when it was answered`);
          assert.ok(hooks.includes(id), `${id}'s after-commit hook ran`);
        }
      }
    });

    // On PostgreSQL concurrent transactions commit in whatever order their connections finish.
    test('operations commit in the order they were started', { skip: kind !== 'sqlite' }, async () => {
      const ids = Array.from({ length: 30 }, (_, i) => `order-${i}`);
      await Promise.all(ids.map((id) => store.store.runTransaction((tx) => writer.append(tx, event(id)))));
      const sequences = await Promise.all(ids.map(async (id) => (await committed(id))[0]!));
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => a - b),
      );
    });

    // A group commits with synchronous=NORMAL and fsyncs the WAL itself, off the event loop, before it
    // answers; every other commit on the connection must still sync (FULL) on its own.
    test('after a group, the connection is back to synchronous=FULL', { skip: kind !== 'sqlite' }, async () => {
      await Promise.all([1, 2, 3].map((i) => store.store.runTransaction((tx) => writer.append(tx, event(`sync-${i}`)))));
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.store.db);
      assert.deepEqual(rows, [{ synchronous: 2 }]);
    });

    test('an operation started while others commit gets its own, later commit', async () => {
      const first = store.store.runTransaction((tx) => writer.append(tx, event('wave-1')));
      await first;
      const second = await store.store.runTransaction(async (tx) => {
        await writer.append(tx, event('wave-2'));
        return (await committed('wave-1')).length;
      });
      assert.equal(second, 1, 'the first wave was committed before the second ran');
      assert.equal((await committed('wave-2')).length, 1);
    });
  });
}
