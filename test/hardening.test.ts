import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { signAssertion } from '../src/auth/assertion-signer.ts';
import { accessToken, JWT_BEARER, postInteraction, requestToken, textMessage } from './helpers/api-client.ts';
import { attachmentRequest, filePart, jsonPart, streamInteraction, type Part } from './helpers/attachments.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callApi, callJson } from './helpers/json-api.ts';

const JSON_LIMIT = 8192;
const deeplyNested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Sends raw bytes on a fresh connection and collects what comes back until the server closes it. */
function rawExchange(port: string, head: string, trickle: { bytes: number; everyMs: number } | undefined) {
  return new Promise<{ response: string; closedByServer: boolean }>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', (err) => {
      // A write racing the server's close may fail; the answer already read is what counts.
      if (!/ECONNRESET|EPIPE/.test(String(err))) reject(err);
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, closedByServer: true });
    });
    socket.write(head);
    if (trickle) {
      let sent = 0;
      timer = setInterval(() => {
        if (socket.destroyed || sent >= trickle.bytes) return;
        socket.write('x');
        sent++;
      }, trickle.everyMs);
    }
  });
}

for (const store of storeKinds()) {
  describe(`hardening: no 5xx from any input, nothing kept open by slow clients (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({
        store,
        env: { JSON_BODY_LIMIT_BYTES: String(JSON_LIMIT), HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '5000' },
      });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    const manage = (method: string, pathname: string, body?: unknown) =>
      fetch(`${bridge.managementUrl}${pathname}`, {
        method,
        headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    const conversations = () => bridge.management('/api/conversations');

    test('JSON nested 5,000 deep: 400 10089 on /interactions and /route (400 invalid_request on the management API), and again on retry', async () => {
      const before = await conversations();
      const requestId = randomUUID();
      // Written by hand: JSON.stringify itself overflows on such a value.
      const deepEntry = JSON.stringify(textMessage('deep')).replace(/}$/, `,"nested":${deeplyNested(5000)}}`);
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await postInteraction(bridge, undefined, { token, rawJson: deepEntry, headers: { RequestId: requestId } });
        assert.deepEqual([res.status, res.body.code], [400, 10089], JSON.stringify(res.body));
        const route = await callJson(bridge, 'POST', '/route', `{"conversationIdentifier":${deeplyNested(5000)}}`, {
          token,
          headers: { RequestId: requestId },
        });
        assert.deepEqual([route.status, route.body.code], [400, 10089], JSON.stringify(route.body));
      }
      const channel = await manage('POST', '/api/channels', `{"channelAddressIdentifier":${deeplyNested(5000)}}`);
      assert.equal(channel.status, 400);
      assert.equal(((await channel.json()) as { code: string }).code, 'invalid_request');
      assert.deepEqual(await conversations(), before);
    });

    test('JSON over the size limit: 400 10089; a json part of exactly the limit is accepted, one byte more is not', async () => {
      const big = await callJson(bridge, 'POST', '/route', { conversationIdentifier: 'x'.repeat(JSON_LIMIT) }, { token });
      assert.deepEqual([big.status, big.body.code], [400, 10089]);

      const body = textMessage('exact');
      const base = JSON.stringify(body);
      const padded = JSON.stringify({ ...body, padding: 'p'.repeat(JSON_LIMIT - base.length - ',"padding":""'.length) });
      assert.equal(Buffer.byteLength(padded), JSON_LIMIT);
      const exact = await postInteraction(bridge, undefined, { token, rawJson: padded });
      assert.equal(exact.status, 202, JSON.stringify(exact.body));
      const over = await postInteraction(bridge, undefined, { token, rawJson: padded.replace('"padding":"', '"padding":"p') });
      assert.deepEqual([over.status, over.body.code], [400, 10089]);
    });

    test('a json part sent as a file part is held to the same limit: exactly the limit is accepted, one byte more is 400 10089', async () => {
      const body = textMessage('exact file');
      const base = JSON.stringify(body);
      const padded = JSON.stringify({ ...body, padding: 'p'.repeat(JSON_LIMIT - base.length - ',"padding":""'.length) });
      assert.equal(Buffer.byteLength(padded), JSON_LIMIT);
      const asFile = (text: string): Part => ({
        kind: 'file',
        name: 'json',
        filename: 'body.json',
        contentType: 'application/json',
        content: Buffer.from(text),
      });
      const exact = await streamInteraction(bridge, [asFile(padded)], { token });
      assert.equal(exact.status, 202, JSON.stringify(exact.body));
      const over = await streamInteraction(bridge, [asFile(padded.replace('"padding":"', '"padding":"p'))], { token });
      assert.deepEqual([over.status, (over.body as { code: number }).code], [400, 10089], JSON.stringify(over.body));
    });

    test('a NUL character anywhere is 400, never 500, and changes nothing', async () => {
      const before = await conversations();
      const nul = '\u0000';
      const cases = [
        await postInteraction(bridge, textMessage('hi', { from: `+1555${nul}` }), { token }),
        await postInteraction(bridge, textMessage('hi', { id: `id-${nul}` }), { token }),
        await postInteraction(bridge, textMessage(`text ${nul}`), { token }),
        await callJson(bridge, 'POST', '/route', { conversationIdentifier: `c${nul}`, routingType: 'Initial' }, { token }),
        await callJson(bridge, 'PATCH', '/agent-work', { workItemId: `0Mw${nul}` }, { token }),
      ];
      for (const res of cases) assert.deepEqual([res.status, res.body.code], [400, 10089], JSON.stringify(res.body));
      for (const pathname of ['/api/conversations/a%00b', '/api/deliveries?endpointId=%00', '/api/webhooks/x%00']) {
        const res = await manage('GET', pathname);
        assert.equal(res.status, 400, pathname);
        assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
      }
      const assertion = await signAssertion(bridge.privateKeyPem(), {
        consumerKey: `${LOCAL_ORG.consumerKey}${nul}`,
        username: LOCAL_ORG.username,
        audience: bridge.baseUrl,
      });
      const refused = await requestToken(bridge, assertion);
      assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_client']);
      const badSub = await signAssertion(bridge.privateKeyPem(), {
        consumerKey: LOCAL_ORG.consumerKey,
        username: `${LOCAL_ORG.username}${nul}`,
        audience: bridge.baseUrl,
      });
      assert.deepEqual(
        [(await requestToken(bridge, badSub)).status, (await requestToken(bridge, badSub)).body.error],
        [400, 'invalid_grant'],
      );
      assert.deepEqual(await conversations(), before);
    });

    test('integers out of range are 400, never 500', async () => {
      const channel = await manage('POST', '/api/channels', {
        channelAddressIdentifier: `big-${randomUUID()}`,
        authorizationContext: 'Big',
        routingAttributeMaxLength: 3e9,
      });
      assert.equal(channel.status, 400);
      assert.equal(((await channel.json()) as { code: string }).code, 'invalid_request');
      const org = await bridge.management('/api/org');
      assert.ok(!org.channels.some((c: { authorizationContext: string }) => c.authorizationContext === 'Big'));

      const events = await manage('GET', '/api/events?after=100000000000000000000000');
      assert.equal(events.status, 400);
      await events.arrayBuffer();
      const farFuture = textMessage('far');
      farFuture.interactions[0]!.timestamp = 1e300;
      const res = await postInteraction(bridge, farFuture, { token });
      assert.equal(res.status, 400, JSON.stringify(res.body));
    });

    test('a refusal answered before the body ended says Connection: close and the server closes the socket while the client trickles', async () => {
      const head =
        'POST /api/v1/interactions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n' +
        'Content-Length: 100000\r\n\r\n--b\r\n';
      const { response, closedByServer } = await rawExchange(bridge.env.PORT!, head, { bytes: 100_000, everyMs: 50 });
      assert.match(response, /^HTTP\/1\.1 401 /);
      assert.match(response, /\r\nConnection: close\r\n/i);
      assert.ok(closedByServer);
    });

    test('headers that never finish are cut off by the headers timeout', async () => {
      const { response, closedByServer } = await rawExchange(
        bridge.env.PORT!,
        'POST /api/v1/route HTTP/1.1\r\nHost: 127.0.0.1\r\n',
        undefined,
      );
      assert.ok(closedByServer);
      assert.match(response, /^(HTTP\/1\.1 408 |$)/, 'a 408 or a plain close');
      const management = await rawExchange(bridge.env.MANAGEMENT_PORT!, 'GET /api/org HTTP/1.1\r\nHost: x\r\n', undefined);
      assert.ok(management.closedByServer);
    });

    test('UTF-8 file names are kept exactly, sent raw (RFC 7578) or as filename* (RFC 5987)', async () => {
      const names = ['café.txt', '日本語 ファイル.pdf'];
      const file = Buffer.from('%PDF-1.4 not really');
      // One attachment per request, as the contract allows: the first name raw, the second as filename*.
      const requests = [
        [jsonPart(attachmentRequest([{ contentLength: file.length }])), filePart(file, names[0], 'text/plain')],
        [
          jsonPart(attachmentRequest([{ contentLength: file.length }])),
          {
            ...filePart(file, 'fallback.pdf', 'application/pdf'),
            disposition: `form-data; name="attachments"; filename="fallback.pdf"; filename*=UTF-8''${encodeURIComponent(names[1]!)}`,
          },
        ],
      ];
      const stored: string[] = [];
      for (const parts of requests) {
        const res = await streamInteraction(bridge, parts, { token });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        const { entries } = await bridge.management(
          `/api/conversations/${(res.body as { conversationIdentifier: string }).conversationIdentifier}`,
        );
        const message = entries.filter((e: { entryType: string }) => e.entryType === 'Message').at(-1);
        stored.push((message as { attachments: Array<{ name: string }> }).attachments[0]!.name);
      }
      assert.deepEqual(stored, names);
    });

    test("replaying an accepted RequestId and body with another channel's AuthorizationContext is 403 10001, not the stored 202", async () => {
      const channel = `replay-${randomUUID()}`;
      assert.equal(
        (await manage('POST', '/api/channels', { channelAddressIdentifier: channel, authorizationContext: 'Replay_Channel' })).status,
        201,
      );
      const requestId = randomUUID();
      const body = textMessage('first', { from: `replay-${randomUUID()}` });
      const first = await postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
      assert.equal(first.status, 202);
      const again = await postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
      assert.deepEqual(again.body, first.body, 'the same caller gets the stored answer');
      const other = await postInteraction(bridge, body, {
        token,
        headers: { RequestId: requestId, AuthorizationContext: 'Replay_Channel' },
      });
      assert.deepEqual([other.status, other.body.code], [403, 10001]);
    });

    test("the token endpoint answers oversized and unreadable bodies in OAuth's shape", async () => {
      const post = (body: string, headers: Record<string, string>) =>
        fetch(`${bridge.baseUrl}/services/oauth2/token`, { method: 'POST', headers, body });
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      for (const res of [
        await post(`grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=${'a'.repeat(70_000)}`, form),
        await post('grant_type=x', { 'content-type': 'application/x-www-form-urlencoded; charset=koi8-r' }),
        await post('grant_type=x', { ...form, 'content-encoding': 'x-unknown' }),
      ]) {
        assert.equal(res.status, 400);
        const body = (await res.json()) as Record<string, unknown>;
        assert.equal(body.error, 'invalid_request');
        assert.equal(typeof body.error_description, 'string');
        assert.equal(body.code, undefined);
      }
    });

    test('an OrgId with a wrong 18-character checksum is 400 10016; its right form and the 15-character form pass', async () => {
      const wrong = `${LOCAL_ORG.orgId.slice(0, 15)}AAA`;
      assert.notEqual(wrong, LOCAL_ORG.orgId);
      const res = await callApi(bridge, 'POST', '/route', {
        token,
        headers: { OrgId: wrong },
        contentType: 'application/json',
        body: '{}',
      });
      assert.deepEqual([res.status, res.body.code], [400, 10016]);
      for (const orgId of [
        LOCAL_ORG.orgId,
        LOCAL_ORG.orgId.slice(0, 15),
        `${LOCAL_ORG.orgId.slice(0, 15)}${LOCAL_ORG.orgId.slice(15).toLowerCase()}`,
      ]) {
        const ok = await postInteraction(bridge, textMessage('org id forms'), { token, headers: { OrgId: orgId } });
        assert.equal(ok.status, 202, orgId);
      }
    });
  });
}
