import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { freePort, LOCAL_ORG, printLogOnFailure, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';

/**
 * An org that counts the interactions it receives per RequestId and answers each after `delayMs`, so
 * that concurrent duplicates overlap while the first is still at the org.
 */
async function startCountingOrg(delayMs: number) {
  const received = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/services/oauth2/token') return answer(200, { access_token: `org-${randomUUID()}`, token_type: 'Bearer' });
      const requestId = String(req.headers.requestid);
      received.set(requestId, (received.get(requestId) ?? 0) + 1);
      setTimeout(() => answer(202, { conversationIdentifier: randomUUID(), id: requestId, success: true }), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

for (const store of storeKinds()) {
  describe(`bridge mode idempotency with grouped commits (${store})`, () => {
    let org: Awaited<ReturnType<typeof startCountingOrg>>;
    let bridge: BridgeProcess | undefined;
    let token: string;
    printLogOnFailure(() => bridge);
    before(async () => {
      org = await startCountingOrg(300);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      bridge = await startBridge({
        store,
        env: {
          SF_SCRT_INSTANCE_URL: org.url,
          SF_ORG_ID: LOCAL_ORG.orgId,
          SF_CONSUMER_KEY: LOCAL_ORG.consumerKey,
          SF_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n'),
          SF_SUBJECT: LOCAL_ORG.username,
          SF_AUDIENCE: org.url,
          SF_AUTH_ENDPOINT: `${org.url}/services/oauth2/token`,
          SF_AUTHORIZATION_CONTEXT: LOCAL_ORG.authorizationContext,
          // No Pub/Sub here: the subscriber retries in the background, which these tests do not need.
          SF_PUB_SUB_ENDPOINT: `127.0.0.1:${await freePort()}`,
        },
      });
      token = await accessToken(bridge);
    });
    after(async () => {
      await bridge?.dispose();
      await org.close();
    });

    test('a request sent again after its answer is replayed without a second call to the org', async () => {
      const requestId = randomUUID();
      const body = textMessage('once only');
      const first = await postInteraction(bridge!, body, { token, headers: { RequestId: requestId } });
      const again = await postInteraction(bridge!, body, { token, headers: { RequestId: requestId } });
      assert.equal(first.status, 202);
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, first.body);
      assert.equal(org.received.get(requestId), 1);
    });

    test('identical requests sent at once reach the org once; the others are told to retry or get its answer', async () => {
      const requestId = randomUUID();
      const body = textMessage('at once');
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => postInteraction(bridge!, body, { token, headers: { RequestId: requestId } })),
      );
      assert.equal(org.received.get(requestId), 1);
      const statuses = answers.map((a) => a.status).sort();
      assert.ok(statuses.includes(202), `statuses: ${statuses.join(',')}`);
      for (const a of answers) {
        if (a.status === 409) assert.equal(a.body.code, 10055);
        else assert.equal(a.status, 202);
      }
      // Once the first has its answer, a retry gets that answer.
      const retried = await postInteraction(bridge!, body, { token, headers: { RequestId: requestId } });
      assert.equal(retried.status, 202);
      assert.equal(org.received.get(requestId), 1);
    });

    test('many different requests at once, their records sharing commits, each reach the org once', async () => {
      const requests = Array.from({ length: 40 }, (_, i) => ({ requestId: randomUUID(), body: textMessage(`message ${i}`) }));
      const send = () => Promise.all(requests.map((r) => postInteraction(bridge!, r.body, { token, headers: { RequestId: r.requestId } })));
      const answers = await send();
      assert.deepEqual(
        answers.map((a) => a.status),
        requests.map(() => 202),
      );
      // Each answer was stored: sent again, each is replayed and none reaches the org a second time.
      const replays = await send();
      assert.deepEqual(
        replays.map((a) => a.body),
        answers.map((a) => a.body),
      );
      for (const r of requests) assert.equal(org.received.get(r.requestId), 1);
    });
  });
}
