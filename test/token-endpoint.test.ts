import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importPKCS8, SignJWT, UnsecuredJWT } from 'jose';
import { JWT_BEARER, requestToken } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function sign(pem: string, claims: Record<string, unknown>, alg = 'RS256') {
  const pkcs8 = createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString();
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(await importPKCS8(pkcs8, alg));
}

describe('OAuth 2.0 JWT bearer token endpoint', () => {
  let bridge: BridgeProcess;
  let claims: Record<string, unknown>;
  before(async () => {
    bridge = await startBridge();
    claims = { iss: LOCAL_ORG.consumerKey, sub: LOCAL_ORG.username, aud: bridge.baseUrl, exp: nowSeconds() + 300 };
  });
  after(() => bridge.dispose());

  test('a hand-signed assertion with exp in seconds gets an <orgId>!<token> access token', async () => {
    const { status, body } = await requestToken(bridge, await sign(bridge.privateKeyPem(), claims));
    assert.equal(status, 200);
    assert.match(body.access_token!, new RegExp(`^${LOCAL_ORG.orgId}![A-Za-z0-9_-]{40,}$`));
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.instance_url, bridge.baseUrl);
    assert.equal(body.id, `${bridge.baseUrl}/id/${LOCAL_ORG.orgId}/${LOCAL_ORG.userId}`);
    assert.ok(body.scope!.split(' ').includes('interaction_api'));
    assert.ok(Math.abs(Number(body.issued_at) - Date.now()) < 60_000);
  });

  test('exp in milliseconds, as the Salesforce README says to write it, is accepted', async () => {
    const { status } = await requestToken(bridge, await sign(bridge.privateKeyPem(), { ...claims, exp: Date.now() + 3_600_000 }));
    assert.equal(status, 200);
  });

  test('https://login.salesforce.com and https://test.salesforce.com are accepted audiences', async () => {
    for (const aud of ['https://login.salesforce.com', 'https://test.salesforce.com/']) {
      const { status } = await requestToken(bridge, await sign(bridge.privateKeyPem(), { ...claims, aud }));
      assert.equal(status, 200, aud);
    }
  });

  test('userinfo returns the organization, user and username for the token', async () => {
    const { body } = await requestToken(bridge, await sign(bridge.privateKeyPem(), claims));
    const res = await fetch(`${bridge.baseUrl}/services/oauth2/userinfo`, { headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(res.status, 200);
    const info = await res.json();
    assert.equal(info.organization_id, LOCAL_ORG.orgId);
    assert.equal(info.user_id, LOCAL_ORG.userId);
    assert.equal(info.preferred_username, LOCAL_ORG.username);
    const bad = await fetch(`${bridge.baseUrl}/services/oauth2/userinfo`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
  });

  const refusals: Array<[string, () => Promise<string>, string, RegExp]> = [
    ['alg none', () => Promise.resolve(new UnsecuredJWT(claims).encode()), 'invalid_grant', /RS256/],
    [
      'HS256 signed with the certificate as the secret',
      async () =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(fs.readFileSync(path.join(bridge.certsDir, 'server.crt'), 'utf8'))),
      'invalid_grant',
      /RS256/,
    ],
    [
      'a key other than the certificate’s',
      async () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return sign(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), claims);
      },
      'invalid_grant',
      /signature/,
    ],
    ['an expired assertion', async () => sign(bridge.privateKeyPem(), { ...claims, exp: nowSeconds() - 3600 }), 'invalid_grant', /expired/],
    [
      'an expired assertion in milliseconds',
      async () => sign(bridge.privateKeyPem(), { ...claims, exp: Date.now() - 3_600_000 }),
      'invalid_grant',
      /expired/,
    ],
    ['no exp', async () => sign(bridge.privateKeyPem(), { ...claims, exp: undefined }), 'invalid_grant', /exp/],
    [
      'exp beyond the cap',
      async () => sign(bridge.privateKeyPem(), { ...claims, exp: nowSeconds() + 400 * 86400 }),
      'invalid_grant',
      /future/,
    ],
    [
      'a wrong audience',
      async () => sign(bridge.privateKeyPem(), { ...claims, aud: 'https://evil.example.com' }),
      'invalid_grant',
      /audience/,
    ],
    ['an unknown consumer key', async () => sign(bridge.privateKeyPem(), { ...claims, iss: '3MVG9Unknown' }), 'invalid_client', /client/],
    ['an unknown user', async () => sign(bridge.privateKeyPem(), { ...claims, sub: 'nobody@example.com' }), 'invalid_grant', /user/],
    ['a garbage assertion', () => Promise.resolve('not-a-jwt'), 'invalid_grant', /well-formed/],
  ];
  for (const [name, makeAssertion, error, description] of refusals) {
    test(`refuses ${name} with 400 ${error}`, async () => {
      const { status, body } = await requestToken(bridge, await makeAssertion());
      assert.equal(status, 400);
      assert.equal(body.error, error);
      assert.match(body.error_description!, description);
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    });
  }

  test('refuses another grant type and a missing assertion', async () => {
    const post = (form: Record<string, string>) =>
      fetch(`${bridge.baseUrl}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams(form) });
    const wrongGrant = await post({ grant_type: 'password', username: 'x', password: 'y' });
    assert.equal(wrongGrant.status, 400);
    assert.equal((await wrongGrant.json()).error, 'unsupported_grant_type');
    const noAssertion = await post({ grant_type: JWT_BEARER });
    assert.equal(noAssertion.status, 400);
    assert.equal((await noAssertion.json()).error, 'invalid_request');
  });
});
