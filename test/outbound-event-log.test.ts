import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { OutboundEventLog } from '../src/local-org/outbound-event-log.ts';
import type { Db } from '../src/store/database.ts';
import { inTransaction } from '../src/store/transactions.ts';
import { storeKinds } from './helpers/bridge-process.ts';
import { outboundEventInput } from './helpers/outbound-event-input.ts';
import { openTestStore } from './helpers/test-store.ts';

/**
 * Every wait below must end by a signal; this bound only keeps a missing signal from hanging the run, and
 * the version check after each wait tells a signal from the bound.
 */
const SIGNAL_TIMEOUT_MS = 30_000;

const event = (conversationIdentifier: string) =>
  outboundEventInput(conversationIdentifier, {
    eventType: 'RoutingRequested',
    recipient: { appType: 'custom', subject: 'end-user', role: 'EndUser' },
    content: { conversationIdentifier },
  });

/** Lets every pending promise callback run: a signal already given has been seen by then. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

for (const kind of storeKinds()) {
  describe(`the outbound event log signals its readers after commit (${kind})`, () => {
    let store: Awaited<ReturnType<typeof openTestStore>>;
    let log: OutboundEventLog;
    before(async () => {
      store = await openTestStore(kind);
      log = new OutboundEventLog(store.store.db);
    });
    after(() => store.dispose());

    test('a reader waiting for the signal is woken only once the event has committed, and then reads it', async () => {
      const cursor = await log.latestReplayId();
      const seen = log.appended.version;
      let woken = false;
      const wake = log.appended.wait(SIGNAL_TIMEOUT_MS, seen).then(() => (woken = true));
      await inTransaction(store.store.db, async (tx) => {
        await log.writer.append(tx, event('woken'));
        await settle();
        assert.equal(woken, false, 'no signal while the event is uncommitted (a reader would find nothing)');
      });
      await wake;
      assert.notEqual(log.appended.version, seen, 'woken by the signal');
      const read = await log.readAfter(cursor, 10);
      assert.deepEqual(
        read.map((e) => e.conversationIdentifier),
        ['woken'],
      );
    });

    test('an append that commits between a reader looking and its wait is not missed', async () => {
      const cursor = await log.latestReplayId();
      // A Pub/Sub subscription's loop: note the signal's version, read the log, find nothing...
      const seen = log.appended.version;
      assert.deepEqual(await log.readAfter(cursor, 10), []);
      // ...the event commits before the loop goes to sleep...
      await inTransaction(store.store.db, (tx) => log.writer.append(tx, event('between')));
      // ...and the wait ends at once instead of sleeping past it.
      await log.appended.wait(SIGNAL_TIMEOUT_MS, seen);
      assert.notEqual(log.appended.version, seen, 'woken by the signal');
      assert.deepEqual(
        (await log.readAfter(cursor, 10)).map((e) => e.conversationIdentifier),
        ['between'],
      );
    });

    test('a rolled back append gives no signal', async () => {
      const before = log.appended.version;
      await assert.rejects(
        inTransaction(store.store.db, async (tx) => {
          await log.writer.append(tx, event('rolled-back'));
          throw new Error('refused');
        }),
      );
      await settle();
      assert.equal(log.appended.version, before);
      assert.deepEqual(await log.listForConversation('rolled-back'), []);
    });

    test('published events signal too', async () => {
      const seen = log.appended.version;
      const [published] = await log.publish([
        {
          orgId: '00D5g000004ByocEAC',
          eventType: 'Interaction',
          channelAddressIdentifier: 'channel',
          conversationIdentifier: 'published',
          shape: 'spring24',
          fields: { channelAddressId: null, payload: '{}', recipient: null, eventType: 'Interaction' },
        },
      ]);
      await log.appended.wait(SIGNAL_TIMEOUT_MS, seen);
      assert.notEqual(log.appended.version, seen, 'woken by the signal');
      assert.equal((await log.listForConversation('published'))[0]?.replayId, published?.replayId);
    });
  });
}

/**
 * On PostgreSQL two transactions can take replay ids 10 and 11 and commit 11 first. A subscriber reading
 * `replayId > cursor` then sees 11, moves its cursor past 10, and never delivers 10 once it commits.
 */
