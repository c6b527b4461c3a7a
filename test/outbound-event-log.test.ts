import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OutboundEventLog, type OutboundEventInput } from '../src/local-org/outbound-event-log.ts';
import { inTransaction } from '../src/store/transactions.ts';
import { storeKinds } from './helpers/bridge-process.ts';
import { openTestStore } from './helpers/test-store.ts';

/**
 * Every wait below must end by a signal; this bound only keeps a missing signal from hanging the run, and
 * the version check after each wait tells a signal from the bound.
 */
const SIGNAL_TIMEOUT_MS = 30_000;

const event = (conversationIdentifier: string): OutboundEventInput => ({
  orgId: '00D5g000004ByocEAC',
  eventType: 'RoutingRequested',
  channelAddressIdentifier: 'channel',
  conversationIdentifier,
  recipient: { appType: 'custom', subject: 'end-user', role: 'EndUser' },
  content: { conversationIdentifier },
  shape: 'spring24',
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
