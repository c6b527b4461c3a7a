import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LOCAL_ORG, printLogOnFailure, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, sendAgentMessage, startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';

describe('the local loop with an HTTP proxy in the environment', () => {
  let bridge: BridgeProcess;
  before(async () => {
    // A proxy nothing listens on: were the bridge's own subscriber sent to it, no event would come out.
    const proxy = 'http://127.0.0.1:9';
    bridge = await startBridge({ env: { https_proxy: proxy, http_proxy: proxy, grpc_proxy: proxy, no_proxy: 'example.com' } });
  });
  after(() => bridge.dispose());
  printLogOnFailure(() => bridge);

  test('an agent reply still reaches the webhook: loopback Pub/Sub bypasses the proxy', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const created = await managementRequest(bridge, 'POST', '/api/webhooks', {
        url: receiver.url,
        channelAddressIdentifier: LOCAL_ORG.channel,
      });
      assert.equal(created.status, 201);
      const conversation = await startConversation(bridge, 'proxy-user');
      await sendAgentMessage(bridge, conversation, { text: 'Through no proxy at all' });
      const delivered = await waitFor('the agent reply at the webhook', () =>
        receiver.delivered().find((r) => r.body.includes('Through no proxy at all')),
      );
      assert.ok(JSON.stringify(delivered.json).includes('Through no proxy at all'));
    } finally {
      await receiver.close();
    }
  });
});