describe(
  'no event is lost when transactions commit out of replay-id order (postgres)',
  {
    skip: !storeKinds().includes('postgres') && 'PostgreSQL suite not run',
  },
  () => {
    let store: Awaited<ReturnType<typeof openTestStore>>;
    let log: OutboundEventLog;
    before(async () => {
      store = await openTestStore('postgres');
      log = new OutboundEventLog(store.store.db);
    });
    after(() => store.dispose());

    test('an event whose transaction commits after a later one is still read by a cursor reader, in replay-id order', async () => {
      const { db } = store.store;
      const start = await log.latestReplayId();
      let allowFirstToCommit!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => (allowFirstToCommit = resolve));
      let firstHolds!: (replayId: number) => void;
      const firstId = new Promise<number>((resolve) => (firstHolds = resolve));
      const first = inTransaction(db, async (tx) => {
        const appended = await log.writer.append(tx, event('taken-first'));
        firstHolds(appended.replayId);
        await firstMayCommit;
        return appended;
      });
      const heldId = await firstId;
      const second = await inTransaction(db, (tx) => log.writer.append(tx, event('committed-first')));
      assert.ok(second.replayId > heldId, 'the second transaction took the later replay id and committed first');

      // A subscriber reads while the first transaction is still open...
      const delivered: number[] = [];
      let cursor = start;
      const reader = { done: false };
      const firstRead = log.readAfter(cursor, 10).finally(() => (reader.done = true));
      // ...and only once it has either answered or is waiting on the open transaction does that one commit.
      while (!reader.done && !(await someoneWaitsOnALock(db))) await new Promise((resolve) => setTimeout(resolve, 10));
      allowFirstToCommit();
      await first;
      for (const e of await firstRead) delivered.push(e.replayId);
      cursor = delivered.at(-1) ?? cursor;
      for (let batch = await log.readAfter(cursor, 10); batch.length > 0; batch = await log.readAfter(cursor, 10)) {
        for (const e of batch) delivered.push(e.replayId);
        cursor = delivered.at(-1)!;
      }
      assert.deepEqual(delivered, [heldId, second.replayId]);
    });

    test('the id of a rolled back append is a gap a reader steps over, not one it waits at', async () => {
      const { db } = store.store;
      const cursor = await log.latestReplayId();
      await assert.rejects(
        inTransaction(db, async (tx) => {
          await log.writer.append(tx, event('rolled-back-gap'));
          throw new Error('refused');
        }),
      );
      const kept = await inTransaction(db, (tx) => log.writer.append(tx, event('after-the-gap')));
      assert.ok(kept.replayId > cursor + 1, 'the rolled back append took an id');
      assert.deepEqual(
        (await log.readAfter(cursor, 10)).map((e) => e.conversationIdentifier),
        ['after-the-gap'],
      );
    });

    test('a subscription starting from the latest replay id does not start past an open transaction', async () => {
      const { db } = store.store;
      let allowFirstToCommit!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => (allowFirstToCommit = resolve));
      let firstHolds!: () => void;
      const held = new Promise<void>((resolve) => (firstHolds = resolve));
      const first = inTransaction(db, async (tx) => {
        const appended = await log.writer.append(tx, event('open-at-subscribe'));
        firstHolds();
        await firstMayCommit;
        return appended;
      });
      await held;
      await inTransaction(db, (tx) => log.writer.append(tx, event('committed-before-subscribe')));
      const start = { done: false };
      const starting = log.subscriptionStart().finally(() => (start.done = true));
      while (!start.done && !(await someoneWaitsOnALock(db))) await new Promise((resolve) => setTimeout(resolve, 10));
      allowFirstToCommit();
      const appended = await first;
      const cursor = await starting;
      assert.ok(cursor >= appended.replayId, 'the open event committed before the subscription started, so it is behind the cursor');
      assert.deepEqual(await log.readAfter(cursor, 10), []);
    });
  },
);

/** True when a session of this database waits for a lock (a reader waiting for an open writer). */
async function someoneWaitsOnALock(db: Db): Promise<boolean> {
  const { rows } = await sql<{ waiting: number }>`select count(*)::int as waiting from pg_locks
    where not granted and locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`.execute(
    db,
  );
  return (rows[0]?.waiting ?? 0) > 0;
}
