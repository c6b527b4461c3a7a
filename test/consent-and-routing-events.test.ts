import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callJson } from './helpers/json-api.ts';

const shape = JSON.parse(fs.readFileSync(new URL('./fixtures/routing-requested-event.json', import.meta.url), 'utf8'));
const keys = (o: object) => Object.keys(o).sort();
const patchHeaders = { AuthorizationContextType: 'ConversationChannelDefinition' };

for (const store of storeKinds()) {
  describe(`consent (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({ store });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    const consent = (body: unknown) => callJson(bridge, 'PATCH', '/consent', body, { token });

    test("the README's consent call stores each of the four statuses, visible in the conversation view", async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const message = await postInteraction(bridge, textMessage('hello', { from }), { token });
      const view = () => bridge.management(`/api/conversations/${message.body.conversationIdentifier}`);
      assert.equal((await view()).consentStatus, 'ImplicitlyOptedIn', 'the default of an end user who wrote in');
      for (const consentStatus of ['OptedOut', 'ExplicitlyOptedIn', 'DoublyOptedIn', 'ImplicitlyOptedIn', 'OptedOut']) {
        const res = await consent({ endUserClientId: from, channelAddressIdentifier: LOCAL_ORG.channel, consentStatus });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body, { success: true });
        assert.equal((await view()).consentStatus, consentStatus);
      }
    });

    test('an end user who opted out gets no new agent message or typing indicator; opting in again lets them through', async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const message = await postInteraction(bridge, textMessage('hello', { from }), { token });
      const conversationIdentifier = message.body.conversationIdentifier;
      const agent = (path: string, body: unknown) =>
        fetch(`${bridge.managementUrl}/api/conversations/${conversationIdentifier}/${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const eventCount = async (): Promise<number> =>
        (await bridge.management(`/api/conversations/${conversationIdentifier}`)).outboundEvents.length;

      assert.equal((await agent('messages', { text: 'before opting out' })).status, 201);
      const before = await eventCount();
      await consent({ endUserClientId: from, channelAddressIdentifier: LOCAL_ORG.channel, consentStatus: 'OptedOut' });
      for (const [path, body] of [
        ['messages', { text: 'after opting out' }],
        ['typing', { state: 'started' }],
      ] as const) {
        const refused = await agent(path, body);
        assert.equal(refused.status, 403);
        assert.equal((await refused.json()).code, 'end_user_opted_out');
      }
      assert.equal(
        await eventCount(),
        before + 1,
        'only the consent change (EndUserConsentUpdated) was published for an opted-out end user',
      );

      await consent({ endUserClientId: from, channelAddressIdentifier: LOCAL_ORG.channel, consentStatus: 'ExplicitlyOptedIn' });
      assert.equal((await agent('messages', { text: 'welcome back' })).status, 201);
      assert.equal(await eventCount(), before + 3);
    });

    test('consent refusals answer with their code and change nothing', async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const message = await postInteraction(bridge, textMessage('hello', { from }), { token });
      const base = { endUserClientId: from, channelAddressIdentifier: LOCAL_ORG.channel };
      const cases: Array<[string, unknown, number]> = [
        ['unknown consent status', { ...base, consentStatus: 'Maybe' }, 10021],
        ['unknown end user', { ...base, endUserClientId: '+19999999999', consentStatus: 'OptedOut' }, 10020],
        ['unknown channel', { ...base, channelAddressIdentifier: randomUUID(), consentStatus: 'OptedOut' }, 10017],
      ];
      for (const [name, body, code] of cases) {
        const res = await consent(body);
        assert.deepEqual([res.status, res.body.code], [400, code], `${name}: ${JSON.stringify(res.body)}`);
      }
      assert.equal(
        (await bridge.management(`/api/conversations/${message.body.conversationIdentifier}`)).consentStatus,
        'ImplicitlyOptedIn',
      );
    });
  });

  describe(`a channel whose routing owner is Partner (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({
        store,
        env: { LOCAL_ROUTING_OWNER: 'Partner', LOCAL_CONSENT_OWNER: 'Salesforce', LOCAL_CHANNEL_ROUTING_FLOW_ID: '3005g00000ByF01' },
      });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    const api = (method: string, path: string, body: unknown, headers?: Record<string, string>) =>
      callJson(bridge, method, path, body, { token, headers });
    const eventsOf = async (conversationIdentifier: string) =>
      ((await bridge.management(`/api/conversations/${conversationIdentifier}`)).outboundEvents as any[]).map((e) => ({
        ...e,
        decoded: JSON.parse(e.fields.payload),
      }));

    test('a new session and a transfer record RoutingRequested; agent work changes record work events, in order', async () => {
      const org = await bridge.management('/api/org');
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const first = await postInteraction(bridge, textMessage('route me', { from }), { token });
      const { conversationIdentifier } = first.body;
      const workItemId = first.body.workItemIds[0];
      await postInteraction(bridge, textMessage('still there?', { from }), { token });

      // Routing events only: the session and participant entries published beside them are in routing-session-events.test.ts.
      const routingEventsOf = async (c: string) =>
        (await eventsOf(c)).filter((e) => e.eventType === 'RoutingRequested' || e.decoded.payload.entryType === 'RoutingWorkResult');
      let events = await routingEventsOf(conversationIdentifier);
      assert.equal(events.length, 1, 'one routing request per new session, not per message');
      const [requested] = events;
      assert.equal(requested.eventType, 'RoutingRequested');
      assert.equal(requested.fields.eventType, shape.eventTypeField);
      assert.deepEqual(keys(requested.decoded), shape.envelopeKeys);
      assert.deepEqual(keys(requested.decoded.recipient), shape.recipientKeys);
      assert.deepEqual(keys(requested.decoded.payload), shape.payloadKeys);
      assert.deepEqual(keys(requested.decoded.payload.routingParameters), shape.routingParametersKeys);
      const channelData = JSON.parse(requested.decoded.payload.routingParameters.channelData);
      assert.deepEqual(keys(channelData), shape.channelDataKeys);
      assert.equal(requested.decoded.channelAddressIdentifier, LOCAL_ORG.channel);
      assert.deepEqual(requested.decoded.recipient, { appType: 'custom', subject: from, role: 'EndUser' });
      assert.deepEqual(
        [requested.decoded.payload.conversationIdentifier, requested.decoded.payload.routingType, requested.decoded.payload.workRecordId],
        [conversationIdentifier, 'Initial', workItemId],
      );
      assert.deepEqual(
        [
          requested.decoded.payload.routingParameters.flowId,
          requested.decoded.payload.routingParameters.queueId,
          requested.decoded.payload.routingParameters.isTransfer,
        ],
        ['3005g00000ByF01', org.queues[0].queueId15, false],
      );
      assert.equal(channelData.conversationId, conversationIdentifier);

      const routingContext = { conversationIdentifier, routingType: 'Initial', routingCorrelationId: channelData.eventId };
      const work = await api('POST', '/agentWork', {
        userId: org.agentUsers[0].userId15,
        workItemId,
        capacityPercentage: 100,
        routingContext,
      });
      assert.equal(work.status, 202, JSON.stringify(work.body));
      const accept = await api(
        'PATCH',
        '/agentWork',
        { workId: work.body.agentWorkId, status: 'Accept', contextType: 'Agent' },
        patchHeaders,
      );
      assert.equal(accept.status, 202, JSON.stringify(accept.body));
      const transfer = await api('POST', '/route', {
        conversationIdentifier,
        routingType: 'Transfer',
        routingInfo: { queueId: org.queues[1].queueId15 },
      });
      assert.equal(transfer.status, 202, JSON.stringify(transfer.body));
      const closed = await api(
        'PATCH',
        '/agentWork',
        { workId: work.body.agentWorkId, status: 'Close', contextType: 'Agent' },
        patchHeaders,
      );
      assert.equal(closed.status, 202, JSON.stringify(closed.body));

      events = await routingEventsOf(conversationIdentifier);
      const summary = events.map((e) =>
        e.eventType === 'RoutingRequested'
          ? ['RoutingRequested', e.decoded.payload.routingType, e.decoded.payload.routingParameters.isTransfer]
          : [e.decoded.payload.entryType, e.decoded.payload.entryPayload.workType, e.decoded.payload.entryPayload.workId],
      );
      assert.deepEqual(summary, [
        ['RoutingRequested', 'Initial', false],
        ['RoutingWorkResult', 'Assigned', work.body.agentWorkId],
        ['RoutingWorkResult', 'Accepted', work.body.agentWorkId],
        ['RoutingRequested', 'Transfer', true],
        ['RoutingWorkResult', 'Closed', work.body.agentWorkId],
      ]);
      const replayIds = events.map((e) => e.replayId);
      assert.deepEqual(
        replayIds,
        [...replayIds].sort((a, b) => a - b),
      );
      assert.equal(new Set(replayIds).size, replayIds.length);
      const transferData = JSON.parse(events[3].decoded.payload.routingParameters.channelData);
      assert.equal(transferData.eventId, transfer.body.routingCorrelationId);
      const assigned = events[1].decoded.payload.entryPayload;
      assert.deepEqual([assigned.workItemId, assigned.routingCorrelationId], [workItemId, channelData.eventId]);
      assert.deepEqual(events[1].decoded.payload.sender, { appType: 'agent', subject: org.agentUsers[0].userId15, role: 'Agent' });
    });

    test('a refused agentWork records no event; consent is refused with 10022 when the consent owner is not Partner', async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const first = await postInteraction(bridge, textMessage('hi', { from }), { token });
      const before = await eventsOf(first.body.conversationIdentifier);
      const refused = await api('POST', '/agentWork', {
        userId: LOCAL_ORG.userId,
        workItemId: first.body.workItemIds[0],
        capacityWeight: 1,
      });
      assert.deepEqual([refused.status, refused.body.code], [400, 15106]);
      assert.deepEqual(await eventsOf(first.body.conversationIdentifier), before);

      const res = await api('PATCH', '/consent', {
        endUserClientId: from,
        channelAddressIdentifier: LOCAL_ORG.channel,
        consentStatus: 'OptedOut',
      });
      assert.deepEqual([res.status, res.body.code], [400, 10022]);
      assert.equal((await bridge.management(`/api/conversations/${first.body.conversationIdentifier}`)).consentStatus, 'ImplicitlyOptedIn');
    });

    test('the routing state and its rules survive a restart', async () => {
      const org = await bridge.management('/api/org');
      const first = await postInteraction(bridge, textMessage('before the restart', { from: `+1555${randomUUID().slice(0, 8)}` }), {
        token,
      });
      const workItemId = first.body.workItemIds[0];
      const body = { userId: org.agentUsers[1].userId15, workItemId, capacityWeight: 3 };
      assert.equal((await api('POST', '/agentWork', body)).status, 202);
      const before = await bridge.management(`/api/conversations/${first.body.conversationIdentifier}`);

      await bridge.restart();
      assert.deepEqual(await bridge.management(`/api/conversations/${first.body.conversationIdentifier}`), before);
      const again = await api('POST', '/agentWork', body);
      assert.deepEqual([again.status, again.body.code], [400, 15109], 'the active work is still there');
    });
  });
}
