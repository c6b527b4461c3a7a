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

    test('across a SIGKILL: every request answered before it is replayed, never sent again; the others go through on retry', async (t) => {
      const answered: { requestId: string; body: unknown; answer: unknown }[] = [];
      const unanswered: { requestId: string; body: unknown }[] = [];
      let stopped = false;
      const isStopped = () => stopped;
      const sender = async (n: number) => {
        for (let i = 0; !isStopped(); i++) {
          const r = { requestId: randomUUID(), body: textMessage(`sender ${n} message ${i}`) };
          try {
            const res = await postInteraction(bridge!, r.body, { token, headers: { RequestId: r.requestId } });
            if (res.status !== 202) throw new Error(`answered ${res.status}: ${JSON.stringify(res.body)}`);
            answered.push({ ...r, answer: res.body });
          } catch (err) {
            if (!isStopped()) throw err;
            unanswered.push(r); // the bridge is gone: not answered, so nothing was promised
            return;
          }
        }
      };
      // The org answers after 300 ms, so when the kill lands some requests are at the org, some records
      // are committing and some answers are on their way back.
      const senders = Array.from({ length: 16 }, (_, n) => sender(n));
      while (answered.length < 60) await new Promise((r) => setTimeout(r, 20));
      stopped = true;
      await bridge!.kill();
      await Promise.all(senders);
      t.diagnostic(`${answered.length} answered before the kill, ${unanswered.length} in flight`);
      await bridge!.start();

      for (const r of answered) {
        const again = await postInteraction(bridge!, r.body, { token, headers: { RequestId: r.requestId } });
        assert.equal(again.status, 202);
        assert.equal(again.headers.get('idempotent-replayed'), 'true');
        assert.deepEqual(again.body, r.answer);
        assert.equal(org.received.get(r.requestId), 1);
      }
      // Unanswered, the partner retries: the org may get it a second time (it may have had it), and the
      // partner gets an answer. On SQLite nothing is left over to wait for; on PostgreSQL a reservation
      // left by the killed process answers RequestInProgress until it is taken to be abandoned.
      for (const r of unanswered) {
        const retried = await postInteraction(bridge!, r.body, { token, headers: { RequestId: r.requestId } });
        if (store === 'sqlite') assert.equal(retried.status, 202, JSON.stringify(retried.body));
        else assert.ok(retried.status === 202 || retried.body.code === 10055, JSON.stringify(retried.body));
      }
    });
  });
}
