import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { accessToken } from './helpers/api-client.ts';
import { LOCAL_ORG, printLogOnFailure, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import {
  connectPubSubClient,
  eventRecord,
  FIELDS,
  managementRequest,
  runSubscribeScript,
  sendAgentMessage,
  startConversation,
  startWebhookReceiver,
  TOPIC,
  waitFor,
} from './helpers/outbound.ts';

/** A bare gRPC client of eventbus.v1.PubSub (from the proto the client package ships), to see raw status codes. */
function rawPubSub(bridge: BridgeProcess): any {
  const proto = path.join(path.dirname(fileURLToPath(import.meta.resolve('salesforce-pubsub-api-client'))), '..', 'pubsub_api.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, {})) as any;
  return new pkg.eventbus.v1.PubSub(
    `localhost:${bridge.pubSubPort}`,
    grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }),
  );
}

function metadata(values: Record<string, string>) {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(values)) m.add(k, v);
  return m;
}

const unary = (client: any, method: string, request: unknown, meta: grpc.Metadata) =>
  new Promise<{ err: grpc.ServiceError | null; res: any }>((resolve) =>
    client[method](request, meta, (err: grpc.ServiceError | null, res: any) => resolve({ err, res })),
  );

for (const store of storeKinds()) {
  describe(`outbound Pub/Sub API (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      bridge = await startBridge({ store, env: { PUBSUB_KEEPALIVE_SECONDS: '1' } });
    });
    after(() => bridge.dispose());
    printLogOnFailure(() => bridge);

    test('a separate script with the real client decodes agent messages in both shapes', async () => {
      const conversation = await startConversation(bridge);
      const spring = await sendAgentMessage(bridge, conversation, { text: 'Spring shape reply' });
      const legacy = await sendAgentMessage(bridge, conversation, { text: 'Legacy shape reply', shape: 'legacy' });
      assert.equal(spring.shape, 'spring24', 'the channel default');
      assert.equal(legacy.replayId, spring.replayId + 1);

      const events = await runSubscribeScript(bridge, ['--from', String(spring.replayId - 1), '--count', '2']);
      assert.deepEqual(
        events.map((e) => e.replayId),
        [spring.replayId, legacy.replayId],
      );
      assert.equal(events[0]!.id, spring.eventId);

      const springFields = events[0]!.fields;
      assert.equal(springFields[FIELDS.eventType], 'Interaction');
      assert.equal(springFields[FIELDS.channelAddressId], null);
      const springPayload = JSON.parse(springFields[FIELDS.payload]);
      assert.equal(springPayload.channelAddressIdentifier, LOCAL_ORG.channel);
      assert.deepEqual(springPayload.recipient, { appType: 'custom', subject: LOCAL_ORG.endUser, role: 'EndUser' });
      assert.equal(springPayload.conversationIdentifier, conversation, 'an InteractionEvent names its conversation');
      assert.equal(
        springPayload.payload.entryPayload.abstractMessage.staticContent.text,
        'Spring shape reply',
        'the entry nested under payload',
      );
      assert.equal(typeof springFields.CreatedDate, 'number');

      const legacyFields = events[1]!.fields;
      assert.equal(legacyFields[FIELDS.eventType], null);
      assert.equal(legacyFields[FIELDS.channelAddressId], LOCAL_ORG.channel);
      assert.equal(JSON.parse(legacyFields[FIELDS.recipient]).subject, LOCAL_ORG.endUser);
      const legacyPayload = JSON.parse(legacyFields[FIELDS.payload]);
      assert.equal(legacyPayload.channelAddressIdentifier, undefined);
      assert.equal(legacyPayload.entryPayload.abstractMessage.staticContent.text, 'Legacy shape reply');
      assert.equal(legacyPayload.sender.role, 'Agent');

      const recorded = await bridge.management(`/api/conversations/${conversation}`);
      assert.deepEqual(
        recorded.entries.slice(-2).map((e: any) => [e.sender.role, e.payload.abstractMessage.staticContent.text]),
        [
          ['Agent', 'Spring shape reply'],
          ['Agent', 'Legacy shape reply'],
        ],
      );
    });

    test('flow control: no more events than requested, then more on request; a keepalive carries the latest replay id', async () => {
      const conversation = await startConversation(bridge, 'flow-control-user');
      const sent = [];
      for (const text of ['one', 'two', 'three']) sent.push(await sendAgentMessage(bridge, conversation, { text }));
      const client = await connectPubSubClient(bridge);
      try {
        const seen: number[] = [];
        let lastEvents = 0;
        let keepalive: number | undefined;
        const errors: unknown[] = [];
        client.subscribeFromReplayId(
          TOPIC,
          (info: any, type: string, data: any) => {
            if (type === 'event') seen.push(data.replayId);
            if (type === 'error') errors.push(data);
            if (type === 'lastEvent') lastEvents++;
            if (type === 'grpcKeepAlive') keepalive = info.lastReplayId;
          },
          2,
          sent[0]!.replayId - 1,
        );
        await waitFor('the first batch', () => lastEvents === 1).catch((err: unknown) => {
          throw new Error(`${String(err)}; events seen ${JSON.stringify(seen)}; client errors: ${errors.map(String).join(' | ')}`);
        });
        await waitFor('a keepalive', () => keepalive !== undefined);
        assert.deepEqual(seen, [sent[0]!.replayId, sent[1]!.replayId], 'two requested, two sent');
        assert.equal(keepalive, sent[1]!.replayId, 'keepalive latest_replay_id is the position of the stream');
        client.requestAdditionalEvents(TOPIC, 5);
        await waitFor('the third event', () => seen.length === 3);
        assert.equal(seen[2], sent[2]!.replayId);
      } finally {
        client.close();
      }
    });

    test('Publish and PublishStream append to the topic; subscribers decode what was published', async () => {
      const client = await connectPubSubClient(bridge);
      try {
        const payload = JSON.stringify({
          channelAddressIdentifier: LOCAL_ORG.channel,
          recipient: { subject: 'pub-user' },
          payload: { routingType: 'Initial' },
        });
        const result = await client
          .publish(TOPIC, eventRecord({ payload, eventType: 'RoutingRequested' }), 'corr-1')
          .catch((err: unknown) => {
            throw new Error(`${String(err)} (cause: ${String((err as { cause?: unknown }).cause)})`);
          });
        assert.equal(result.correlationKey, 'corr-1');
        assert.ok(result.replayId > 0);

        const batch = await new Promise<any>((resolve, reject) => {
          void client.publishBatch(
            TOPIC,
            [
              { id: 'b-1', payload: eventRecord({ payload, eventType: 'RoutingRequested' }) },
              { id: 'b-2', payload: eventRecord({ payload, eventType: 'RoutingRequested' }) },
            ],
            (_info: any, type: string, data: any) => {
              if (type === 'publishResponse') resolve(data);
              if (type === 'error') reject(new Error('publishBatch failed', { cause: data }));
            },
          );
        });
        assert.deepEqual(
          batch.results.map((r: any) => r.correlationKey),
          ['b-1', 'b-2'],
        );
        assert.deepEqual(
          batch.results.map((r: any) => r.replayId),
          [result.replayId + 1, result.replayId + 2],
        );

        const events = await runSubscribeScript(bridge, ['--from', String(result.replayId - 1), '--count', '1']);
        assert.equal(events[0]!.fields[FIELDS.payload], payload);
        assert.equal(events[0]!.fields[FIELDS.eventType], 'RoutingRequested');
      } finally {
        client.close();
      }
    });

    test('auth and bad requests answer with gRPC status codes', async () => {
      const raw = rawPubSub(bridge);
      try {
        const token = await accessToken(bridge);
        const good = { accesstoken: token, instanceurl: bridge.baseUrl, tenantid: LOCAL_ORG.orgId };
        assert.equal((await unary(raw, 'GetTopic', { topicName: TOPIC }, metadata({}))).err?.code, grpc.status.UNAUTHENTICATED);
        assert.equal(
          (await unary(raw, 'GetTopic', { topicName: TOPIC }, metadata({ ...good, accesstoken: `${LOCAL_ORG.orgId}!forged` }))).err?.code,
          grpc.status.UNAUTHENTICATED,
        );
        assert.equal(
          (await unary(raw, 'GetTopic', { topicName: TOPIC }, metadata({ ...good, tenantid: '00D000000000001AAA' }))).err?.code,
          grpc.status.PERMISSION_DENIED,
        );
        assert.equal((await unary(raw, 'GetTopic', { topicName: '/event/Other__e' }, metadata(good))).err?.code, grpc.status.NOT_FOUND);
        assert.equal((await unary(raw, 'GetSchema', { schemaId: 'nope' }, metadata(good))).err?.code, grpc.status.NOT_FOUND);

        const topic = await unary(raw, 'GetTopic', { topicName: TOPIC }, metadata(good));
        assert.equal(topic.err, null);
        assert.equal(topic.res.tenantGuid, LOCAL_ORG.orgId);
        const schema = await unary(raw, 'GetSchema', { schemaId: topic.res.schemaId }, metadata(good));
        assert.deepEqual(
          JSON.parse(schema.res.schemaJson).fields.map((f: any) => f.name),
          ['CreatedDate', 'CreatedById', ...Object.values(FIELDS)],
        );

        const status = await new Promise<grpc.StatusObject>((resolve) => {
          const call = raw.Subscribe(metadata(good));
          call.on('error', () => {});
          call.on('status', resolve);
          call.write({ topicName: TOPIC, replayPreset: 2, replayId: Buffer.from([1, 2, 3]), numRequested: 1 });
        });
        assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      } finally {
        raw.close();
      }
    });
  });
}

describe('outbound subscriber keeps its subscription alive', () => {
  let bridge: BridgeProcess;
  before(async () => {
    // Streams end when their access token expires, as Salesforce's do: the subscriber must come back.
    bridge = await startBridge({ env: { ACCESS_TOKEN_TTL_SECONDS: '2' } });
  });
  after(() => bridge.dispose());

  test('after its stream ends with UNAUTHENTICATED it reconnects with a new token and resumes', async () => {
    const receiver = await startWebhookReceiver();
    try {
      // The agent's messages (the session the conversation opens is published too).
      await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url, eventTypes: ['Message'] });
      const conversation = await startConversation(bridge, 'reconnect-user');
      const before = await sendAgentMessage(bridge, conversation, { text: 'before the stream ends' });
      await waitFor('the first delivery', () => receiver.delivered().some((r) => r.id === before.eventId));
      await waitFor('a reconnect', () => /access token expired[^\n]*pub\/sub subscription failed; reconnecting/.test(bridge.output()));
      const subscriptions = () => bridge.output().match(/subscribed to the outbound topic/g)?.length ?? 0;
      await waitFor('a new subscription', () => subscriptions() >= 2);
      const afterReconnect = await sendAgentMessage(bridge, conversation, { text: 'after the reconnect' });
      await waitFor('the delivery after the reconnect', () => receiver.delivered().some((r) => r.id === afterReconnect.eventId));
      assert.deepEqual(
        receiver.delivered().map((r) => r.json.data.payload.abstractMessage.staticContent.text),
        ['before the stream ends', 'after the reconnect'],
      );
    } finally {
      await receiver.close();
    }
  });
});

describe('outbound event log retention', () => {
  let bridge: BridgeProcess;
  before(async () => {
    bridge = await startBridge({ env: { OUTBOUND_EVENT_RETENTION_HOURS: '72' } });
  });
  after(() => bridge.dispose());

  test('events older than the retention window are dropped; newer ones stay', async () => {
    const conversation = await startConversation(bridge, 'retention-user');
    const kept = await sendAgentMessage(bridge, conversation, { text: 'recent' });
    const old = await sendAgentMessage(bridge, conversation, { text: 'from long ago' });
    await bridge.stop();
    const db = new Database(path.join(bridge.dataDir, 'bridge.sqlite'));
    db.prepare('update outbound_events set created_at = ? where sequence = ?').run(Date.now() - 73 * 3600_000, old.replayId);
    db.close();
    await bridge.start();
    const remaining = () => {
      const check = new Database(path.join(bridge.dataDir, 'bridge.sqlite'), { readonly: true });
      try {
        return (check.prepare('select sequence from outbound_events').all() as { sequence: number }[]).map((r) => r.sequence);
      } finally {
        check.close();
      }
    };
    await waitFor('the sweep', () => !remaining().includes(old.replayId));
    assert.ok(remaining().includes(kept.replayId));
  });
});
