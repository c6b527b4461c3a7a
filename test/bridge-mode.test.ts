import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { callJson } from './helpers/json-api.ts';
import { parsePrometheus, sampleValue } from './helpers/prometheus.ts';
import { curlEnv, isInteractionExample, readmeExamples, runExample } from './helpers/readme-examples.ts';
import { managementRequest, sendAgentMessage, startWebhookReceiver, waitFor } from './helpers/outbound.ts';
import { attachmentRequest, bucketOf, filePart, jsonPart, pngLike, sha256, streamInteraction } from './helpers/attachments.ts';
import { bridgeModeEnv, LOCAL_ORG, runUntilExit, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';

/** The bridge's own upstream token refreshes (its Pub/Sub subscriber logs in separately, as the client library does). */
const countRefreshes = (bridge: BridgeProcess) =>
  bridge
    .output()
    .split('\n')
    .filter((l) => l.includes('refreshing it once')).length;

describe('bridge mode: a second process as the org', () => {
  let org: BridgeProcess;
  let bridge: BridgeProcess;
  let token: string;
  // Whatever before() got to start (it may have failed part way), stopped in reverse order.
  const started: BridgeProcess[] = [];
  before(async () => {
    org = await startBridge({ env: { ACCESS_TOKEN_TTL_SECONDS: '3' } });
    started.push(org);
    bridge = await startBridge({
      env: {
        ...bridgeModeEnv(org),
        UPSTREAM_DEADLINE_MS: '4000',
        UPSTREAM_ATTEMPT_TIMEOUT_MS: '1500',
        CIRCUIT_BREAKER_HALF_OPEN_AFTER_MS: '500',
      },
    });
    started.push(bridge);
    token = await accessToken(bridge);
  });
  after(async () => {
    for (const running of started.reverse()) await running.dispose();
  });

  test('the banner says bridge mode, and partners get bridge tokens for the real org id', async () => {
    assert.match(bridge.output(), /bridge mode to http:\/\/localhost:\d+ \(org 00D5g000004ByocEAC\)/);
    assert.ok(token.startsWith(`${LOCAL_ORG.orgId}!`));
    const orgView = await bridge.management('/api/org');
    assert.equal(orgView.mode, 'bridge');
  });

  test('the README curl examples, sent to the bridge as written after eval "$(npm run -s curl-env)", arrive in the org', async () => {
    const exports = curlEnv(bridge);
    assert.match(exports, new RegExp(`^export BASE_URL='${bridge.baseUrl}'$`, 'm'));
    let conversationIdentifier: string | undefined;
    // The other operations' examples reach the org through bridge-forwarding.test.ts.
    for (const example of readmeExamples().filter(isInteractionExample)) {
      const { output, body } = runExample(exports, example);
      assert.match(output, /\b202\b/, `${example.title}: ${output}`);
      conversationIdentifier ??= body.conversationIdentifier;
      assert.equal(body.conversationIdentifier, conversationIdentifier, example.title);
    }
    const inOrg = await org.management(`/api/conversations/${conversationIdentifier}`);
    assert.deepEqual(
      inOrg.entries
        .filter((e: { sender: { role: string } }) => e.sender.role === 'EndUser')
        .slice(-5)
        .map((e: { entryType: string }) => e.entryType),
      ['Message', 'TypingStartedIndicator', 'TypingStoppedIndicator', 'MessageDeliveryFailed', 'Message'],
    );
  });

  test('an interaction sent to the bridge arrives in the org, and the partner gets the org’s own answer', async () => {
    const body = textMessage('through the bridge', { from: `bridge-${randomUUID()}`, extra: { unknownExtra: 1 } });
    const res = await postInteraction(bridge, body, { token });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const conversation = await org.management(`/api/conversations/${res.body.conversationIdentifier}`);
    // The message, then the session it opened in the org (SessionStatusChanged).
    assert.deepEqual(
      conversation.entries.map((e: { entryType: string }) => e.entryType),
      ['Message', 'SessionStatusChanged'],
    );
    assert.equal(conversation.entries[0].payload.abstractMessage.staticContent.text, 'through the bridge');
    const orgSession = (await org.management(`/api/conversations/${res.body.conversationIdentifier}`)).messagingSessions[0];
    assert.deepEqual(res.body, {
      conversationIdentifier: conversation.conversationIdentifier,
      id: conversation.entries[0].entryId,
      workItemIds: [orgSession.workItemId.slice(0, 15)],
      success: true,
    });
  });

  test('route, agentWork (create and close) and consent sent to the bridge change the org’s state', async () => {
    const from = `+1555${randomUUID().slice(0, 8)}`;
    const opened = await postInteraction(bridge, textMessage('route me', { from }), { token });
    assert.equal(opened.status, 202);
    const { conversationIdentifier } = opened.body;
    const [workItemId] = opened.body.workItemIds;
    const orgView = await org.management('/api/org');
    const api = (method: string, p: string, body: unknown, headers?: Record<string, string>) =>
      callJson(bridge, method, p, body, { token, headers });

    const routed = await api('POST', '/route', {
      conversationIdentifier,
      routingType: 'Initial',
      routingInfo: { queueId: orgView.queues[0].queueId15 },
    });
    assert.equal(routed.status, 202, JSON.stringify(routed.body));
    assert.equal(routed.body.workItemId, workItemId);

    const work = await api('POST', '/agentWork', {
      userId: orgView.agentUsers[0].userId15,
      workItemId,
      capacityWeight: 1,
      routingContext: { conversationIdentifier, routingType: 'Initial', routingCorrelationId: randomUUID() },
    });
    assert.equal(work.status, 202, JSON.stringify(work.body));
    const closed = await api(
      'PATCH',
      '/agentWork',
      { workId: work.body.agentWorkId, status: 'Close', contextType: 'Agent' },
      { AuthorizationContextType: 'ConversationChannelDefinition' },
    );
    assert.equal(closed.status, 202, JSON.stringify(closed.body));

    const consent = await api('PATCH', '/consent', {
      endUserClientId: from,
      channelAddressIdentifier: LOCAL_ORG.channel,
      consentStatus: 'OptedOut',
    });
    assert.equal(consent.status, 200, JSON.stringify(consent.body));

    const view = await org.management(`/api/conversations/${conversationIdentifier}`);
    assert.equal(view.consentStatus, 'OptedOut');
    const session = view.messagingSessions[0];
    assert.equal(session.pendingServiceRoutings.length, 1);
    assert.equal(session.agentWork.length, 1);
    assert.equal(session.agentWork[0].status, 'Closed');

    const refused = await api('POST', '/agentWork', {
      userId: orgView.agentUsers[0].userId15,
      workItemId,
      capacityWeight: 1,
      capacityPercentage: 5,
    });
    assert.deepEqual([refused.status, refused.body.code], [400, 10013]);
  });

  test('an attachment sent to the bridge is kept in the bridge’s bucket and arrives in the org byte-exact', async () => {
    const file = pngLike(1_200_000);
    const from = `files-${randomUUID()}`;
    const res = await streamInteraction(
      bridge,
      [jsonPart(attachmentRequest([{ contentLength: file.length, text: 'my photo' }], { from })), filePart(file, 'photo.png', 'image/png')],
      { token },
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const conversation = await org.management(`/api/conversations/${res.body.conversationIdentifier}`);
    const [attachment] = conversation.entries.flatMap((e: { attachments?: any[] }) => e.attachments ?? []);
    assert.equal(attachment.name, 'photo.png');
    assert.equal(attachment.sha256, sha256(file));
    const download = await fetch(attachment.downloadUrl, { headers: { authorization: `Bearer ${org.adminKey}` } });
    assert.equal(download.status, 200);
    assert.equal(sha256(Buffer.from(await download.arrayBuffer())), sha256(file));

    const bridgeBucket = bucketOf(bridge);
    const copies = await Promise.all((await bridgeBucket.keys()).filter((k) => k.endsWith('photo.png')).map((k) => bridgeBucket.rawGet(k)));
    assert.ok(
      copies.some((c) => sha256(c.bytes) === sha256(file)),
      'the bridge kept its own byte-exact copy',
    );
  });

  test('an agent message sent in the org reaches the bridge’s webhook endpoint, normalized and signed', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const endpoint = (await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url })).body;
      const from = `outbound-${randomUUID()}`;
      const inbound = await postInteraction(bridge, textMessage('hello agent', { from }), { token });
      assert.equal(inbound.status, 202);
      const sent = await sendAgentMessage(org, inbound.body.conversationIdentifier, { text: 'Hello from the org’s agent' });
      const [hook] = await waitFor('the agent message at the bridge’s webhook', () => {
        const mine = receiver.delivered().filter((r) => r.json.data.recipient?.subject === from && r.json.data.entryType === 'Message');
        return mine.length > 0 && mine;
      });
      assert.deepEqual(receiver.verify(endpoint.secret, hook!), hook!.json, 'a valid Standard Webhooks signature');
      const event = hook!.json.data;
      assert.equal(hook!.id, event.eventId);
      assert.equal(event.eventType, 'Interaction');
      assert.equal(event.entryId, sent.entryId);
      assert.equal(event.channelAddressIdentifier, LOCAL_ORG.channel);
      assert.deepEqual(event.recipient, { appType: 'custom', subject: from, role: 'EndUser' });
      assert.equal(event.sender.role, 'Agent');
      assert.equal(event.payload.abstractMessage.staticContent.text, 'Hello from the org’s agent');
      assert.equal(event.shape, 'spring24');
      const orgView = await bridge.management('/api/org');
      assert.equal(orgView.mode, 'bridge');
    } finally {
      await receiver.close();
    }
  });

  test('every entry type the org publishes, in each payload shape, reaches the bridge’s webhook normalized the same way', async () => {
    const receiver = await startWebhookReceiver();
    try {
      assert.equal((await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url })).status, 201);
      const from = `catalog-${randomUUID()}`;
      const inbound = await postInteraction(bridge, textMessage('hello org', { from }), { token });
      assert.equal(inbound.status, 202);
      const conversation: string = inbound.body.conversationIdentifier;
      const published: { eventId: string; entryType: string; shape: string }[] = [];
      // The org's agent acts in the org (its management API); the bridge only subscribes to its topic.
      const act = async (action: string, body: Record<string, unknown>, method = 'POST') => {
        const res = await managementRequest(org, method, `/api/conversations/${conversation}/${action}`, body);
        assert.equal(res.status, 201, `${action}: ${JSON.stringify(res.body)}`);
        published.push(res.body);
        return res.body as { entryId: string };
      };
      const reply = await act('messages', { text: 'nested' });
      await act('messages', { text: 'flat', shape: 'spring24-flat' });
      await act('messages', { text: 'legacy', shape: 'legacy' });
      await act(`messages/${reply.entryId}`, { text: 'nested, edited' }, 'PATCH');
      await act('messages', {
        message: {
          messageType: 'ChoicesMessage',
          choices: {
            formatType: 'QuickReplies',
            text: 'Size?',
            optionItems: [{ itemType: 'TitleOptionItem', optionIdentifier: 's', titleItem: { itemType: 'TitleItem', title: 'S' } }],
          },
        },
      });
      await act('typing', { state: 'started' });
      await act('typing', { state: 'stopped' });
      await act('delivered', {});
      await act('read', {});
      await act('delivery-failed', { entryId: reply.entryId, errorCode: 'RecipientUnreachable' });
      await act('progress', {});
      await act('participants', { operation: 'add', participant: { subject: '005000000000XYZ' }, displayName: 'Second Agent' });
      const consent = await callJson(
        bridge,
        'PATCH',
        '/consent',
        { endUserClientId: from, channelAddressIdentifier: LOCAL_ORG.channel, consentStatus: 'OptedOut' },
        { token },
      );
      assert.equal(consent.status, 200, 'consent sent to the bridge changes the org, which publishes the change');
      await act('end', {});

      const mine = () => receiver.delivered().filter((r) => r.json.data.recipient?.subject === from);
      // And two the org publishes of itself: the session the first message opened, and the consent change.
      await waitFor('every event at the bridge’s webhook', () => mine().length === published.length + 2);
      const byId = new Map(mine().map((r) => [r.id, r.json.data]));
      for (const p of published) {
        const event = byId.get(p.eventId);
        assert.ok(event, `${p.entryType} delivered`);
        assert.equal(event.entryType, p.entryType);
        assert.equal(event.shape, p.shape);
        assert.equal(event.conversationIdentifier, p.shape === 'legacy' ? null : conversation, p.entryType);
      }
      const texts = published
        .filter((p) => p.entryType === 'Message')
        .slice(0, 3)
        .map((p) => byId.get(p.eventId).payload.abstractMessage.staticContent.text);
      assert.deepEqual(texts, ['nested', 'flat', 'legacy']);
      const consentEvent = mine().find((r) => r.json.data.entryType === 'EndUserConsentUpdated');
      assert.equal(consentEvent?.json.data.payload.consentStatus, 'OptOut');
      assert.deepEqual([...new Set(mine().map((r) => r.json.data.entryType))].sort(), [
        'DeliveryAcknowledgement',
        'EndUserConsentUpdated',
        'Message',
        'MessageDeliveryFailed',
        'MessageUpdated',
        'ParticipantChanged',
        'ProgressIndicator',
        'ReadAcknowledgement',
        'SessionStatusChanged',
        'TypingStartedIndicator',
        'TypingStoppedIndicator',
      ]);
    } finally {
      await receiver.close();
    }
  });

  test('the org’s refusals come back as the org gave them', async () => {
    const res = await postInteraction(bridge, textMessage('x', { to: randomUUID() }), { token });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 10017);

    // A bot's work is the org's to judge: the bridge forwards it, and this org has no bots.
    const bot = await callJson(
      bridge,
      'PATCH',
      '/agentWork',
      { workId: '0Bz5g00000Nope1', status: 'Close', contextType: 'Chatbot', workItemId: '0Mw5g00000Nope1', botId: 'ext-bot-1' },
      {
        token,
        headers: { AuthorizationContextType: 'ConversationChannelDefinition' },
      },
    );
    assert.deepEqual([bot.status, bot.body.code], [400, 10084]);
    assert.match(bot.body.message, /local org has no external bot "ext-bot-1"/);
  });

  test('an expired upstream token is refreshed once, transparently', async () => {
    const before = countRefreshes(bridge);
    await new Promise((r) => setTimeout(r, 3200)); // the org's tokens live 3 s here
    const res = await postInteraction(bridge, textMessage('after the upstream token expired'), { token });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(countRefreshes(bridge) - before, 1, 'exactly one refresh, then the request went through');
  });

  test('org down: 503 with Retry-After within the deadline; org back: recovers, and every 202 is in the org', async () => {
    const from = `outage-${randomUUID()}`;
    const accepted: string[] = [];
    const send = async (text: string) => {
      const body = textMessage(text, { from });
      const res = await postInteraction(bridge, body, { token });
      if (res.status === 202) accepted.push((body.interactions[0]!.payload as { id: string }).id);
      return res;
    };
    for (let i = 0; i < 5; i++) assert.equal((await send(`before ${i}`)).status, 202);

    await org.stop();
    const started = Date.now();
    const down = await send('while the org is down');
    const waited = Date.now() - started;
    assert.equal(down.status, 503);
    assert.equal(down.body.code, 10094);
    assert.match(down.headers.get('retry-after') ?? '', /^\d+$/);
    assert.ok(waited < 4000 + 2000, `answered after ${waited} ms, past the 4 s deadline`);
    const scrape = async () => parsePrometheus(await (await fetch(`${bridge.managementUrl}/metrics`)).text());
    const whileDown = await scrape();
    assert.ok((sampleValue(whileDown, 'byoc_upstream_errors_total', { reason: 'unreachable' }) ?? 0) >= 1);
    assert.ok(sampleValue(whileDown, 'byoc_upstream_circuit_state', {}) !== undefined);

    await org.restart();
    let recovered = false;
    for (let i = 0; i < 40 && !recovered; i++) {
      recovered = (await send(`after ${i}`)).status === 202;
      if (!recovered) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(recovered, 'the bridge recovered on its own');
    assert.equal(sampleValue(await scrape(), 'byoc_upstream_circuit_state', {}), 0, 'the circuit is closed again');

    const list = await org.management('/api/conversations?limit=1000');
    const conversation = list.conversations.find((c: { endUserClientIdentifier: string }) => c.endUserClientIdentifier === from);
    const entries = (await org.management(`/api/conversations/${conversation.conversationIdentifier}`)).entries;
    const inOrg = new Set(entries.map((e: { entryId: string }) => e.entryId));
    for (const id of accepted) assert.ok(inOrg.has(id), `accepted ${id} is in the org`);
  });
});

