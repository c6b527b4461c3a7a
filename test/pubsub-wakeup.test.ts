import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callJson } from './helpers/json-api.ts';
import { connectPubSubClient, FIELDS, TOPIC, waitFor } from './helpers/outbound.ts';

// With the Pub/Sub server's poll and keepalive set to an hour, the only thing that can wake an idle
// subscription within the test is the event log's after-commit signal: an event that arrives proves
// the signal came, and came after the commit (a signal before it would find nothing to send).
for (const store of storeKinds()) {
  describe(`routing events wake a Pub/Sub subscription when they commit (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({
        store,
        env: { LOCAL_ROUTING_OWNER: 'Partner', PUBSUB_POLL_MS: '3600000', PUBSUB_KEEPALIVE_SECONDS: '3600' },
      });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    test('RoutingRequested and the Assigned work event reach a subscriber waiting on the topic, in order', async () => {
      const { localOrgLatestReplayId } = await bridge.management('/api/outbound/status');
      const client = await connectPubSubClient(bridge);
      try {
        const received: { replayId: number; payload: any }[] = [];
        client.subscribeFromReplayId(
          TOPIC,
          (_info: unknown, type: string, data: any) => {
            if (type !== 'event') return;
            const payload = JSON.parse(data.payload[FIELDS.payload]);
            // The routing events; the session the message opens (SessionStatusChanged) is published before them.
            if (payload.payload?.entryType === 'SessionStatusChanged') return;
            received.push({ replayId: data.replayId, payload });
          },
          10,
          localOrgLatestReplayId,
        );
        const from = `+1555${randomUUID().slice(0, 8)}`;
        const inbound = await postInteraction(bridge, textMessage('route me', { from }), { token });
        assert.equal(inbound.status, 202, JSON.stringify(inbound.body));
        const { conversationIdentifier, workItemIds } = inbound.body;
        await waitFor('the RoutingRequested event', () => received.length === 1);

        const org = await bridge.management('/api/org');
        const work = await callJson(
          bridge,
          'POST',
          '/agentWork',
          { userId: org.agentUsers[0].userId15, workItemId: workItemIds[0], capacityPercentage: 100 },
          { token },
        );
        assert.equal(work.status, 202, JSON.stringify(work.body));
        await waitFor('the Assigned work event', () => received.length === 2);

        assert.deepEqual(
          received.map(({ payload: { payload: content } }) =>
            content.entryPayload
              ? [content.entryPayload.conversationIdentifier, content.entryPayload.workType]
              : [content.conversationIdentifier, 'RoutingRequested'],
          ),
          [
            [conversationIdentifier, 'RoutingRequested'],
            [conversationIdentifier, 'Assigned'],
          ],
        );
        assert.ok(received[0]!.replayId < received[1]!.replayId);
      } finally {
        client.close();
      }
    });
  });
}
