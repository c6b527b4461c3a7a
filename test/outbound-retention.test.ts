import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { sweepOutbound } from '../src/outbound/retention.ts';
import type { Db } from '../src/store/database.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, sendAgentMessage, startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';
import { openTestStore } from './helpers/test-store.ts';

// The bridge's records of received events are deleted once past RECEIVED_EVENT_RETENTION_HOURS, unless a
// delivery of the event is still pending (src/outbound/retention.ts).

const HOUR = 3600_000;

/** Stores one received event and a delivery per given status, as the subscriber and WebhookDelivery would. */
async function storeEvent(db: Db, receivedAt: number, statuses: string[]): Promise<number> {
  const eventId = randomUUID();
  const { sequence } = await db
    .insertInto('normalized_events')
    .values({
      event_id: eventId,
      topic_name: '/event/Test__e',
      replay_id: receivedAt,
      event_type: 'Interaction',
      channel_address_identifier: 'channel',
      ordering_key: 'conversation',
      body: '{}',
      received_at: receivedAt,
    })
    .returning('sequence')
    .executeTakeFirstOrThrow();
  for (const [i, status] of statuses.entries()) {
    await db
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: `dlv_${randomUUID()}`,
        event_sequence: sequence,
        event_id: eventId,
        endpoint_id: `ep_${i}`,
        ordering_key: 'conversation',
        status,
        attempts: 1,
        next_attempt_at: receivedAt,
        last_attempt_at: receivedAt,
        last_status_code: status === 'succeeded' ? 200 : 503,
        last_error: null,
        delivered_at: status === 'succeeded' ? receivedAt : null,
        lease_owner: null,
        lease_until: null,
        created_at: receivedAt,
      })
      .execute();
  }
  return sequence;
}

for (const kind of storeKinds()) {
  describe(`sweeping received events past their retention (${kind})`, () => {
    let store: Awaited<ReturnType<typeof openTestStore>>;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(() => store.dispose());

    test('old events with no pending delivery go with their deliveries; pending ones, young ones and their deliveries stay', async () => {
      const { db, runTransaction } = store.store;
      const now = Date.now();
      const old = now - 200 * HOUR;
      // Many steps of the sweep (100 events each), with the events to keep among them.
      const kept: number[] = [];
      let doomedDeliveries = 0;
      for (let i = 0; i < 1_100; i++) {
        const statuses = i % 3 === 0 ? ['succeeded'] : i % 3 === 1 ? ['succeeded', 'dead'] : [];
        doomedDeliveries += statuses.length;
        await storeEvent(db, old + i, statuses);
        if (i === 250 || i === 700) kept.push(await storeEvent(db, old + i, ['succeeded', 'pending']));
        if (i === 900) kept.push(await storeEvent(db, old + i, ['pending']));
      }
      const young = [await storeEvent(db, now - HOUR, ['succeeded']), await storeEvent(db, now, ['pending'])];
      await db
        .insertInto('parked_events')
        .values([parked(1, old), parked(2, now)])
        .execute();

      const steps: number[] = [];
      const swept = await sweepOutbound(db, runTransaction, now - 168 * HOUR, (soFar) => steps.push(soFar.events));

      assert.deepEqual(swept, { events: 1_100, deliveries: doomedDeliveries, parked: 1 });
      // Steps of 100 events looked at (the kept ones among them), each reported with the running total.
      assert.equal(steps.length, Math.ceil((1_100 + kept.length) / 100));
      assert.equal(steps.at(-1), 1_100);
      assert.ok(
        steps.every((n, i) => i === 0 || n > steps[i - 1]!),
        String(steps),
      );
      const events = (await db.selectFrom('normalized_events').select('sequence').orderBy('sequence').execute()).map((r) => r.sequence);
      assert.deepEqual(events, [...kept, ...young]);
      const deliveries = await db.selectFrom('webhook_deliveries').select(['event_sequence', 'status']).orderBy('event_sequence').execute();
      assert.deepEqual(
        deliveries.map((d) => d.event_sequence),
        [kept[0], kept[0], kept[1], kept[1], kept[2], ...young],
      );
      assert.deepEqual(
        (await db.selectFrom('parked_events').select('replay_id').execute()).map((r) => r.replay_id),
        [2],
      );

      // Nothing more to do: a second sweep deletes nothing and keeps the same.
      assert.deepEqual(await sweepOutbound(db, runTransaction, now - 168 * HOUR), { events: 0, deliveries: 0, parked: 0 });
      assert.equal((await db.selectFrom('normalized_events').select('sequence').execute()).length, kept.length + young.length);
    });
  });
}

const parked = (replayId: number, at: number) => ({
  topic_name: '/event/Test__e',
  replay_id: replayId,
  event_id: null,
  reason: 'no payload',
  raw: '{}',
  parked_at: at,
});

describe('retention in a running bridge', () => {
  let bridge: BridgeProcess;
  before(async () => {
    // A failed attempt is retried after 0.2 s, then after an hour: the failing endpoint's delivery stays pending.
    bridge = await startBridge({ env: { WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.2,3600' } });
  });
  after(() => bridge.dispose());
  const deliveriesOf = async (query: string) =>
    (await managementRequest(bridge, 'GET', `/api/deliveries?${query}`)).body.deliveries as { endpointId: string; status: string }[];

  test('after a restart past the retention, delivered events are gone and the one still pending is delivered', async () => {
    const good = await startWebhookReceiver();
    const flaky = await startWebhookReceiver(() => 503);
    try {
      await managementRequest(bridge, 'POST', '/api/webhooks', { url: good.url, eventTypes: ['Message'] });
      const conversation = await startConversation(bridge, 'retention-user');
      const delivered = await sendAgentMessage(bridge, conversation, { text: 'delivered long ago' });
      await waitFor('the first delivery', () => good.delivered().some((r) => r.id === delivered.eventId));
      const flakyEndpoint = (await managementRequest(bridge, 'POST', '/api/webhooks', { url: flaky.url, eventTypes: ['Message'] })).body;
      const pending = await sendAgentMessage(bridge, conversation, { text: 'still pending' });
      await waitFor('both attempts at the flaky endpoint', () => flaky.received.filter((r) => r.id === pending.eventId).length >= 2);
      await waitFor('the good endpoint', () => good.delivered().some((r) => r.id === pending.eventId));

      // Eight days pass while the bridge is stopped (its records are made that old); it sweeps at start.
      await bridge.stop();
      const file = new Database(path.join(bridge.env.DATA_DIR!, 'bridge.sqlite'));
      file.prepare('update normalized_events set received_at = received_at - ?').run(8 * 24 * HOUR);
      file.close();
      await bridge.start();

      await waitFor('the delivered event swept', async () => (await deliveriesOf(`eventId=${delivered.eventId}`)).length === 0);
      // The event whose delivery to the failing endpoint waits for its next attempt (in an hour) stays, with
      // both of its deliveries.
      const kept = await deliveriesOf(`eventId=${pending.eventId}`);
      assert.deepEqual(kept.map((d) => `${d.endpointId === flakyEndpoint.id ? 'flaky' : 'good'} ${d.status}`).sort(), [
        'flaky pending',
        'good succeeded',
      ]);
      assert.deepEqual(await deliveriesOf(`eventId=${delivered.eventId}`), []);
    } finally {
      await good.close();
      await flaky.close();
    }
  });
});
