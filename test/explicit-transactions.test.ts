import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { CrmResponse } from '../src/crm/crm-port.ts';
import { TransactionalIdempotency } from '../src/http/idempotency.ts';
import { OutboundEventWriter } from '../src/local-org/outbound-event-log.ts';
import type { Db } from '../src/store/database.ts';
import { afterCommit, inTransaction, type Tx } from '../src/store/transactions.ts';
import { Wakeup } from '../src/util/wakeup.ts';
import { storeKinds } from './helpers/bridge-process.ts';
import { outboundEventInput } from './helpers/outbound-event-input.ts';
import { openTestStore } from './helpers/test-store.ts';

const log = pino({ level: 'silent' });
const writer = new OutboundEventWriter(new Wakeup());

const event = (conversationIdentifier: string) => outboundEventInput(conversationIdentifier);

const eventsOf = (db: Db, conversationIdentifier: string) =>
  db.selectFrom('outbound_events').select('sequence').where('conversation_identifier', '=', conversationIdentifier).execute();
const recordsOf = (db: Db, requestId: string) =>
  db.selectFrom('idempotency_keys').select('status_code').where('request_id', '=', requestId).execute();

// A type-level check: the base handle is not a transaction, so it cannot be handed to an operation.
// tsc (npm run typecheck) fails if this call ever compiles.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- the mistake this check proves impossible */
export function baseHandleIsNotATransaction(db: Db) {
  // @ts-expect-error Db lacks the Transaction's private state
  return writer.append(db, event('never'));
}
/* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */

for (const kind of storeKinds()) {
  describe(`explicit transactions (${kind})`, () => {
    let store: Awaited<ReturnType<typeof openTestStore>>;
    let idempotency: TransactionalIdempotency;
    before(async () => {
      store = await openTestStore(kind);
      // As main.ts builds it: on SQLite each record is written once, with its answer; on PostgreSQL reserved first.
      idempotency = new TransactionalIdempotency(store.store.db, 60, undefined, kind);
    });
    after(() => store.dispose());

    const run = (requestId: string, operation: (tx: Tx) => Promise<CrmResponse>) =>
      idempotency.run({ operation: 'TEST', requestId, fingerprint: 'body' }, log, operation);

    test('an accepted operation commits its writes and its idempotency record together', async () => {
      const outcome = await run('accepted', async (tx) => {
        await writer.append(tx, event('accepted'));
        return { status: 202, body: { ok: true } };
      });
      assert.equal(outcome.replayed, false);
      assert.equal((await eventsOf(store.store.db, 'accepted')).length, 1);
      assert.deepEqual(await recordsOf(store.store.db, 'accepted'), [{ status_code: 202 }]);
      const again = await run('accepted', () => assert.fail('a repeat must not run the operation'));
      assert.deepEqual({ replayed: again.replayed, body: again.body }, { replayed: true, body: { ok: true } });
    });

    test('a refused operation leaves neither its writes nor a record', async () => {
      const outcome = await run('refused', async (tx) => {
        await writer.append(tx, event('refused'));
        return { status: 400, body: { code: 1 } };
      });
      assert.equal(outcome.status, 400);
      assert.deepEqual(await eventsOf(store.store.db, 'refused'), []);
      assert.deepEqual(await recordsOf(store.store.db, 'refused'), []);
    });

    test('an operation that throws leaves neither its writes nor a record', async () => {
      await assert.rejects(
        run('thrown', async (tx) => {
          await writer.append(tx, event('thrown'));
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.deepEqual(await eventsOf(store.store.db, 'thrown'), []);
      assert.deepEqual(await recordsOf(store.store.db, 'thrown'), []);
    });

    test('an operation cannot open a second transaction from the one it is given', async () => {
      await assert.rejects(
        run('nested', (tx) => tx.transaction().execute(() => Promise.resolve({ status: 202, body: null }))),
        /transaction/i,
      );
      assert.deepEqual(await recordsOf(store.store.db, 'nested'), []);
    });

    test('after-commit hooks run once the writes are visible to the store, and never after a rollback', async () => {
      let readByHook: Promise<unknown[]> | undefined;
      await inTransaction(store.store.db, async (tx) => {
        await writer.append(tx, event('hooked'));
        // Through the store's own handle (another connection on PostgreSQL): it sees only committed rows.
        afterCommit(tx, () => {
          readByHook = eventsOf(store.store.db, 'hooked');
        });
      });
      assert.ok(readByHook, 'the hook ran');
      assert.equal((await readByHook).length, 1);

      let ranAfterRollback = false;
      await assert.rejects(
        inTransaction(store.store.db, (tx) => {
          afterCommit(tx, () => (ranAfterRollback = true));
          return Promise.reject(new Error('roll back'));
        }),
      );
      assert.equal(ranAfterRollback, false);
    });
  });
}
