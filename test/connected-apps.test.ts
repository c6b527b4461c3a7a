import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { signAssertion } from '../src/auth/assertion-signer.ts';
import { postInteraction, requestToken, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';

describe('partner connected apps through the management API', () => {
  let bridge: BridgeProcess;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.dispose());

  const manage = (method: string, pathname: string, body?: unknown) =>
    fetch(`${bridge.managementUrl}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test('register an app with its certificate, get a token with its key, use it, delete it and the token stops working', async () => {
    const pems = await generate([{ name: 'commonName', value: 'partner' }], { keySize: 2048, algorithm: 'sha256' });
    const created = await manage('POST', '/api/connected-apps', { certificatePem: pems.cert });
    assert.equal(created.status, 201);
    const app = await created.json();
    assert.match(app.consumerKey, /^3MVG9/);

    const assertion = await signAssertion(pems.private, {
      consumerKey: app.consumerKey,
      username: LOCAL_ORG.username,
      audience: bridge.baseUrl,
    });
    const { status, body } = await requestToken(bridge, assertion);
    assert.equal(status, 200);
    const ok = await postInteraction(bridge, textMessage('from the partner app'), { token: body.access_token! });
    assert.equal(ok.status, 202);

    const listed = await (await manage('GET', '/api/connected-apps')).json();
    assert.deepEqual(
      listed.connectedApps.map((a: { consumerKey: string }) => a.consumerKey).sort(),
      [LOCAL_ORG.consumerKey, app.consumerKey].sort(),
    );

    assert.equal((await manage('DELETE', `/api/connected-apps/${encodeURIComponent(app.consumerKey)}`)).status, 204);
    const revoked = await postInteraction(bridge, textMessage('after deletion'), { token: body.access_token! });
    assert.deepEqual([revoked.status, revoked.body.code], [401, 10004]);
    const again = await requestToken(bridge, assertion);
    assert.deepEqual([again.status, again.body.error], [400, 'invalid_client']);
  });

  test('refuses a certificate that is not one, a duplicate key, and an unknown app', async () => {
    const bad = await manage('POST', '/api/connected-apps', { certificatePem: 'nope' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'invalid_request');
    const pems = await generate([{ name: 'commonName', value: 'dup' }], { keySize: 2048, algorithm: 'sha256' });
    const dup = await manage('POST', '/api/connected-apps', { certificatePem: pems.cert, consumerKey: LOCAL_ORG.consumerKey });
    assert.equal(dup.status, 409);
    assert.equal((await manage('DELETE', '/api/connected-apps/3MVG9nothing')).status, 404);
  });
});
