import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';

for (const store of storeKinds()) {
  describe(`restart (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      bridge = await startBridge({ store });
    });
    after(() => bridge.dispose());

    test('SIGTERM stops cleanly; tokens, conversations and idempotency records survive the restart', async () => {
      const token = await accessToken(bridge);
      const requestId = crypto.randomUUID();
      const body = textMessage('before the restart', { from: 'restart-user' });
      const first = await postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
      assert.equal(first.status, 202);
      const adminKey = bridge.adminKey;

      assert.equal(await bridge.stop(), 0, 'exit code after SIGTERM');
      assert.match(bridge.output(), /"msg":"stopped"/);
      await bridge.restart();

      const conversation = await bridge.management(`/api/conversations/${first.body.conversationIdentifier}`);
      // The end user's message, then the session it opened (SessionStatusChanged).
      assert.deepEqual(
        conversation.entries.map((e: any) => e.entryType),
        ['Message', 'SessionStatusChanged'],
      );
      assert.equal(conversation.entries[0].payload.abstractMessage.staticContent.text, 'before the restart');

      const replay = await postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
      assert.equal(replay.status, 202);
      assert.deepEqual(replay.body, first.body);

      const after = await postInteraction(bridge, textMessage('after the restart', { from: 'restart-user' }), { token });
      assert.equal(after.status, 202, 'the token issued before the restart still works');
      assert.equal(after.body.conversationIdentifier, first.body.conversationIdentifier);
      assert.equal((await bridge.management(`/api/conversations/${first.body.conversationIdentifier}`)).entries.length, 3);
      assert.equal(bridge.adminKey, adminKey);
    });

    test('an expired token is refused with 401 10004', async () => {
      await bridge.stop();
      const shortLived = await startBridge({ store: 'sqlite', env: { ACCESS_TOKEN_TTL_SECONDS: '1' } });
      try {
        const token = await accessToken(shortLived);
        await new Promise((r) => setTimeout(r, 1200));
        const res = await postInteraction(shortLived, textMessage('too late'), { token });
        assert.equal(res.status, 401);
        assert.equal(res.body.code, 10004);
      } finally {
        await shortLived.dispose();
      }
    });
  });
}
