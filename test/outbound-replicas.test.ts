import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, sendAgentMessage, startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';

// Two bridges on one PostgreSQL database behave as one service: each event is stored once and sent once.
describe('outbound with two replicas on one PostgreSQL', { skip: !storeKinds().includes('postgres') && 'PostgreSQL not reachable' }, () => {
  let first: BridgeProcess;
  let second: BridgeProcess;
  // Whatever before() got to start (it may have failed part way), stopped in reverse order.
  const started: BridgeProcess[] = [];
  before(async () => {
    first = await startBridge({ store: 'postgres' });
    started.push(first);
    second = await startBridge({ env: { DATABASE_URL: first.env.DATABASE_URL!, CERTS_DIR: first.certsDir } });
    started.push(second);
  });
  after(async () => {
    for (const bridge of started.reverse()) await bridge.dispose();
  });

  test('every event is delivered once, in order per conversation, whichever replica sent it', async () => {
    const receiver = await startWebhookReceiver();
    try {
      // The agent's messages: each conversation's session opening is published too, and is not counted here.
      await managementRequest(first, 'POST', '/api/webhooks', { url: receiver.url, eventTypes: ['Message'] });
      const conversations = [];
      for (const user of ['replica-a', 'replica-b', 'replica-c']) conversations.push(await startConversation(first, user));
      const sent: { eventId: string; conversation: string }[] = [];
      for (let i = 0; i < 30; i++) {
        const conversation = conversations[i % 3]!;
        const replica = i % 2 === 0 ? first : second;
        const result = await sendAgentMessage(replica, conversation, { text: `via ${i % 2 === 0 ? 'first' : 'second'} ${i}` });
        sent.push({ eventId: result.eventId, conversation });
      }
      await waitFor('all 30 delivered', () => receiver.delivered().length >= 30);
      const ids = receiver.received.map((r) => r.id);
      assert.equal(ids.length, 30, 'no event sent twice');
      assert.deepEqual(new Set(ids), new Set(sent.map((s) => s.eventId)));
      for (const conversation of conversations) {
        const expected = sent.filter((s) => s.conversation === conversation).map((s) => s.eventId);
        assert.deepEqual(
          ids.filter((id) => expected.includes(id)),
          expected,
          `conversation ${conversation} in order`,
        );
      }
    } finally {
      await receiver.close();
    }
  });
});
