import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import {
  connectPubSubClient,
  eventRecord,
  managementRequest,
  sendAgentMessage,
  startConversation,
  startWebhookReceiver,
  TOPIC,
  waitFor,
} from './helpers/outbound.ts';

const deliveriesOf = async (bridge: BridgeProcess, query: string) =>
  (await managementRequest(bridge, 'GET', `/api/deliveries?${query}`)).body.deliveries as any[];

for (const store of storeKinds()) {
  describe(`outbound webhooks (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      // Four attempts 200 ms apart, so retries and dead-lettering happen within a test.
      bridge = await startBridge({ store, env: { WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.2,0.2,0.2' } });
    });
    after(() => bridge.dispose());

    // Each test's endpoints go with it: a receiver that closed leaves its port free for a later test's, and
    // a stale endpoint on that port would deliver to the new receiver too.
    const created: string[] = [];
    const createEndpoint = async (body: Record<string, unknown>) => {
      const response = await managementRequest(bridge, 'POST', '/api/webhooks', body);
      if (response.status === 201) created.push(response.body.id);
      return response;
    };
    afterEach(async () => {
      for (const id of created.splice(0)) await managementRequest(bridge, 'DELETE', `/api/webhooks/${id}`);
    });

    test('text, attachment, typing and RoutingRequested events arrive normalized, in order and signed', async () => {
      const receiver = await startWebhookReceiver();
      const typingOnly = await startWebhookReceiver();
      try {
        const endpoint = (await createEndpoint({ url: receiver.url, channelAddressIdentifier: LOCAL_ORG.channel })).body;
        assert.match(endpoint.secret, /^whsec_/);
        const filtered = await createEndpoint({
          url: typingOnly.url,
          eventTypes: ['TypingStartedIndicator'],
        });
        assert.equal(filtered.status, 201);

        const endUser = 'webhook-user-1';
        const conversation = await startConversation(bridge, endUser);
        const text = await sendAgentMessage(bridge, conversation, { text: 'Your parcel ships today.' });
        const attachment = await sendAgentMessage(bridge, conversation, {
          text: 'Here is the label',
          attachments: [{ url: 'https://files.example.test/labels/label-7.pdf', mimeType: 'application/pdf' }],
        });
        const typing = await managementRequest(bridge, 'POST', `/api/conversations/${conversation}/typing`, { state: 'started' });
        assert.equal(typing.status, 201);
        const client = await connectPubSubClient(bridge);
        const routing = await client.publish(
          TOPIC,
          eventRecord({
            eventType: 'RoutingRequested',
            payload: JSON.stringify({
              channelAddressIdentifier: LOCAL_ORG.channel,
              recipient: { appType: 'custom', subject: endUser, role: 'EndUser' },
              payload: { conversationIdentifier: conversation, routingType: 'Transfer', routingParameters: { isTransfer: true } },
            }),
          }),
        );
        client.close();
        const legacy = await sendAgentMessage(bridge, conversation, { text: 'Your parcel ships today.', shape: 'legacy' });

        // The conversation's session opened with its first message (SessionStatusChanged), before the five sent here.
        const all = await waitFor('six deliveries', () => receiver.delivered().length >= 6 && receiver.delivered());
        assert.equal(all.length, 6);
        assert.equal(all[0]!.json.data.entryType, 'SessionStatusChanged');
        const got = all.slice(1);
        for (const r of got) {
          assert.deepEqual(receiver.verify(endpoint.secret, r), JSON.parse(r.body), 'a valid Standard Webhooks signature');
          assert.equal(r.id, r.json.data.eventId, 'webhook-id is the event id');
        }
        const [t, a, ty, rr, lg] = got.map((r) => r.json.data);
        assert.deepEqual(
          got.map((r) => r.json.data.replayId),
          [text.replayId, attachment.replayId, typing.body.replayId, routing.replayId, legacy.replayId],
          'one conversation arrives in order',
        );

        assert.equal(t.eventType, 'Interaction');
        assert.equal(t.entryType, 'Message');
        assert.equal(t.eventId, text.eventId);
        assert.equal(t.entryId, text.entryId);
        assert.equal(t.channelAddressIdentifier, LOCAL_ORG.channel);
        assert.deepEqual(t.recipient, { appType: 'custom', subject: endUser, role: 'EndUser' });
        assert.deepEqual(t.sender, { appType: 'agent', subject: LOCAL_ORG.userId, role: 'Agent' });
        assert.equal(t.payload.abstractMessage.staticContent.text, 'Your parcel ships today.');
        assert.equal(t.shape, 'spring24');

        const file = a.payload.abstractMessage.staticContent;
        assert.equal(file.formatType, 'Attachments');
        assert.deepEqual(
          [file.attachments[0].url, file.attachments[0].name, file.attachments[0].mimeType],
          ['https://files.example.test/labels/label-7.pdf', 'label-7.pdf', 'application/pdf'],
        );

        assert.equal(ty.entryType, 'TypingStartedIndicator');
        assert.equal(rr.eventType, 'RoutingRequested');
        assert.equal(rr.entryType, null);
        assert.equal(rr.conversationIdentifier, conversation);
        assert.equal(rr.payload.routingType, 'Transfer');

        const comparable = (e: any) => ({
          ...e,
          eventId: 0,
          replayId: 0,
          entryId: 0,
          shape: 0,
          timestamps: 0,
          payload: { ...e.payload, id: 0, abstractMessage: { ...e.payload.abstractMessage, id: 0 } },
        });
        assert.equal(lg.shape, 'legacy');
        assert.equal(lg.conversationIdentifier, null, 'the legacy shape has no place for the conversation');
        assert.equal(t.conversationIdentifier, conversation, "a Spring '24 InteractionEvent names it");
        assert.deepEqual(
          { ...comparable(lg), conversationIdentifier: 0 },
          { ...comparable(t), conversationIdentifier: 0 },
          "legacy and Spring '24 give the same normalized event but for the shape and the conversation",
        );

        await waitFor('the typing indicator at the filtered endpoint', () => typingOnly.delivered().length >= 1);
        assert.deepEqual(
          typingOnly.delivered().map((r) => r.json.data.entryType),
          ['TypingStartedIndicator'],
        );
      } finally {
        await receiver.close();
        await typingOnly.close();
      }
    });

    test('an endpoint answering 500 three times gets the event on the fourth attempt, with the same webhook-id', async () => {
      const receiver = await startWebhookReceiver((attempt) => (attempt <= 3 ? 500 : 200));
      try {
        const endpoint = (await createEndpoint({ url: receiver.url })).body;
        const conversation = await startConversation(bridge, 'retry-user');
        const sent = await sendAgentMessage(bridge, conversation, { text: 'third time lucky' });
        await waitFor('the successful attempt', () => receiver.delivered().some((r) => r.id === sent.eventId));
        const attempts = receiver.received.filter((r) => r.id === sent.eventId);
        assert.deepEqual(
          attempts.map((r) => r.status),
          [500, 500, 500, 200],
        );
        assert.equal(new Set(attempts.map((r) => r.body)).size, 1, 'the same body every time');
        for (const r of attempts) receiver.verify(endpoint.secret, r);
        const [delivery] = await waitFor('the delivery record', async () => {
          const d = await deliveriesOf(bridge, `endpointId=${endpoint.id}&eventId=${sent.eventId}`);
          return d[0]?.status === 'succeeded' && d;
        });
        assert.equal(delivery.attempts, 4);
        assert.equal(delivery.lastStatusCode, 200);
      } finally {
        await receiver.close();
      }
    });

    test('a failed attempt holds its conversation: nothing after it is sent before it succeeds', async () => {
      // The first answer waits until every message is stored, so the line sends the rest pipelined;
      // the third message fails twice.
      let stored!: () => void;
      const allStored = new Promise<void>((resolve) => (stored = resolve));
      const textOf = (json: any) => String(json.data.payload?.abstractMessage?.staticContent?.text ?? '');
      let requests = 0;
      const receiver = await startWebhookReceiver(async (attempt, _id, json) => {
        if (++requests === 1) await allStored;
        return textOf(json) === 'held 3' && attempt <= 2 ? 500 : 200;
      });
      const log = () => receiver.received.map((r) => ({ text: textOf(r.json), status: r.status }));
      try {
        const url = receiver.url;
        const endpoint = (await createEndpoint({ url, eventTypes: ['Message'] })).body;
        const conversation = await startConversation(bridge, 'held-user');
        for (let i = 1; i <= 8; i++) await sendAgentMessage(bridge, conversation, { text: `held ${i}` });
        stored();
        await waitFor('every message delivered', () => log().filter((l) => l.status === 200).length === 8).catch(async (err: unknown) => {
          // Seen once in CI (not reproduced since): say what was received and what the store holds.
          const deliveries = await deliveriesOf(bridge, `endpointId=${endpoint.id}`);
          throw new Error(`${String(err)}; received ${JSON.stringify(log())}; deliveries ${JSON.stringify(deliveries)}`);
        });
        const answered = log();
        const firstOf = (text: string) => answered.findIndex((l) => l.text === text);
        const success3 = answered.findIndex((l) => l.text === 'held 3' && l.status === 200);
        assert.deepEqual(
          answered.filter((l) => l.text === 'held 3').map((l) => l.status),
          [500, 500, 200],
        );
        for (let i = 4; i <= 8; i++) assert.ok(firstOf(`held ${i}`) > success3, `held ${i} sent only after held 3 succeeded`);
        assert.deepEqual(
          answered.filter((l) => l.status === 200).map((l) => l.text),
          Array.from({ length: 8 }, (_, i) => `held ${i + 1}`),
        );
      } finally {
        await receiver.close();
      }
    });

    test('an endpoint that never recovers ends dead-lettered; a manual retry delivers once it is back', async () => {
      let healthy = false;
      const receiver = await startWebhookReceiver(() => (healthy ? 204 : 503));
      try {
        // Messages only: the session opening is an Interaction event too, and would be a dead letter of its own.
        const endpoint = (await createEndpoint({ url: receiver.url, eventTypes: ['Message'] })).body;
        const conversation = await startConversation(bridge, 'dead-letter-user');
        const sent = await sendAgentMessage(bridge, conversation, { text: 'anyone there?' });
        const [dead] = await waitFor('the dead letter', async () => {
          const d = await deliveriesOf(bridge, `status=dead&endpointId=${endpoint.id}`);
          return d.length > 0 && d;
        });
        assert.equal(dead.eventId, sent.eventId);
        assert.equal(dead.attempts, 4);
        assert.equal(dead.lastStatusCode, 503);
        assert.equal(receiver.received.length, 4);
        const status = (await managementRequest(bridge, 'GET', '/api/outbound/status')).body;
        assert.ok(status.deliveries.dead >= 1);
        assert.equal(typeof status.subscriberCheckpoint, 'number');

        healthy = true;
        const retried = await managementRequest(bridge, 'POST', `/api/deliveries/${dead.id}/retry`);
        assert.equal(retried.status, 202);
        await waitFor('the manual retry', () => receiver.delivered().length === 1);
        assert.equal(receiver.delivered()[0]!.id, sent.eventId);
        const after = (
          await waitFor('succeeded', async () => {
            const d = await deliveriesOf(bridge, `status=succeeded&endpointId=${endpoint.id}`);
            return d.length > 0 && d;
          })
        )[0];
        assert.equal(after.id, dead.id);
        assert.equal(
          (await managementRequest(bridge, 'POST', `/api/deliveries/${dead.id}/retry`)).status,
          409,
          'only dead letters are retried',
        );
        assert.equal((await managementRequest(bridge, 'POST', '/api/deliveries/dlv_nope/retry')).status, 404);
      } finally {
        await receiver.close();
      }
    });

    test('a malformed event is parked with its reason and the subscriber carries on', async () => {
      const client = await connectPubSubClient(bridge);
      const bad = await client.publish(TOPIC, eventRecord({ payload: '{"channelAddressIdentifier": ', eventType: 'Interaction' }));
      client.close();
      const conversation = await startConversation(bridge, 'after-parking-user');
      const good = await sendAgentMessage(bridge, conversation, { text: 'still flowing' });
      const parked = await waitFor('the parked event', async () => {
        const list = (await managementRequest(bridge, 'GET', '/api/parked-events')).body.parkedEvents as any[];
        return list.find((p) => p.replayId === bad.replayId);
      });
      assert.match(parked.reason, /not JSON/);
      assert.equal(parked.raw.Payload__c, '{"channelAddressIdentifier": ');
      const stream = await fetch(`${bridge.managementUrl}/api/events`, {
        headers: { authorization: `Bearer ${bridge.adminKey}`, 'last-event-id': '0' },
      });
      const reader = stream.body!.getReader();
      let text = '';
      await waitFor('the good event on the SSE stream', async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return text.includes(good.eventId);
      });
      await reader.cancel();
      assert.match(text, new RegExp(`id: \\d+\\nevent: Interaction\\ndata: \\{[^\\n]*"eventId":"${good.eventId}"`));
      assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    });

    test('the SSE stream delivers live events as they are stored', async () => {
      const conversation = await startConversation(bridge, 'sse-live-user');
      const stream = await fetch(`${bridge.managementUrl}/api/events?eventType=TypingStoppedIndicator`, {
        headers: { authorization: `Bearer ${bridge.adminKey}` },
      });
      const reader = stream.body!.getReader();
      let text = '';
      await waitFor('the stream to open', async () => {
        text += new TextDecoder().decode((await reader.read()).value);
        return text.includes(': connected');
      });
      await sendAgentMessage(bridge, conversation, { text: 'filtered out' });
      const typing = (await managementRequest(bridge, 'POST', `/api/conversations/${conversation}/typing`, { state: 'stopped' })).body;
      await waitFor('the live typing event', async () => {
        text += new TextDecoder().decode((await reader.read()).value);
        return text.includes(typing.eventId);
      });
      await reader.cancel();
      const events = text.split('\n\n').filter((block) => block.startsWith('id: '));
      assert.equal(events.length, 1, 'only the type asked for');
      assert.match(events[0]!, /^id: \d+\nevent: Interaction\ndata: /);
      assert.equal(JSON.parse(events[0]!.split('\ndata: ')[1]!).entryType, 'TypingStoppedIndicator');
    });

    test('webhook endpoints are managed through the API with precise errors', async () => {
      assert.equal((await createEndpoint({ url: 'ftp://example.test/x' })).status, 400);
      assert.equal((await createEndpoint({ url: 'http://127.0.0.1:9/x', secret: 'plain' })).body.code, 'invalid_request');
      const own = await createEndpoint({
        url: 'http://127.0.0.1:9/x',
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      });
      assert.equal(own.body.secret, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'the create answer carries the secret, once');
      const listed = (await managementRequest(bridge, 'GET', '/api/webhooks')).body.webhooks.find((w: any) => w.id === own.body.id);
      const one = (await managementRequest(bridge, 'GET', `/api/webhooks/${own.body.id}`)).body;
      const { secret: _secret, ...withoutSecret } = own.body;
      assert.deepEqual(listed, withoutSecret, 'listed without its secret');
      assert.deepEqual(one, withoutSecret, 'read without its secret');
      for (const text of [JSON.stringify(listed), JSON.stringify(one)]) assert.ok(!text.includes('whsec_'));
      assert.equal((await managementRequest(bridge, 'DELETE', `/api/webhooks/${own.body.id}`)).status, 204);
      assert.equal((await managementRequest(bridge, 'DELETE', `/api/webhooks/${own.body.id}`)).status, 404);
      assert.equal((await managementRequest(bridge, 'GET', '/api/deliveries?status=lost')).status, 400);
      assert.equal((await managementRequest(bridge, 'POST', '/api/conversations/nope/messages', { text: 'x' })).status, 404);
      assert.equal((await managementRequest(bridge, 'POST', '/api/conversations/nope/typing', { state: 'sleeping' })).status, 400);
    });

    test('an agent file is refused precisely: no name, no bytes, unknown conversation', async () => {
      const conversation = await startConversation(bridge, 'file-errors-user');
      const send = async (id: string, query: string, body?: string) => {
        const res = await fetch(`${bridge.managementUrl}/api/conversations/${id}/files${query}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': 'application/octet-stream' },
          body,
        });
        return { status: res.status, body: (await res.json()) as { code: string; message: string } };
      };
      const noName = await send(conversation, '', 'bytes');
      assert.deepEqual([noName.status, noName.body.code], [400, 'invalid_request']);
      assert.match(noName.body.message, /^name:/);
      const noBytes = await send(conversation, '?name=a.txt');
      assert.deepEqual([noBytes.status, noBytes.body.code], [400, 'invalid_request']);
      const badType = await send(conversation, '?name=a.txt&mimeType=text', 'bytes');
      assert.deepEqual([badType.status, badType.body.code], [400, 'invalid_request']);
      const unknown = await send('nope', '?name=a.txt', 'bytes');
      assert.deepEqual([unknown.status, unknown.body.code], [404, 'not_found']);
      const sent = await send(conversation, '?name=notes.txt&mimeType=text/plain', 'agent notes');
      assert.equal(sent.status, 201);
      const stored = (await managementRequest(bridge, 'GET', `/api/conversations/${conversation}`)).body.entries.at(-1).attachments[0];
      assert.deepEqual([stored.name, stored.mimeType, stored.size], ['notes.txt', 'text/plain', 11]);
    });

    test('a rotated secret signs the next deliveries; a bad secret or an unknown endpoint is refused', async () => {
      const receiver = await startWebhookReceiver();
      try {
        const endpoint = (await createEndpoint({ url: receiver.url, eventTypes: ['TypingStoppedIndicator'] })).body;
        const rotated = await managementRequest(bridge, 'POST', `/api/webhooks/${endpoint.id}/rotate-secret`, {});
        assert.equal(rotated.status, 200);
        assert.match(rotated.body.secret, /^whsec_/);
        assert.notEqual(rotated.body.secret, endpoint.secret);
        const bad = await managementRequest(bridge, 'POST', `/api/webhooks/${endpoint.id}/rotate-secret`, { secret: 'plain' });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.code, 'invalid_request');
        const read = await managementRequest(bridge, 'GET', `/api/webhooks/${endpoint.id}`);
        assert.equal(read.status, 200);
        assert.equal(read.body.secret, undefined, 'a GET never returns the secret, a rotated one neither');
        // The refusal left the rotated secret in place: the delivery below is signed with it.
        assert.equal((await managementRequest(bridge, 'POST', '/api/webhooks/ep_unknown/rotate-secret', {})).status, 404);

        const conversation = await startConversation(bridge, 'rotation-user');
        await managementRequest(bridge, 'POST', `/api/conversations/${conversation}/typing`, { state: 'stopped' });
        const [delivered] = await waitFor('the typing event', () => (receiver.delivered().length ? receiver.delivered() : undefined));
        assert.ok(receiver.verify(rotated.body.secret, delivered!));
        assert.throws(() => receiver.verify(endpoint.secret, delivered!));
        await managementRequest(bridge, 'DELETE', `/api/webhooks/${endpoint.id}`);
      } finally {
        await receiver.close();
      }
    });
  });
}
