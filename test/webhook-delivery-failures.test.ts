import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { normalizeEvent } from '../src/outbound/normalizer.ts';
import { ReceivedEvents } from '../src/outbound/received-events.ts';
import { WebhookDelivery } from '../src/outbound/webhook-delivery.ts';
import { Wakeup } from '../src/util/wakeup.ts';
import { storeKinds } from './helpers/bridge-process.ts';
import { waitFor } from './helpers/outbound.ts';
import { openTestStore } from './helpers/test-store.ts';

const fixtures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/outbound-events.json'), 'utf8'));

for (const kind of storeKinds()) {
  test(`an endpoint URL that cannot be sent to is a failed attempt, recorded and retried like any other (${kind})`, async () => {
    const opened = await openTestStore(kind);
    const store = opened.store;
    const logged: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logged.push(String(chunk));
          done();
        },
      }),
    );
    // Stored directly: the API only takes http(s) URLs, but a store may hold an older or edited row.
    await store.db
      .insertInto('webhook_endpoints')
      .values({
        endpoint_id: 'ep_broken',
        url: 'not a url',
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        event_types: null,
        channel_address_identifier: null,
        description: null,
        created_at: 0,
      })
      .execute();
    const received = new ReceivedEvents(store.db, store.runTransaction);
    const event = normalizeEvent({ ...fixtures.spring24_text, eventId: 'evt-broken-url', replayId: 1 }, fixtures.fieldNames);
    await received.storeBatch('/event/Test__e', [{ kind: 'event', event }]);
    const outcomes: string[] = [];
    const delivery = new WebhookDelivery({
      db: store.db,
      runTransaction: store.runTransaction,
      logger,
      wakeup: new Wakeup(),
      policy: { retryScheduleSeconds: [60], timeoutMs: 5000, concurrency: 4, pipelineDepth: 8 },
      onAttempt: (outcome) => outcomes.push(outcome),
    });
    delivery.start();
    try {
      await waitFor('the attempt recorded', () => outcomes.length > 0);
      const row = await store.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('event_id', '=', 'evt-broken-url')
        .executeTakeFirstOrThrow();
      assert.deepEqual(outcomes, ['retry']);
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 1);
      assert.equal(row.last_status_code, null);
      assert.equal(row.last_error, 'Invalid URL');
      assert.ok(row.next_attempt_at > (row.last_attempt_at ?? Infinity), 'the retry is scheduled');
      assert.equal(row.lease_owner, null);
      assert.match(row.delivery_id, /^dlv_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(!logged.some((line) => line.includes('webhook line failed')), logged.join(''));
      assert.ok(logged.some((line) => line.includes('webhook attempt failed; will retry')));
    } finally {
      await delivery.stop();
      await opened.dispose();
    }
  });
}
