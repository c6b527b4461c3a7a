import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { accessToken } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { compileReferenceSchema, noReferenceReason, referenceYamlPath } from './helpers/interaction-event-schema.ts';
import { callJson } from './helpers/json-api.ts';
import {
  connectPubSubClient,
  FIELDS,
  managementRequest,
  startConversation,
  startWebhookReceiver,
  TOPIC,
  waitFor,
} from './helpers/outbound.ts';

const root = path.resolve(import.meta.dirname, '..');
const formats: Record<string, Record<string, unknown>> = JSON.parse(
  fs.readFileSync(path.join(root, 'test/fixtures/agent-message-formats.json'), 'utf8'),
);
const normalizedSchema = new Ajv2020({ strict: false, allErrors: true }).compile(
  JSON.parse(fs.readFileSync(path.join(root, 'schemas/normalized-event.schema.json'), 'utf8')),
);
const interactionEvent = referenceYamlPath ? compileReferenceSchema('InteractionEvent', referenceYamlPath) : undefined;

interface Published {
  entryId: string;
  label: string;
  entryType: string;
  eventId: string;
  replayId: number;
  shape: string;
}

for (const store of storeKinds()) {
  describe(`the outbound catalog from the local org's agent side (${store})`, () => {
    let bridge: BridgeProcess;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    before(async () => {
      bridge = await startBridge({ store });
      receiver = await startWebhookReceiver();
      const endpoint = await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url });
      assert.equal(endpoint.status, 201);
    });
    after(async () => {
      await receiver.close();
      await bridge.dispose();
    });

    test(
      'the YAML validator is not vacuous: it refuses an entry missing what its type requires',
      { skip: !interactionEvent && noReferenceReason },
      () => {
        const validate = interactionEvent!;
        const event = (entryPayload: Record<string, unknown>) => ({
          channelAddressIdentifier: LOCAL_ORG.channel,
          recipient: { appType: 'custom', subject: 'someone', role: 'EndUser' },
          conversationIdentifier: randomUUID(),
          payload: {
            identifier: 'e1',
            entryType: entryPayload.entryType,
            entryPayload,
            sender: { appType: 'agent', subject: LOCAL_ORG.userId, role: 'Agent' },
            transcriptedTimestamp: 1,
            clientTimestamp: 1,
            clientDuration: 0,
          },
        });
        const buttons = { ...(formats.Buttons!.choices as object), optionItems: [] };
        const message = { entryType: 'Message', id: 'e1', abstractMessage: { messageType: 'ChoicesMessage', id: 'e1', choices: buttons } };
        assert.equal(validate(event(message)), false, 'Buttons without options');
        assert.equal(
          validate(event({ entryType: 'ReadAcknowledgement', id: 'e1', acknowledgementTimestamp: 1 })),
          false,
          'no acknowledged entry',
        );
        assert.equal(validate(event({ entryType: 'TypingStartedIndicator', id: 'e1', timestamp: 1 })), true);
      },
    );

    test('every entry the agent side causes reaches the Pub/Sub client as an InteractionEvent and the webhook as a normalized event', async () => {
      const endUser = `catalog-${randomUUID().slice(0, 8)}`;
      const conversation = await startConversation(bridge, endUser);
      const published: Published[] = [];
      const act = async (label: string, action: string, body: Record<string, unknown>) => {
        const res = await managementRequest(bridge, 'POST', `/api/conversations/${conversation}/${action}`, body);
        assert.equal(res.status, 201, `${label}: ${JSON.stringify(res.body)}`);
        published.push({ label, ...res.body });
      };

      await act('Text', 'messages', { text: 'Hello, how can I help?' });
      await act('Attachments', 'messages', {
        text: 'Your label',
        attachments: [{ url: 'https://files.example.test/label.pdf', mimeType: 'application/pdf' }],
      });
      for (const [label, message] of Object.entries(formats)) if (!label.startsWith('_')) await act(label, 'messages', { message });
      const firstMessage = published[0]!.entryId;
      const updated = await managementRequest(bridge, 'PATCH', `/api/conversations/${conversation}/messages/${firstMessage}`, {
        text: 'Hello again, how can I help?',
      });
      assert.equal(updated.status, 201);
      published.push({ label: 'updated', ...updated.body });
      await act('delivery failed', 'delivery-failed', {
        entryId: firstMessage,
        errorCode: 'RecipientUnreachable',
        errorMessage: 'handset off',
      });
      await act('progress', 'progress', {});
      await act('typing started', 'typing', { state: 'started' });
      await act('typing stopped', 'typing', { state: 'stopped' });
      await act('delivered', 'delivered', {});
      await act('read', 'read', {});
      const second = { subject: '005000000000XYZ', role: 'Agent', appType: 'agent' };
      await act('participant joins', 'participants', { operation: 'add', participant: second, displayName: 'Second Agent' });
      await act('participant leaves', 'participants', { operation: 'remove', participant: second, displayName: 'Second Agent' });
      const consent = await callJson(
        bridge,
        'PATCH',
        '/consent',
        { endUserClientId: endUser, channelAddressIdentifier: LOCAL_ORG.channel, consentStatus: 'ExplicitlyOptedIn' },
        { token: await accessToken(bridge) },
      );
      assert.equal(consent.status, 200);
      await act('session ended', 'end', {});

      const view = await bridge.management(`/api/conversations/${conversation}`);
      const consentEvent = view.outboundEvents.find(
        (e: any) =>
          !published.some((p) => p.replayId === e.replayId) && JSON.parse(e.fields.payload).payload?.entryType === 'EndUserConsentUpdated',
      );
      assert.ok(consentEvent, 'the consent change was published in the conversation');
      const expected = new Map(published.map((p) => [p.replayId, p.entryType]));
      expected.set(consentEvent.replayId, 'EndUserConsentUpdated');
      assert.deepEqual([...new Set(expected.values())].sort(), [
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

      // The real client, subscribed to the local org, decodes each in the Spring '24 shape.
      const first = Math.min(...expected.keys());
      const client = await connectPubSubClient(bridge);
      const decoded = new Map<number, Record<string, any>>();
      try {
        client.subscribeFromReplayId(
          TOPIC,
          (_info: unknown, type: string, data: any) => {
            if (type === 'event' && expected.has(data.replayId)) decoded.set(data.replayId, data.payload);
          },
          expected.size + 10,
          first - 1,
        );
        await waitFor('every event through Pub/Sub', () => decoded.size === expected.size);
      } finally {
        client.close();
      }
      for (const [replayId, entryType] of expected) {
        const fields = decoded.get(replayId)!;
        assert.equal(fields[FIELDS.eventType], 'Interaction');
        const event = JSON.parse(fields[FIELDS.payload]);
        assert.equal(event.conversationIdentifier, conversation, entryType);
        assert.equal(event.payload.entryType, entryType);
        if (interactionEvent) {
          assert.ok(interactionEvent(event), `${entryType} per the YAML: ${JSON.stringify(interactionEvent.errors?.slice(0, 3))}`);
        }
      }

      // The webhook receives each normalized, with its conversation.
      const eventIds = new Set([...published.map((p) => p.eventId)]);
      await waitFor('every webhook', () => receiver.delivered().filter((r) => eventIds.has(r.id)).length === eventIds.size);
      for (const r of receiver.delivered().filter((w) => eventIds.has(w.id) || w.json.data.entryType === 'EndUserConsentUpdated')) {
        const data = r.json.data as Record<string, unknown>;
        assert.ok(normalizedSchema(data), `${String(data.entryType)}: ${JSON.stringify(normalizedSchema.errors)}`);
        assert.equal(data.conversationIdentifier, conversation, String(data.entryType));
        assert.equal(data.shape, 'spring24');
      }
      // The latest of a type: the conversation's session also opened (SessionStatusChanged New) before these.
      const byType = (t: string) =>
        receiver
          .delivered()
          .filter((r) => r.json.data.conversationIdentifier === conversation && r.json.data.entryType === t)
          .at(-1)!.json.data;
      assert.equal(byType('ReadAcknowledgement').payload.acknowledgedConversationEntryIdentifier, view.entries[0].entryId);
      assert.equal(byType('SessionStatusChanged').payload.sessionStatus, 'Ended');
      assert.equal(byType('EndUserConsentUpdated').payload.consentStatus, 'OptIn');
      assert.equal(byType('MessageUpdated').payload.updatedMessage.id, firstMessage);
      assert.equal(byType('MessageUpdated').payload.updatedMessage.staticContent.text, 'Hello again, how can I help?');
      assert.equal(byType('MessageDeliveryFailed').payload.failedConversationEntryIdentifier, firstMessage);
    });

    test('refusals: a message in an unknown format, an unknown acknowledged entry, ending a session twice, an unknown conversation', async () => {
      const conversation = await startConversation(bridge, `refusals-${randomUUID().slice(0, 8)}`);
      const post = (action: string, body: unknown, id = conversation) =>
        managementRequest(bridge, 'POST', `/api/conversations/${id}/${action}`, body);
      const eventCount = async (): Promise<number> => (await bridge.management(`/api/conversations/${conversation}`)).outboundEvents.length;
      const before = await eventCount();
      const badFormat = await post('messages', { message: { messageType: 'ChoicesMessage', choices: { formatType: 'Text' } } });
      assert.equal(badFormat.status, 400);
      assert.match(badFormat.body.message, /choices\.formatType/);
      assert.equal((await post('messages', { text: 'both', message: formats.Buttons })).status, 400);
      assert.equal((await post('read', { entryId: 'no-such-entry' })).status, 404);
      assert.equal((await post('delivery-failed', { entryId: 'no-such-entry', errorCode: 'X' })).status, 404);
      const queue = await post('queue-position', { position: 3 });
      assert.equal(queue.status, 409, 'the local channel routes itself: nothing waits in a queue');
      assert.equal((await post('queue-position', { position: -1 })).status, 400);
      assert.equal((await post('participants', { operation: 'join', participant: { subject: 'x' }, displayName: 'X' })).status, 400);
      assert.equal((await post('end', {})).status, 201);
      const again = await post('end', {});
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'conflict');
      assert.equal((await post('typing', { state: 'started' }, randomUUID())).status, 404);
      assert.equal(await eventCount(), before + 1, 'only the one session end was published');
    });
  });
}
