import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { generate } from 'selfsigned';
import { signAssertion } from '../src/auth/assertion-signer.ts';
import { scopeAllows } from '../src/local-org/pubsub/pubsub-scopes.ts';
import { accessToken, requestToken } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { TOPIC } from './helpers/outbound.ts';

function rawPubSub(bridge: BridgeProcess): any {
  const proto = path.join(path.dirname(fileURLToPath(import.meta.resolve('salesforce-pubsub-api-client'))), '..', 'pubsub_api.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, {})) as any;
  return new pkg.eventbus.v1.PubSub(
    `localhost:${bridge.pubSubPort}`,
    grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }),
  );
}

const metadataOf = (bridge: BridgeProcess, token: string) => {
  const m = new grpc.Metadata();
  m.add('accesstoken', token);
  m.add('instanceurl', bridge.baseUrl);
  m.add('tenantid', LOCAL_ORG.orgId);
  return m;
};

const unary = (client: any, method: string, request: unknown, meta: grpc.Metadata) =>
  new Promise<{ err: grpc.ServiceError | null; res: any }>((resolve) =>
    client[method](request, meta, (err: grpc.ServiceError | null, res: any) => resolve({ err, res })),
  );

/** The status a Subscribe stream ends with after its first request. */
const subscribeStatus = (client: any, meta: grpc.Metadata) =>
  new Promise<number>((resolve) => {
    const call = client.Subscribe(meta);
    call.on('data', () => {
      call.cancel();
      resolve(grpc.status.OK);
    });
    call.on('error', (err: grpc.ServiceError) => resolve(err.code));
    call.write({ topicName: TOPIC, replayPreset: 1, numRequested: 1 });
  });

/** The status a PublishStream call answers its first request with. */
const publishStreamStatus = (client: any, meta: grpc.Metadata) =>
  new Promise<number>((resolve) => {
    const call = client.PublishStream(meta);
    call.on('data', () => {
      call.end();
      resolve(grpc.status.OK);
    });
    call.on('error', (err: grpc.ServiceError) => resolve(err.code));
    call.write({ topicName: TOPIC, events: [{ id: 'forged', schemaId: 'none', payload: Buffer.from('x') }] });
  });

test('the scope table: api or full opens every Pub/Sub RPC; interaction_api and refresh_token open none', () => {
  for (const rpc of ['GetTopic', 'GetSchema', 'Subscribe', 'Publish', 'PublishStream'] as const) {
    assert.equal(scopeAllows('interaction_api api refresh_token', rpc), true, rpc);
    assert.equal(scopeAllows('full', rpc), true, rpc);
    assert.equal(scopeAllows('refresh_token', rpc), false, rpc);
    assert.equal(scopeAllows('interaction_api', rpc), false, rpc);
    assert.equal(scopeAllows('', rpc), false, rpc);
    assert.equal(scopeAllows('apix', rpc), false, rpc);
  }
});

for (const store of storeKinds()) {
  describe(`Pub/Sub RPCs check the token's scope (${store})`, () => {
    let bridge: BridgeProcess;
    const tokenWithScopes = async (scopes: string) => {
      const pems = await generate([{ name: 'commonName', value: scopes }], { keySize: 2048, algorithm: 'sha256' });
      const created = await fetch(`${bridge.managementUrl}/api/connected-apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ certificatePem: pems.cert, scopes }),
      });
      assert.equal(created.status, 201);
      const app = (await created.json()) as { consumerKey: string };
      const assertion = await signAssertion(pems.private, {
        consumerKey: app.consumerKey,
        username: LOCAL_ORG.username,
        audience: bridge.baseUrl,
      });
      const { status, body } = await requestToken(bridge, assertion);
      assert.equal(status, 200, JSON.stringify(body));
      return body.access_token!;
    };
    before(async () => {
      bridge = await startBridge({ store });
    });
    after(() => bridge.dispose());

    test('tokens with only refresh_token or only interaction_api can neither read nor publish; the log is unchanged', async () => {
      const client = rawPubSub(bridge);
      const statusBefore = await bridge.management('/api/outbound/status');
      for (const scopes of ['refresh_token', 'interaction_api']) {
        const meta = metadataOf(bridge, await tokenWithScopes(scopes));
        const forged = { topicName: TOPIC, events: [{ id: 'forged', schemaId: 'none', payload: Buffer.from('x') }] };
        assert.equal((await unary(client, 'Publish', forged, meta)).err?.code, grpc.status.PERMISSION_DENIED, `${scopes}: Publish`);
        assert.equal(await publishStreamStatus(client, meta), grpc.status.PERMISSION_DENIED, `${scopes}: PublishStream`);
        assert.equal(
          (await unary(client, 'GetTopic', { topicName: TOPIC }, meta)).err?.code,
          grpc.status.PERMISSION_DENIED,
          `${scopes}: GetTopic`,
        );
        assert.equal(
          (await unary(client, 'GetSchema', { schemaId: 'x' }, meta)).err?.code,
          grpc.status.PERMISSION_DENIED,
          `${scopes}: GetSchema`,
        );
        assert.equal(await subscribeStatus(client, meta), grpc.status.PERMISSION_DENIED, `${scopes}: Subscribe`);
      }
      assert.deepEqual(await bridge.management('/api/outbound/status'), statusBefore);
      client.close();
    });

    test('a token with api reads the topic and may publish', async () => {
      const client = rawPubSub(bridge);
      const meta = metadataOf(bridge, await accessToken(bridge));
      const topic = await unary(client, 'GetTopic', { topicName: TOPIC }, meta);
      assert.equal(topic.err, null);
      const published = await unary(
        client,
        'Publish',
        { topicName: TOPIC, events: [{ id: 'e1', schemaId: 'unknown', payload: Buffer.from('x') }] },
        meta,
      );
      assert.equal(published.err, null, 'past the scope check: the unknown schema is a per-event error');
      assert.ok(published.res.results[0].error);
      client.close();
    });
  });
}
