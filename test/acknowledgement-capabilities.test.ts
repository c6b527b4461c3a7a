import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callJson } from './helpers/json-api.ts';
import { sendAgentMessage } from './helpers/outbound.ts';

const endUser = (subject: string) => ({ appType: 'custom', role: 'EndUser', subject });
const capabilities = (formatType = 'Buttons') => ({
  capabilities: {
    appType: 'custom',
    channelCapabilities: [
      {
        messageTypeCapabilities: [{ messageType: 'ChoicesMessage', formatTypeCapabilities: [{ formatType }] }],
        progressIndicatorTypeCapabilities: [
          { progressIndicatorType: 'ProgressUpdateIndicator', formatTypeCapabilities: [{ formatType: 'Text' }] },
        ],
      },
    ],
  },
});

for (const store of storeKinds()) {
  describe(`POST /acknowledgement and PATCH /capabilities in the local org (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({ store });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    const api = (method: string, path: string, body: unknown) => callJson(bridge, method, path, body, { token });
    /** A conversation with one agent message in it, for the end user to acknowledge. */
    const conversationWithAgentMessage = async () => {
      const from = `ack-${randomUUID().slice(0, 8)}`;
      const inbound = await postInteraction(bridge, textMessage('hello', { from }), { token });
      assert.equal(inbound.status, 202, JSON.stringify(inbound.body));
      const { conversationIdentifier } = inbound.body;
      const agent = await sendAgentMessage(bridge, conversationIdentifier, { text: 'How can I help?' });
      return { conversationIdentifier: conversationIdentifier as string, from, agentEntryId: agent.entryId };
    };
    const receipt = (acknowledgedConversationEntryIdentifier: string, acknowledgementType = 'Delivered', id = randomUUID()) => ({
      acknowledgementType,
      acknowledgedConversationEntryIdentifier,
      acknowledgmentCreatedConversationEntryIdentifier: id,
      acknowledgementTimestamp: 1_700_000_000_000,
    });

    test('delivery and read receipts are recorded on the agent entry, once per receipt id, and survive a restart', async () => {
      const { conversationIdentifier, from, agentEntryId } = await conversationWithAgentMessage();
      const delivered = receipt(agentEntryId, 'Delivered');
      const read = { ...receipt(agentEntryId, 'Read'), acknowledgementTimestamp: '1700000005000' };
      const res = await api('POST', '/acknowledgement', {
        conversationIdentifier,
        sender: endUser(from),
        acknowledgements: [delivered, read],
      });
      assert.deepEqual([res.status, res.body], [200, { success: true }]);
      // The same receipt id again (a client retrying with a new RequestId) stores nothing new.
      const again = await api('POST', '/acknowledgement', { conversationIdentifier, sender: endUser(from), acknowledgements: [delivered] });
      assert.equal(again.status, 200);

      await bridge.restart();
      const view = await bridge.management(`/api/conversations/${conversationIdentifier}`);
      const entry = view.entries.find((e: any) => e.entryId === agentEntryId);
      assert.deepEqual(
        entry.acknowledgements.map((a: any) => [a.id, a.type, a.at, a.by.subject]),
        [
          [delivered.acknowledgmentCreatedConversationEntryIdentifier, 'Delivered', '2023-11-14T22:13:20.000Z', from],
          [read.acknowledgmentCreatedConversationEntryIdentifier, 'Read', '2023-11-14T22:13:25.000Z', from],
        ],
      );
    });

    test('acknowledgement refusals carry the contract codes and store nothing', async () => {
      const { conversationIdentifier, from, agentEntryId } = await conversationWithAgentMessage();
      const ok = { conversationIdentifier, sender: endUser(from), acknowledgements: [receipt(agentEntryId)] };
      const dup = receipt(agentEntryId);
      const cases: [string, unknown, number, number][] = [
        ['no body', undefined, 400, 10100],
        ['no conversation identifier', { ...ok, conversationIdentifier: undefined }, 400, 10018],
        ['unknown conversation', { ...ok, conversationIdentifier: randomUUID() }, 400, 10025],
        ['no sender', { ...ok, sender: undefined }, 400, 10039],
        ['unknown appType', { ...ok, sender: { ...endUser(from), appType: 'fax' } }, 400, 10037],
        ['unknown role', { ...ok, sender: { ...endUser(from), role: 'Robot' } }, 400, 10038],
        ['someone else as sender', { ...ok, sender: endUser('someone-else') }, 400, 10068],
        ['empty list', { ...ok, acknowledgements: [] }, 400, 10089],
        ['26 receipts', { ...ok, acknowledgements: Array.from({ length: 26 }, () => receipt(agentEntryId)) }, 400, 10089],
        ['unknown type', { ...ok, acknowledgements: [{ ...receipt(agentEntryId), acknowledgementType: 'Seen' }] }, 400, 10089],
        ['no timestamp', { ...ok, acknowledgements: [{ ...receipt(agentEntryId), acknowledgementTimestamp: undefined }] }, 400, 10089],
        ['unknown entry', { ...ok, acknowledgements: [receipt('no-such-entry')] }, 400, 10089],
        ['one receipt id twice', { ...ok, acknowledgements: [dup, dup] }, 400, 10073],
      ];
      for (const [name, body, status, code] of cases) {
        const res = await api('POST', '/acknowledgement', body);
        assert.deepEqual([res.status, res.body.code], [status, code], `${name}: ${JSON.stringify(res.body)}`);
        assert.equal(typeof res.body.message, 'string');
      }
      const view = await bridge.management(`/api/conversations/${conversationIdentifier}`);
      assert.deepEqual(
        view.entries.flatMap((e: any) => e.acknowledgements),
        [],
        'no refusal stored a receipt',
      );
    });

    test('capabilities are stored per channel definition, replaced by the next registration and shown in /api/org after a restart', async () => {
      const first = await api('PATCH', '/capabilities', capabilities('Buttons'));
      assert.deepEqual([first.status, first.body], [200, { success: true }]);
      const second = await api('PATCH', '/capabilities', capabilities('QuickReplies'));
      assert.equal(second.status, 200);
      await bridge.restart();
      const org = await bridge.management('/api/org');
      const channel = org.channels.find((c: any) => c.channelAddressIdentifier === LOCAL_ORG.channel);
      assert.equal(channel.capabilities.appType, 'custom');
      assert.deepEqual(channel.capabilities.channelCapabilities, capabilities('QuickReplies').capabilities.channelCapabilities);
    });

    test('capabilities refusals carry the contract codes and leave the registration as it was', async () => {
      await api('PATCH', '/capabilities', capabilities('Carousel'));
      const valid = capabilities().capabilities;
      const channel0 = valid.channelCapabilities[0]!;
      const cases: [string, unknown, number][] = [
        ['no body', undefined, 10100],
        ['no capabilities', { other: true }, 10089],
        ['unknown appType', { capabilities: { ...valid, appType: 'pager' } }, 10037],
        ['no channel capabilities', { capabilities: { ...valid, channelCapabilities: [] } }, 10089],
        ['no message types', { capabilities: { ...valid, channelCapabilities: [{ messageTypeCapabilities: [] }] } }, 10089],
        [
          'unknown message type',
          {
            capabilities: {
              ...valid,
              channelCapabilities: [
                { messageTypeCapabilities: [{ messageType: 'Fax', formatTypeCapabilities: [{ formatType: 'Text' }] }] },
              ],
            },
          },
          10047,
        ],
        ['unknown format type', capabilities('Hologram'), 10048],
        [
          'empty progress indicators',
          { capabilities: { ...valid, channelCapabilities: [{ ...channel0, progressIndicatorTypeCapabilities: [] }] } },
          10098,
        ],
      ];
      for (const [name, body, code] of cases) {
        const res = await api('PATCH', '/capabilities', body);
        assert.deepEqual([res.status, res.body.code], [400, code], `${name}: ${JSON.stringify(res.body)}`);
      }
      const org = await bridge.management('/api/org');
      const channel = org.channels.find((c: any) => c.channelAddressIdentifier === LOCAL_ORG.channel);
      assert.deepEqual(channel.capabilities.channelCapabilities, capabilities('Carousel').capabilities.channelCapabilities);
    });
  });
}
