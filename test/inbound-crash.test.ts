import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';

/** Enough senders at once that requests share SQLite commits (group commit) when the kill lands. */
const SENDERS = 24;
const END_USERS = 6;

interface Accepted {
  requestId: string;
  entryId: string;
  from: string;
  text: string;
  /** The request body as sent: a retry sends it again unchanged. */
  body: unknown;
  conversationIdentifier: string;
}

for (const store of storeKinds()) {
  describe(`inbound messages across a SIGKILL (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      bridge = await startBridge({ store });
    });
    after(() => bridge.dispose());

    test('every message answered 202 before the kill is stored after it, once, in the order each sender sent it', async (t) => {
      const token = await accessToken(bridge);
      const accepted: Accepted[] = [];
      let stopped = false;
      const isStopped = () => stopped;
      const sender = async (n: number) => {
        const from = `+1555000${n % END_USERS}`;
        for (let i = 0; !isStopped(); i++) {
          const requestId = randomUUID();
          const entryId = randomUUID();
          const text = `sender ${n} message ${i}`;
          const body = textMessage(text, { id: entryId, from });
          try {
            const res = await postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
            if (res.status !== 202) throw new Error(`answered ${res.status}: ${JSON.stringify(res.body)}`);
            accepted.push({ requestId, entryId, from, text, body, conversationIdentifier: res.body.conversationIdentifier });
          } catch (err) {
            if (isStopped()) return; // the server is gone: what was not answered 202 was not promised
            throw err;
          }
        }
      };
      const senders = Array.from({ length: SENDERS }, (_, n) => sender(n));
      while (accepted.length < 300) await new Promise((r) => setTimeout(r, 20));
      stopped = true;
      await bridge.kill();
      await Promise.all(senders);
      t.diagnostic(`${accepted.length} messages answered 202 before the kill`);

      await bridge.start();
      const conversations = new Map<string, { entries: { entryId: string; requestId: string }[] }>();
      for (const id of new Set(accepted.map((a) => a.conversationIdentifier))) {
        conversations.set(id, await bridge.management(`/api/conversations/${id}`));
      }
      for (const a of accepted) {
        const stored = conversations.get(a.conversationIdentifier)!.entries.filter((e) => e.entryId === a.entryId);
        assert.equal(stored.length, 1, `message ${a.text} (${a.entryId}) stored once`);
        assert.equal(stored[0]!.requestId, a.requestId);
      }
      // Per sender, the stored order is the order in which its messages were answered (each waits for the last).
      for (let n = 0; n < SENDERS; n++) {
        const mine = accepted.filter((a) => a.text.startsWith(`sender ${n} `));
        const conversation = mine[0] && conversations.get(mine[0].conversationIdentifier)!;
        if (!conversation) continue;
        const positions = mine.map((a) => conversation.entries.findIndex((e) => e.entryId === a.entryId));
        assert.deepEqual(
          positions,
          [...positions].sort((x, y) => x - y),
          `sender ${n}'s messages in order`,
        );
      }

      // A client that lost its answer to the kill retries: an answered request is replayed, not stored again.
      const last = accepted.at(-1)!;
      const retry = await postInteraction(bridge, last.body, {
        token: await accessToken(bridge),
        headers: { RequestId: last.requestId },
      });
      assert.equal(retry.status, 202);
      assert.equal(retry.body.id, last.entryId);
      const after = await bridge.management(`/api/conversations/${last.conversationIdentifier}`);
      assert.equal(after.entries.filter((e: { entryId: string }) => e.entryId === last.entryId).length, 1);
    });
  });
}
