import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, sendAgentMessage, startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';

const CONCURRENCY = 4;
/** Deliveries a conversation may send ahead of their recorded outcomes: the most a crash re-sends per line. */
const PIPELINE_DEPTH = 8;

for (const store of storeKinds()) {
  describe(`outbound after SIGKILL (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      bridge = await startBridge({
        store,
        env: {
          WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.2,0.5,1',
          WEBHOOK_CONCURRENCY: String(CONCURRENCY),
          WEBHOOK_PIPELINE_DEPTH: String(PIPELINE_DEPTH),
          WEBHOOK_TIMEOUT_MS: '3000',
        },
      });
    });
    after(() => bridge.dispose());

    test('every event published before the kill reaches a healthy endpoint once per webhook-id, in order per conversation', async (t) => {
      const receiver = await startWebhookReceiver();
      try {
        const endpoint = (await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url })).body;
        const conversations = [await startConversation(bridge, 'crash-user-a'), await startConversation(bridge, 'crash-user-b')];
        const acknowledged: { eventId: string; replayId: number; conversation: string }[] = [];
        // Agent messages keep flowing; the kill lands once deliveries are under way.
        const flow = (async () => {
          for (let i = 0; ; i++) {
            const conversation = conversations[i % 2]!;
            try {
              const sent = await sendAgentMessage(bridge, conversation, {
                text: `message ${i}`,
                shape: i % 3 === 0 ? 'legacy' : 'spring24',
              });
              acknowledged.push({ eventId: sent.eventId, replayId: sent.replayId, conversation });
            } catch {
              return; // the server is gone: whatever was not acknowledged was not published
            }
          }
        })();
        await waitFor('deliveries under way', () => acknowledged.length >= 20 && receiver.received.length >= 10);
        await bridge.kill();
        await flow;
        const beforeKill = acknowledged.length;

        await bridge.start();
        const expected = new Set(acknowledged.map((a) => a.eventId));
        await waitFor(
          'every acknowledged event delivered',
          () => [...expected].every((id) => receiver.delivered().some((r) => r.id === id)),
          60_000,
        );

        // Nothing published is lost; nothing is stored or delivered twice by the bridge.
        // Also an event whose request was cut by the kill after it committed: published, so delivered too.
        await waitFor('the subscriber caught up with the log', async () => {
          const status = (await managementRequest(bridge, 'GET', '/api/outbound/status')).body;
          return status.subscriberCheckpoint === status.localOrgLatestReplayId;
        });
        const deliveries = await waitFor('every stored event delivered', async () => {
          const list = (await managementRequest(bridge, 'GET', `/api/deliveries?endpointId=${endpoint.id}&limit=1000`)).body
            .deliveries as any[];
          return list.every((d) => d.status === 'succeeded') && list;
        });
        assert.equal(new Set(deliveries.map((d) => d.eventId)).size, deliveries.length, 'one delivery record per event and endpoint');
        const byId = new Map<string, number>();
        for (const r of receiver.received) byId.set(r.id, (byId.get(r.id) ?? 0) + 1);
        assert.deepEqual(new Set(deliveries.map((d) => d.eventId)), new Set(byId.keys()), 'every received id is a stored event');
        for (const id of expected) assert.ok(byId.has(id), `event ${id} delivered`);
        // POSTs answered 200 before the kill, but not yet recorded, are sent again with the same webhook-id
        // (receivers deduplicate on it): at most the pipeline depth per delivery line in flight at the kill.
        const resent = [...byId.values()].filter((n) => n > 1);
        t.diagnostic(
          `${beforeKill} events acknowledged before the kill, ${expected.size} delivered, ${resent.length} re-sent once after the restart`,
        );
        assert.ok(resent.every((n) => n === 2) && resent.length <= CONCURRENCY * PIPELINE_DEPTH, `re-sent ids: ${resent.length}`);

        // Per conversation, first receipts follow the publication order.
        const firstSeen = new Map<string, number>();
        receiver.received.forEach((r, i) => firstSeen.has(r.id) || firstSeen.set(r.id, i));
        for (const conversation of conversations) {
          const ordered = acknowledged.filter((a) => a.conversation === conversation).map((a) => firstSeen.get(a.eventId)!);
          assert.deepEqual(
            ordered,
            [...ordered].sort((x, y) => x - y),
            `conversation ${conversation} in order`,
          );
        }
        await waitFor('the restarted subscriber resuming after its checkpoint', () =>
          /"after":\d+,"msg":"subscribed to the outbound topic"/.test(bridge.output()),
        );
      } finally {
        await receiver.close();
      }
    });
  });
}
