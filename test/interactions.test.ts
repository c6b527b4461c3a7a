import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, entryRequest, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';

const message = (abstractMessage: Record<string, unknown>) => {
  const id = randomUUID();
  return entryRequest({ id, entryType: 'Message', abstractMessage: { id, ...abstractMessage } });
};
const deliveryFailed = (recipient: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  entryRequest({ entryType: 'MessageDeliveryFailed', recipient, errorCode: 'Undeliverable', ...extra });
const endUser = { appType: 'custom', subject: LOCAL_ORG.endUser, role: 'EndUser' };

for (const store of storeKinds()) {
  describe(`POST /api/v1/interactions (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({ store });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    // The end user's entries: what /interactions stores (the org's own, e.g. the session opening, are left out).
    const entriesOf = async (conversationIdentifier: string) =>
      ((await bridge.management(`/api/conversations/${conversationIdentifier}`)).entries as Array<Record<string, any>>).filter(
        (e) => e.sender.role === 'EndUser',
      );

    test('a text message, typing started/stopped, delivery failure and routing attributes are accepted and kept in order', async () => {
      const from = `+1555${Date.now() % 10_000_000}`;
      const requests = [
        textMessage('Hi there', { from }),
        { ...entryRequest({ entryType: 'TypingStartedIndicator', timestamp: Date.now() }), from },
        { ...entryRequest({ entryType: 'TypingStoppedIndicator', timestamp: Date.now() }), from },
        { ...deliveryFailed({ ...endUser, subject: from }, { failedConversationEntryIdentifier: randomUUID() }), from },
        textMessage('Route me', { from, extra: { routingAttributes: { Language: 'en_US', Tier: 'Gold' } } }),
      ];
      let conversationIdentifier: string | undefined;
      for (const body of requests) {
        const res = await postInteraction(bridge, body, { token });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        assert.equal(res.body.success, true);
        assert.equal(res.body.workItemIds.length, body === requests[0] ? 1 : 0, 'only the message that opens a messaging session names it');
        assert.equal(res.body.id, (body.interactions[0]!.payload as { id: string }).id);
        conversationIdentifier ??= res.body.conversationIdentifier;
        assert.equal(res.body.conversationIdentifier, conversationIdentifier, 'one conversation per (to, from)');
      }
      const entries = await entriesOf(conversationIdentifier!);
      assert.deepEqual(
        entries.map((e) => e.entryType),
        ['Message', 'TypingStartedIndicator', 'TypingStoppedIndicator', 'MessageDeliveryFailed', 'Message'],
      );
      assert.equal(entries[0]!.payload.abstractMessage.staticContent.text, 'Hi there');
      assert.deepEqual(entries[4]!.routingAttributes, { Language: 'en_US', Tier: 'Gold' });
      assert.deepEqual(entries[0]!.sender, { role: 'EndUser', subject: from });
      const list = await bridge.management('/api/conversations');
      // The five, and the session the first opened (SessionStatusChanged).
      assert.ok(list.conversations.some((c: any) => c.conversationIdentifier === conversationIdentifier && c.entryCount === 6));
    });

    test('the json part is accepted without ;type=application/json, and unknown properties are ignored but kept', async () => {
      const body = textMessage('plain field', { extra: { somethingNew: { nested: true } } });
      (body.interactions[0]!.payload as Record<string, unknown>).futureField = 'x';
      const res = await postInteraction(bridge, body, { token, jsonPartType: 'none' });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const entries = await entriesOf(res.body.conversationIdentifier);
      assert.equal(entries.at(-1)!.payload.futureField, 'x');
    });

    test('other message and format types of the contract are accepted', async () => {
      const accepted = [
        message({ messageType: 'StaticContentMessage', staticContent: { formatType: 'Links', links: [{ url: 'https://example.com' }] } }),
        message({
          messageType: 'ChoicesResponseMessage',
          inReplyToMessageId: randomUUID(),
          choicesResponse: { formatType: 'Selections', selectedOptions: [{ optionIdentifier: randomUUID() }] },
        }),
        message({ messageType: 'FormResponseMessage', formResponse: { formatType: 'Inputs', inputValues: [] } }),
      ];
      for (const body of accepted) {
        const res = await postInteraction(bridge, body, { token });
        assert.equal(res.status, 202, JSON.stringify(res.body));
      }
    });

    test('the same RequestId and body twice: identical answer, one entry', async () => {
      const requestId = randomUUID();
      const from = `idem-${randomUUID()}`;
      const body = textMessage('only once', { from });
      const first = await postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
      const second = await postInteraction(bridge, body, { token, headers: { RequestId: requestId } });
      assert.equal(first.status, 202);
      assert.equal(second.status, first.status);
      assert.deepEqual(second.body, first.body);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal((await entriesOf(first.body.conversationIdentifier)).length, 1);

      // Real clients send one constant RequestId for every call: another body is another request.
      const third = await postInteraction(bridge, textMessage('second message', { from }), { token, headers: { RequestId: requestId } });
      assert.equal(third.status, 202);
      assert.equal((await entriesOf(first.body.conversationIdentifier)).length, 2);
    });

    test('a message id already stored in the conversation is refused with 10073, and stored once', async () => {
      const from = `dup-${randomUUID()}`;
      const id = randomUUID();
      const first = await postInteraction(bridge, textMessage('first', { from, id }), { token });
      assert.equal(first.status, 202, JSON.stringify(first.body));
      const again = await postInteraction(bridge, textMessage('again, other text and RequestId', { from, id }), { token });
      assert.equal(again.status, 400, JSON.stringify(again.body));
      assert.equal(again.body.code, 10073);
      const entries = await entriesOf(first.body.conversationIdentifier);
      assert.deepEqual(
        entries.map((e) => e.entryId),
        [id],
      );
      // The same id in another conversation is another message.
      const elsewhere = await postInteraction(bridge, textMessage('elsewhere', { from: `${from}-2`, id }), { token });
      assert.equal(elsewhere.status, 202, JSON.stringify(elsewhere.body));
    });

    test("a routing attribute longer than the channel's limit is refused with 10096, nothing stored", async () => {
      const from = `attr-${randomUUID()}`;
      const long = await postInteraction(bridge, textMessage('x', { from, extra: { routingAttributes: { Topic: 'a'.repeat(256) } } }), {
        token,
      });
      assert.equal(long.status, 400, JSON.stringify(long.body));
      assert.equal(long.body.code, 10096);
      const list = await bridge.management('/api/conversations?limit=1000');
      assert.ok(!list.conversations.some((c: any) => c.endUserClientIdentifier === from));
      const fits = await postInteraction(bridge, textMessage('x', { from, extra: { routingAttributes: { Topic: 'a'.repeat(255) } } }), {
        token,
      });
      assert.equal(fits.status, 202, JSON.stringify(fits.body));
      // On the conversation now there, the entry is stored by the statement that checks the channel: the
      // refusal that follows takes it back.
      const again = await postInteraction(bridge, textMessage('x', { from, extra: { routingAttributes: { Topic: 'a'.repeat(256) } } }), {
        token,
      });
      assert.deepEqual([again.status, again.body.code], [400, 10096]);
      assert.equal((await entriesOf(fits.body.conversationIdentifier)).length, 1, 'the refused message was not kept');
    });

    test('an empty text is accepted (the contract sets no minimum length)', async () => {
      const res = await postInteraction(bridge, textMessage(''), { token });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    });

    test('the same request fired five times at once has one effect', async () => {
      const requestId = randomUUID();
      const from = `burst-${randomUUID()}`;
      const body = textMessage('burst', { from });
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => postInteraction(bridge, body, { token, headers: { RequestId: requestId } })),
      );
      const accepted = answers.filter((a) => a.status === 202);
      assert.ok(accepted.length >= 1);
      for (const a of answers) {
        if (a.status === 202) assert.deepEqual(a.body, accepted[0]!.body);
        else assert.deepEqual([a.status, a.body.code, a.headers.get('retry-after')], [409, 10055, '1']);
      }
      assert.equal((await entriesOf(accepted[0]!.body.conversationIdentifier)).length, 1);
    });

    test('header names are case-insensitive', async () => {
      const res = await postInteraction(bridge, textMessage('lower-case headers'), {
        token,
        headers: {
          OrgId: undefined,
          AuthorizationContext: undefined,
          RequestId: undefined,
          orgid: LOCAL_ORG.orgId,
          authorizationcontext: LOCAL_ORG.authorizationContext,
          requestid: randomUUID(),
        },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    });

    const headerRefusals: Array<[string, Record<string, string | undefined>, number, number]> = [
      ['no RequestId', { RequestId: undefined }, 400, 10016],
      ['a RequestId that is not a UUID', { RequestId: 'req-1' }, 400, 10016],
      ['no OrgId', { OrgId: undefined }, 400, 10016],
      ['no AuthorizationContext', { AuthorizationContext: undefined }, 400, 10016],
      ['an OrgId of another org', { OrgId: '00D000000000001EAA' }, 401, 10004],
      ['a malformed OrgId', { OrgId: 'not-an-org' }, 400, 10016],
      ['an unknown access token', { Authorization: `Bearer ${LOCAL_ORG.orgId}!forged` }, 401, 10004],
      ['no Authorization header', { Authorization: undefined }, 401, 10004],
      ['a Basic Authorization header', { Authorization: 'Basic dXNlcjpwYXNz' }, 401, 10004],
      [
        'an AuthorizationContext that is not a channel definition of the org',
        { AuthorizationContext: 'Some_Other_Definition' },
        403,
        10005,
      ],
    ];
    for (const [name, headers, status, code] of headerRefusals) {
      test(`refuses ${name}: ${status} ${code}, nothing stored`, async () => {
        const from = `refused-${randomUUID()}`;
        const res = await postInteraction(bridge, textMessage('refused', { from }), { token, headers });
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.equal(res.body.code, code);
        assert.equal(typeof res.body.message, 'string');
        const list = await bridge.management('/api/conversations?limit=1000');
        assert.ok(!list.conversations.some((c: any) => c.endUserClientIdentifier === from));
      });
    }

    // The full table of body refusals runs without a server in contract-interaction-request.test.ts.
    const bodyRefusals: Array<[string, () => unknown, number]> = [
      ['no "to"', () => ({ ...textMessage('x'), to: undefined }), 10027],
      ['an agent-only messageType', () => message({ messageType: 'ChoicesMessage', choices: { formatType: 'Buttons' } }), 10062],
      ['an unknown channel', () => textMessage('x', { to: randomUUID() }), 10017],
      ['an empty interaction list', () => ({ ...textMessage('x'), interactions: [] }), 20003],
      [
        'a timestamp two days old',
        () => {
          const body = textMessage('x');
          return { ...body, interactions: [{ ...body.interactions[0], timestamp: Date.now() - 2 * 86_400_000 }] };
        },
        10046,
      ],
    ];
    for (const [name, makeBody, code] of bodyRefusals) {
      test(`refuses ${name} with 400 ${code}`, async () => {
        const res = await postInteraction(bridge, makeBody(), { token });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.code, code, JSON.stringify(res.body));
      });
    }

    test('a malformed or missing json part is refused with 400 10100', async () => {
      const malformed = await postInteraction(bridge, null, { token, rawJson: '{"to": ' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.code, 10100);
      const empty = await postInteraction(bridge, null, { token, rawJson: '' });
      assert.equal(empty.body.code, 10100);
    });

    test('a JSON body instead of multipart is 415 with the API error shape', async () => {
      const res = await fetch(`${bridge.baseUrl}/api/v1/interactions`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          OrgId: LOCAL_ORG.orgId,
          AuthorizationContext: LOCAL_ORG.authorizationContext,
          RequestId: randomUUID(),
          'content-type': 'application/json',
        },
        body: JSON.stringify(textMessage('x')),
      });
      assert.equal(res.status, 415);
      assert.equal((await res.json()).code, 415);
    });

    test('unknown routes are 404 in the error shape, with security headers and no stack trace', async () => {
      const res = await fetch(`${bridge.baseUrl}/api/v1/doesNotExist`, {
        headers: {
          Authorization: `Bearer ${token}`,
          OrgId: LOCAL_ORG.orgId,
          AuthorizationContext: LOCAL_ORG.authorizationContext,
          RequestId: randomUUID(),
        },
      });
      assert.equal(res.status, 404);
      const body = await res.json();
      assert.deepEqual(Object.keys(body).sort(), ['code', 'message']);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-powered-by'), null);
      const outside = await fetch(`${bridge.baseUrl}/nothing/here`);
      assert.equal(outside.status, 404);
      assert.doesNotMatch(await outside.text(), /at .*\.ts:\d+/);
    });

    test('each request is logged on one JSON line carrying its RequestId', async () => {
      const requestId = randomUUID();
      await postInteraction(bridge, textMessage('logged'), { token, headers: { RequestId: requestId } });
      await new Promise((r) => setTimeout(r, 100));
      const lines = bridge
        .output()
        .split('\n')
        .filter((l) => l.includes(requestId));
      assert.equal(lines.length, 1, lines.join('\n'));
      const line = JSON.parse(lines[0]!);
      assert.equal(line.req.requestId, requestId);
      assert.equal(line.res.statusCode, 202);
    });

    test('a second channel: its own AuthorizationContext works, another channel’s is 10001, and switched off it is 10031', async () => {
      const manage = (method: string, pathname: string, body: unknown) =>
        fetch(`${bridge.managementUrl}${pathname}`, {
          method,
          headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const channel = `second-${randomUUID()}`;
      const created = await manage('POST', '/api/channels', { channelAddressIdentifier: channel, authorizationContext: 'Second_Channel' });
      assert.equal(created.status, 201);
      assert.equal(
        (await manage('POST', '/api/channels', { channelAddressIdentifier: channel, authorizationContext: 'Second_Channel' })).status,
        409,
      );
      const org = await bridge.management('/api/org');
      assert.ok(org.channels.some((c: { channelAddressIdentifier: string }) => c.channelAddressIdentifier === channel));

      const from = `second-user-${randomUUID()}`;
      const own = await postInteraction(bridge, textMessage('on the second channel', { to: channel, from }), {
        token,
        headers: { AuthorizationContext: 'Second_Channel' },
      });
      assert.equal(own.status, 202, JSON.stringify(own.body));

      const other = await postInteraction(bridge, textMessage('wrong context', { to: channel, from }), { token });
      assert.deepEqual([other.status, other.body.code], [403, 10001]);

      assert.equal((await manage('PATCH', `/api/channels/${channel}`, { active: false })).status, 200);
      const inactive = await postInteraction(bridge, textMessage('channel off', { to: channel, from }), {
        token,
        headers: { AuthorizationContext: 'Second_Channel' },
      });
      assert.deepEqual([inactive.status, inactive.body.code], [400, 10031]);
      assert.equal((await entriesOf(own.body.conversationIdentifier)).length, 1, 'the refused messages changed nothing');
    });

    test('the management API needs the admin key', async () => {
      const res = await fetch(`${bridge.managementUrl}/api/conversations`);
      assert.equal(res.status, 401);
      const wrong = await fetch(`${bridge.managementUrl}/api/org`, { headers: { authorization: 'Bearer wrong-key' } });
      assert.equal(wrong.status, 401);
      const org = await bridge.management('/api/org');
      assert.equal(org.orgId, LOCAL_ORG.orgId);
      assert.equal(org.channels[0].channelAddressIdentifier, LOCAL_ORG.channel);
      assert.equal(org.channels[0].authorizationContext, LOCAL_ORG.authorizationContext);
      const missing = await fetch(`${bridge.managementUrl}/api/conversations/${randomUUID()}`, {
        headers: { authorization: `Bearer ${bridge.adminKey}` },
      });
      assert.equal(missing.status, 404);
    });
  });
}