describe('bridge mode start-up failures name the setting to fix', () => {
  let org: BridgeProcess;
  before(async () => {
    org = await startBridge();
  });
  after(() => org.dispose());

  test('missing settings are all listed at once', async () => {
    const { code, output } = await runUntilExit({ SF_SCRT_INSTANCE_URL: org.baseUrl });
    assert.equal(code, 1);
    for (const name of ['SF_ORG_ID', 'SF_CONSUMER_KEY', 'SF_SUBJECT', 'SF_PRIVATE_KEY']) assert.match(output, new RegExp(name));
  });

  test('a private key that is not PEM', async () => {
    const { code, output } = await runUntilExit(bridgeModeEnv(org, { SF_PRIVATE_KEY: 'not a key' }));
    assert.equal(code, 1);
    assert.match(output, /SF_PRIVATE_KEY is not a readable/);
  });

  test('a private key the org does not know: the org refuses the assertion', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-key-')), 'other.key');
    fs.writeFileSync(file, other);
    const { code, output } = await runUntilExit(bridgeModeEnv(org, { SF_PRIVATE_KEY: '', SF_PRIVATE_KEY_FILE: file }));
    assert.equal(code, 1);
    assert.match(output, /refused the assertion — invalid_grant: .*signature/);
    assert.match(output, /SF_PRIVATE_KEY/);
  });

  test('an unreachable SF_AUTH_ENDPOINT', async () => {
    const { code, output } = await runUntilExit(
      bridgeModeEnv(org, { SF_AUTH_ENDPOINT: 'http://127.0.0.1:9/services/oauth2/token', UPSTREAM_ATTEMPT_TIMEOUT_MS: '2000' }),
    );
    assert.equal(code, 1);
    assert.match(output, /SF_AUTH_ENDPOINT http:\/\/127\.0\.0\.1:9\/services\/oauth2\/token is unreachable/);
  });

  test('a wrong SF_SUBJECT', async () => {
    const { code, output } = await runUntilExit(bridgeModeEnv(org, { SF_SUBJECT: 'nobody@example.com' }));
    assert.equal(code, 1);
    assert.match(output, /invalid_grant.*nobody@example.com/);
  });
});
