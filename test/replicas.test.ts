import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { attachmentRequest, bucketAt, filePart, jsonPart, pngLike, sha256, streamInteraction } from './helpers/attachments.ts';
import { freePort, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callJson } from './helpers/json-api.ts';
import { managementRequest, sendAgentMessage, startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';
import { startReplicas, startS3Process } from './helpers/replicas.ts';
import { startRoundRobinProxy } from './helpers/round-robin-proxy.ts';

/**
 * Three compiled replicas on one PostgreSQL schema and an S3 server of their own, behind a round-robin
 * proxy that probes /readyz and retries nothing: the whole inbound and outbound path as one system.
 */
describe('three replicas behind a load balancer', { skip: !storeKinds().includes('postgres') && 'PostgreSQL not reachable' }, () => {
  let s3: Awaited<ReturnType<typeof startS3Process>>;
  let cluster: Awaited<ReturnType<typeof startReplicas>>;
  let proxy: Awaited<ReturnType<typeof startRoundRobinProxy>>;
  let replicas: BridgeProcess[];
  /** The service as partners see it: the proxy's address, tokens signed for it. */
  let service: BridgeProcess;
  let token: string;

  before(async () => {
    s3 = await startS3Process();
    const proxyPort = await freePort();
    cluster = await startReplicas(3, s3.endpoint, {
      PUBLIC_BASE_URL: `http://localhost:${proxyPort}`,
      // Longer than the proxy's probe period, so the proxy has stopped routing before a listener closes.
      SHUTDOWN_DELAY_SECONDS: '3',
    });
    replicas = cluster.replicas;
    proxy = await startRoundRobinProxy(
      replicas.map((r) => ({ port: Number(r.env.PORT), readyUrl: `http://127.0.0.1:${r.env.PORT}/readyz` })),
      { port: proxyPort, probeEveryMs: 100 },
    );
    service = { ...replicas[0]!, baseUrl: `http://localhost:${proxyPort}` };
    token = await accessToken(service);
  });
  after(async () => {
    // Each is unset when before() failed part way.
    await (cluster as typeof cluster | undefined)?.dispose();
    await (proxy as typeof proxy | undefined)?.close();
    await (s3 as typeof s3 | undefined)?.close();
  });

  test('replicas started together apply each migration once and seed the org once', async () => {
    const migrations = await cluster.query<{ name: string }>(`select name from ${cluster.schema}.kysely_migration order by name`);
    assert.ok(migrations.length >= 5);
    assert.equal(new Set(migrations.map((m) => m.name)).size, migrations.length);
    const orgs = await cluster.query<{ n: string }>(`select count(*) as n from ${cluster.schema}.orgs`);
    assert.equal(Number(orgs[0]!.n), 1);
  });

  test('the same RequestId sent to two replicas at once has one effect and one answer', async () => {
    for (let round = 0; round < 5; round++) {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const body = textMessage(`once ${round}`, { from });
      const requestId = randomUUID();
      const send = (r: BridgeProcess) => postInteraction(r, body, { token, headers: { RequestId: requestId } });
      const [a, b] = await Promise.all([send(replicas[0]!), send(replicas[1]!)]);
      assert.equal(a.status, 202, JSON.stringify(a.body));
      assert.equal(b.status, 202, JSON.stringify(b.body));
      assert.deepEqual(a.body, b.body, 'the second answer replays the first');
      const view = await replicas[2]!.management(`/api/conversations/${a.body.conversationIdentifier}`);
      assert.equal(view.entries.filter((e: any) => e.sender.role === 'EndUser').length, 1, 'one entry stored');
    }
  });

  test('one active session per conversation and one active work per agent and session hold across replicas', async () => {
    const org = await replicas[0]!.management('/api/org');
    const from = `+1555${randomUUID().slice(0, 8)}`;
    const first = await Promise.all(replicas.map((r, i) => postInteraction(r, textMessage(`hello ${i}`, { from }), { token })));
    for (const res of first) assert.equal(res.status, 202, JSON.stringify(res.body));
    const conversationIdentifier = first[0]!.body.conversationIdentifier as string;
    assert.ok(first.every((r) => r.body.conversationIdentifier === conversationIdentifier));
    const opened = first.flatMap((r) => r.body.workItemIds as string[]);
    assert.equal(opened.length, 1, 'one of the three messages opened the session');
    const view = await replicas[1]!.management(`/api/conversations/${conversationIdentifier}`);
    assert.equal(view.messagingSessions.length, 1);
    assert.equal(view.entries.filter((e: any) => e.sender.role === 'EndUser').length, 3);

    const work = {
      userId: org.agentUsers[0].userId15,
      workItemId: opened[0],
      capacityPercentage: 50,
      routingContext: { conversationIdentifier, routingType: 'Initial', routingCorrelationId: randomUUID() },
    };
    const assigned = await Promise.all(replicas.map((r) => callJson(r, 'POST', '/agentWork', work, { token })));
    const won = assigned.filter((r) => r.status === 202);
    assert.equal(won.length, 1, JSON.stringify(assigned));
    for (const lost of assigned.filter((r) => r.status !== 202)) assert.ok(lost.status >= 400 && lost.status < 500, JSON.stringify(lost));
  });

  test('an attachment stored through one replica downloads through another, from the external S3', async () => {
    const file = pngLike(300 * 1024);
    const up = await streamInteraction(
      replicas[0]!,
      [jsonPart(attachmentRequest([{ contentLength: file.length }])), filePart(file, 'scan.png')],
      {
        token,
      },
    );
    assert.equal(up.status, 202, JSON.stringify(up.body));
    const view = await replicas[2]!.management(`/api/conversations/${up.body.conversationIdentifier}`);
    const attachment = view.entries.flatMap((e: any) => e.attachments ?? [])[0];
    const res = await fetch(`${replicas[1]!.managementUrl}/api/attachments/${attachment.id}`, {
      headers: { authorization: `Bearer ${replicas[1]!.adminKey}` },
    });
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(file));
    const keys = await bucketAt(s3.endpoint, 'replica-uploads').keys();
    assert.ok(
      keys.some((k) => attachment.url.endsWith(k)),
      `${attachment.url} in ${keys.join(', ')}`,
    );
  });

  test('one replica holds the subscription; killing or stopping it moves it without a gap or a duplicate delivery', async () => {
    const holders = async () => {
      const flags = await Promise.all(
        replicas.map(async (r) => {
          try {
            return (await r.management('/api/outbound/status')).holdsSubscription === true;
          } catch {
            return false;
          }
        }),
      );
      return replicas.filter((_, i) => flags[i]);
    };
    const [holder] = await waitFor('one holder', async () => {
      const h = await holders();
      return h.length === 1 ? h : undefined;
    });
    assert.equal((await holders()).length, 1);
    const others = replicas.filter((r) => r !== holder);

    const receiver = await startWebhookReceiver();
    try {
      // The agent's messages: the session the conversation opened is published too, and is not counted here.
      await managementRequest(others[0]!, 'POST', '/api/webhooks', { url: receiver.url, eventTypes: ['Message'] });
      const conversation = await startConversation(service, `+1555${randomUUID().slice(0, 8)}`);
      const sent: string[] = [];
      for (let i = 0; i < 10; i++) sent.push((await sendAgentMessage(others[i % 2]!, conversation, { text: `before ${i}` })).eventId);
      await waitFor('the first ten delivered', () => receiver.delivered().length >= 10);
      // A webhook is at-least-once across a crash: one sent but not yet recorded is sent again (same
      // webhook-id). Waiting for the records keeps this test about the subscription's handover.
      await waitFor(
        'their outcomes recorded',
        async () => (await others[0]!.management('/api/outbound/status')).deliveries.succeeded >= 10,
      );

      await holder!.kill();
      for (let i = 0; i < 10; i++) sent.push((await sendAgentMessage(others[i % 2]!, conversation, { text: `after ${i}` })).eventId);
      const [next] = await waitFor('another holder', async () => {
        const h = await holders();
        return h.length === 1 ? h : undefined;
      });
      assert.ok(others.includes(next!));
      await waitFor('all twenty delivered', () => receiver.delivered().length >= 20);
      const ids = receiver.received.map((r) => r.id);
      assert.equal(ids.length, 20, 'no event delivered twice');
      assert.deepEqual(ids, sent, 'every event, in order');
      const recorded = await waitFor('every outcome recorded', async () => {
        const { deliveries } = await others[1]!.management('/api/outbound/status');
        return deliveries.pending === 0 ? deliveries : undefined;
      });
      assert.deepEqual(recorded, { pending: 0, succeeded: 20, dead: 0 }, 'one delivery per event');
      await holder!.start();

      // A stop (SIGTERM) hands over too: the holder commits its checkpoint and frees the lock on its way out.
      const survivor = others.find((r) => r !== next)!;
      assert.equal(await next!.stop(), 0);
      for (let i = 0; i < 10; i++) sent.push((await sendAgentMessage(survivor, conversation, { text: `handed over ${i}` })).eventId);
      await waitFor('a third holder', async () => {
        const h = await holders();
        return h.length === 1 && h[0] !== next ? h : undefined;
      });
      await waitFor('all thirty delivered', () => receiver.delivered().length >= 30);
      await next!.start();
      assert.deepEqual(
        receiver.received.map((r) => r.id),
        sent,
        'every event once, in order',
      );
    } finally {
      await receiver.close();
    }
  });

  test('a rolling restart of every replica under steady load loses no accepted request and answers no 5xx', async () => {
    await waitFor('the proxy routes to all three', () => replicas.every((r) => proxy.routesTo(Number(r.env.PORT))));
    const before = { ...proxy.counts };
    let loading = true;
    const outcomes: { status: number; conversation?: string; text: string }[] = [];
    const failures: string[] = [];
    const worker = async (w: number) => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      for (let i = 0; loading; i++) {
        const text = `load ${w}.${i}`;
        try {
          const res = await postInteraction(service, textMessage(text, { from }), { token });
          outcomes.push({ status: res.status, conversation: res.body?.conversationIdentifier, text });
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    for (const replica of replicas) {
      const pid = replica.pid();
      assert.equal(await replica.stop(), 0, `a clean exit within the bound:\n${replica.output().slice(-3000)}`);
      await replica.start();
      assert.notEqual(replica.pid(), pid);
      await waitFor('the proxy routes to the restarted replica', () => proxy.routesTo(Number(replica.env.PORT)));
    }
    loading = false;
    await load;

    assert.deepEqual(failures, [], 'no reset or refused connection reached a client');
    const bad = outcomes.filter((o) => o.status !== 202);
    assert.deepEqual(bad, [], 'every request accepted');
    assert.equal(proxy.counts.badGateway - before.badGateway, 0);
    assert.equal(proxy.counts.noBackend - before.noBackend, 0);
    assert.ok(outcomes.length > 0);
    const byConversation = new Map<string, string[]>();
    for (const o of outcomes) byConversation.set(o.conversation!, [...(byConversation.get(o.conversation!) ?? []), o.text]);
    for (const [conversation, texts] of byConversation) {
      const view = await replicas[0]!.management(`/api/conversations/${conversation}`);
      const stored = new Set(view.entries.map((e: any) => e.payload?.abstractMessage?.staticContent?.text ?? e.text));
      for (const text of texts) assert.ok(stored.has(text), `accepted "${text}" is stored`);
    }
    console.log(`# rolling restart: ${outcomes.length} requests accepted, none refused or lost`);
  });
});
