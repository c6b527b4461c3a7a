import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, entryRequest, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callJson } from './helpers/json-api.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ID15 = (prefix: string) => new RegExp(`^${prefix}[a-zA-Z0-9]{12}$`);
const ID18 = (prefix: string) => new RegExp(`^${prefix}[a-zA-Z0-9]{12}[A-Z0-5]{3}$`);

// The refusal tables here keep what depends on the org's state, plus one body refusal per operation
// through HTTP; every body refusal runs without a server in contract-routing-requests.test.ts.

for (const store of storeKinds()) {
  describe(`routing and agent work (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    let org: any;
    before(async () => {
      bridge = await startBridge({ store });
      token = await accessToken(bridge);
      org = await bridge.management('/api/org');
    });
    after(() => bridge.dispose());

    const api = (method: string, path: string, body: unknown, headers?: Record<string, string | undefined>) =>
      callJson(bridge, method, path, body, { token, headers });
    /** A conversation created by an inbound message, with the work item its first message opened. */
    const newConversation = async () => {
      const res = await postInteraction(bridge, textMessage('I need help', { from: `+1555${randomUUID().slice(0, 8)}` }), { token });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.workItemIds.length, 1);
      return { conversationIdentifier: res.body.conversationIdentifier as string, workItemId: res.body.workItemIds[0] as string };
    };
    const viewOf = (conversationIdentifier: string) => bridge.management(`/api/conversations/${conversationIdentifier}`);
    const sessionsOf = async (conversationIdentifier: string) => (await viewOf(conversationIdentifier)).messagingSessions as any[];
    const queue = (i = 0) => org.queues[i].queueId15 as string;
    const flow = () => org.flows[0].flowId15 as string;
    const agent = (i: number) => org.agentUsers[i].userId15 as string;
    const routingContext = (conversationIdentifier: string, routingType = 'Initial') => ({
      conversationIdentifier,
      routingType,
      routingCorrelationId: randomUUID(),
    });

    test('GET /api/org lists the seeded queues, flows, agent users and the channel routing settings', () => {
      assert.deepEqual(
        org.queues.map((q: any) => q.developerName),
        ['Support_Queue', 'Sales_Queue'],
      );
      assert.match(org.queues[0].queueId, ID18('00G'));
      assert.match(org.flows[0].flowId, ID18('300'));
      assert.deepEqual(
        org.agentUsers.map((a: any) => [a.username, a.name]),
        [
          ['agent.one@byoc.local', 'Agent One'],
          ['agent.two@byoc.local', 'Agent Two'],
        ],
      );
      const channel = org.channels.find((c: any) => c.channelAddressIdentifier === LOCAL_ORG.channel);
      assert.deepEqual(channel.routing, { queueId: org.queues[0].queueId, flowId: null, routingAttributeMaxLength: 255 });
      assert.equal(channel.routingOwner, 'Salesforce');
      assert.equal(channel.consentOwner, 'Partner');
    });

    test('an inbound message opens a messaging session once; later messages and typing indicators do not', async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const typing = await postInteraction(
        bridge,
        { ...entryRequest({ entryType: 'TypingStartedIndicator', timestamp: Date.now() }), from },
        { token },
      );
      assert.equal(typing.status, 202);
      assert.deepEqual(typing.body.workItemIds, [], 'a typing indicator is no message: it opens no session');
      const first = await postInteraction(bridge, textMessage('one', { from }), { token });
      assert.match(first.body.workItemIds[0], ID15('0Mw'));
      const second = await postInteraction(bridge, textMessage('two', { from }), { token });
      assert.deepEqual(second.body.workItemIds, []);
      const typingAgain = await postInteraction(
        bridge,
        { ...entryRequest({ entryType: 'TypingStoppedIndicator', timestamp: Date.now() }), from },
        { token },
      );
      assert.deepEqual(typingAgain.body.workItemIds, []);
      const sessions = await sessionsOf(first.body.conversationIdentifier);
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].workItemId, first.body.workItemIds[0]);
      assert.equal(sessions[0].status, 'New');
    });

    test("the README's three route forms and the delete create, replace and cancel pending service routings", async () => {
      const { conversationIdentifier, workItemId } = await newConversation();

      const byFlow = await api('POST', '/route', {
        conversationIdentifier,
        routingType: 'Initial',
        routingInfo: { flow: { flowId: flow(), queueId: queue() }, routingAttributes: { Language: 'en_US', Tier: 'Gold' } },
      });
      assert.equal(byFlow.status, 202, JSON.stringify(byFlow.body));
      assert.equal(byFlow.body.success, true);
      assert.match(byFlow.body.psrId, ID18('0JR'));
      assert.equal(byFlow.body.workItemId, workItemId);
      assert.match(byFlow.body.routingCorrelationId, UUID);
      let [session] = await sessionsOf(conversationIdentifier);
      assert.equal(session.status, 'Waiting');
      assert.deepEqual(
        session.pendingServiceRoutings.map((r: any) => [r.psrId, r.status, r.routingMethod, r.routingType, r.flowId, r.queueId]),
        [[byFlow.body.psrId, 'Open', 'Flow', 'Initial', org.flows[0].flowId, org.queues[0].queueId]],
      );
      assert.deepEqual(session.pendingServiceRoutings[0].routingAttributes, { Language: 'en_US', Tier: 'Gold' });
      assert.equal(session.pendingServiceRoutings[0].routingCorrelationId, byFlow.body.routingCorrelationId);

      const byQueue = await api('POST', '/route', { conversationIdentifier, routingType: 'Transfer', routingInfo: { queueId: queue(1) } });
      assert.equal(byQueue.status, 202, JSON.stringify(byQueue.body));
      assert.notEqual(byQueue.body.psrId, byFlow.body.psrId);
      const byChannel = await api('POST', '/route', { conversationIdentifier, routingType: 'Conference' });
      assert.equal(byChannel.status, 202, JSON.stringify(byChannel.body));
      assert.equal(byChannel.body.contextParamMap.queueId, org.queues[0].queueId, "the channel's configured queue");
      [session] = await sessionsOf(conversationIdentifier);
      assert.deepEqual(
        session.pendingServiceRoutings.map((r: any) => [r.status, r.routingMethod, r.routingType, r.queueId]),
        [
          ['Replaced', 'Flow', 'Initial', org.queues[0].queueId],
          ['Replaced', 'Queue', 'Transfer', org.queues[1].queueId],
          ['Open', 'ChannelConfiguration', 'Conference', org.queues[0].queueId],
        ],
      );

      const cancelled = await api('DELETE', '/route', { conversationIdentifier, cancelReason: 'Unavailable' });
      assert.equal(cancelled.status, 202, JSON.stringify(cancelled.body));
      assert.deepEqual(cancelled.body, { success: true });
      [session] = await sessionsOf(conversationIdentifier);
      assert.equal(session.status, 'New');
      assert.deepEqual(
        [session.pendingServiceRoutings[2].status, session.pendingServiceRoutings[2].cancelReason],
        ['Cancelled', 'Unavailable'],
      );
      const nothingLeft = await api('DELETE', '/route', { conversationIdentifier });
      assert.equal(nothingLeft.status, 202);
      assert.deepEqual(nothingLeft.body, { success: false }, 'no open routing to cancel');
      // The session and queue entries every channel gets, but none of the routing events of a Partner-routed channel.
      const kinds = (await viewOf(conversationIdentifier)).outboundEvents.map((e: any) =>
        e.eventType === 'Interaction' ? JSON.parse(e.fields.payload).payload.entryType : e.eventType,
      );
      assert.deepEqual(
        kinds.filter((k: string) => ['RoutingRequested', 'RoutingWorkResult', 'RoutingResult'].includes(k)),
        [],
        'a Salesforce-routed channel gets no routing events',
      );
      assert.deepEqual([...new Set(kinds)].sort(), ['QueuePosition', 'SessionStatusChanged']);
    });

    test('route refusals answer with their code and change nothing', async () => {
      const { conversationIdentifier } = await newConversation();
      const opened = await api('POST', '/route', { conversationIdentifier, routingType: 'Initial', routingInfo: { queueId: queue() } });
      assert.equal(opened.status, 202);
      const before = await sessionsOf(conversationIdentifier);
      const cases: Array<[string, unknown, number, number]> = [
        [
          'unknown flow',
          { conversationIdentifier, routingType: 'Initial', routingInfo: { flow: { flowId: '3005g00000Nope1', queueId: queue() } } },
          400,
          10024,
        ],
        [
          'neither flow nor queue',
          { conversationIdentifier, routingType: 'Initial', routingInfo: { routingAttributes: { a: 'b' } } },
          400,
          10030,
        ],
        ['unknown queue', { conversationIdentifier, routingType: 'Initial', routingInfo: { queueId: '00G5g00000Nope1' } }, 400, 10032],
        ['not a queue id', { conversationIdentifier, routingType: 'Initial', routingInfo: { queueId: agent(0) } }, 400, 10032],
        [
          'unknown fallback queue',
          { conversationIdentifier, routingType: 'Initial', routingInfo: { flow: { flowId: flow(), queueId: '00G5g00000Nope1' } } },
          400,
          10032,
        ],
        ['unknown conversation', { conversationIdentifier: randomUUID(), routingType: 'Initial' }, 400, 10025],
        [
          'routing attribute too long',
          {
            conversationIdentifier,
            routingType: 'Transfer',
            routingInfo: { queueId: queue(), routingAttributes: { Note: 'x'.repeat(256) } },
          },
          400,
          10096,
        ],
        ['empty body', undefined, 400, 10100],
      ];
      for (const [name, body, status, code] of cases) {
        const res = await api('POST', '/route', body);
        assert.deepEqual([res.status, res.body.code], [status, code], `${name}: ${JSON.stringify(res.body)}`);
        assert.equal(typeof res.body.message, 'string');
      }
      const deletes: Array<[string, unknown, number]> = [
        ['unknown conversation', { conversationIdentifier: randomUUID() }, 10025],
        ['unknown cancel reason', { conversationIdentifier, cancelReason: 'Bored' }, 10089],
      ];
      for (const [name, body, code] of deletes) {
        const res = await api('DELETE', '/route', body);
        assert.deepEqual([res.status, res.body.code], [400, code], `delete, ${name}: ${JSON.stringify(res.body)}`);
      }
      assert.deepEqual(await sessionsOf(conversationIdentifier), before);
    });

    test('routingResult records success and failure, and refuses inconsistent results without a change', async () => {
      const { conversationIdentifier, workItemId } = await newConversation();
      const first = await api('POST', '/route', { conversationIdentifier, routingType: 'Initial', routingInfo: { queueId: queue() } });
      const failure = await api('POST', '/routingResult', {
        conversationIdentifier,
        workItemId,
        success: false,
        externallyRouted: false,
        errorMessage: 'No agent available',
      });
      assert.equal(failure.status, 202, JSON.stringify(failure.body));
      assert.deepEqual(failure.body, { success: true });
      const second = await api('POST', '/route', { conversationIdentifier, routingType: 'Transfer', routingInfo: { queueId: queue(1) } });
      const inside = await api('POST', '/routingResult', { conversationIdentifier, workItemId, success: true, externallyRouted: false });
      assert.equal(inside.status, 202, JSON.stringify(inside.body));
      let [session] = await sessionsOf(conversationIdentifier);
      assert.deepEqual(
        session.pendingServiceRoutings.map((r: any) => [r.psrId, r.status]),
        [
          [first.body.psrId, 'Failed'],
          [second.body.psrId, 'Open'],
        ],
        'a success inside the org leaves the routing open for its agent work',
      );
      const outside = await api('POST', '/routingResult', {
        conversationIdentifier,
        workItemId,
        success: true,
        externallyRouted: true,
        routingType: 'Transfer',
      });
      assert.equal(outside.status, 202, JSON.stringify(outside.body));
      [session] = await sessionsOf(conversationIdentifier);
      assert.equal(session.pendingServiceRoutings[1].status, 'Routed');
      assert.equal(session.status, 'New');
      assert.deepEqual(
        session.routingResults.map((r: any) => [r.psrId, r.routingType, r.success, r.externallyRouted, r.errorMessage]),
        [
          [first.body.psrId, 'Initial', false, false, 'No agent available'],
          [second.body.psrId, 'Transfer', true, false, null],
          [second.body.psrId, 'Transfer', true, true, null],
        ],
      );

      const other = await newConversation();
      const before = await viewOf(conversationIdentifier);
      const base = { conversationIdentifier, workItemId, externallyRouted: false };
      const cases: Array<[string, unknown, number]> = [
        ['error message with success', { ...base, success: true, errorMessage: 'but why' }, 10033],
        ['unknown work item', { ...base, success: true, workItemId: '0Mw5g00000Nope1' }, 15111],
        ['work item that is not a messaging session', { ...base, success: true, workItemId: '5005g00000Nope1' }, 15110],
        ["another conversation's work item", { ...base, success: true, workItemId: other.workItemId }, 15107],
        ['unknown conversation', { ...base, success: true, conversationIdentifier: randomUUID() }, 10025],
      ];
      for (const [name, body, code] of cases) {
        const res = await api('POST', '/routingResult', body);
        assert.deepEqual([res.status, res.body.code], [400, code], `${name}: ${JSON.stringify(res.body)}`);
      }
      assert.deepEqual(await viewOf(conversationIdentifier), before);
    });

    test("the README's agentWork calls (percentage, weight, routing exists, close) move the work item through its states", async () => {
      const { conversationIdentifier, workItemId } = await newConversation();
      const byPercentage = await api('POST', '/agentWork', {
        userId: agent(0),
        workItemId,
        capacityPercentage: 40,
        routingContext: routingContext(conversationIdentifier),
      });
      assert.equal(byPercentage.status, 202, JSON.stringify(byPercentage.body));
      assert.equal(byPercentage.body.success, true);
      assert.match(byPercentage.body.agentWorkId, ID18('0Bz'));
      assert.equal(byPercentage.body.agentWorkDetails.existPsr, false);
      assert.equal(byPercentage.body.agentWorkDetails.capacityPercentage, 40);
      assert.equal(byPercentage.body.agentWorkDetails.routingContext.conversationIdentifier, conversationIdentifier);

      const byWeight = await api('POST', '/agentWork', {
        userId: agent(1),
        workItemId,
        // As Salesforce's own connector sends it (read from an environment variable): a numeric string.
        capacityWeight: '2.5',
        routingContext: routingContext(conversationIdentifier, 'Transfer'),
      });
      assert.equal(byWeight.status, 202, JSON.stringify(byWeight.body));
      assert.equal(byWeight.body.agentWorkDetails.capacityWeight, 2.5);
      assert.equal((await sessionsOf(conversationIdentifier))[0].status, 'Active');

      const close = (workId: string) =>
        api(
          'PATCH',
          '/agentWork',
          { workId, status: 'Close', contextType: 'Agent' },
          { AuthorizationContextType: 'ConversationChannelDefinition' },
        );
      const closedFirst = await close(byPercentage.body.agentWorkId.slice(0, 15));
      assert.equal(closedFirst.status, 202, JSON.stringify(closedFirst.body));
      assert.deepEqual(closedFirst.body, { success: true });
      assert.equal((await sessionsOf(conversationIdentifier))[0].status, 'Active', 'agent two still works on it');

      const routed = await api('POST', '/route', { conversationIdentifier, routingType: 'Transfer', routingInfo: { queueId: queue() } });
      const psrExists = await api('POST', '/agentWork', { userId: agent(0), workItemId });
      assert.equal(psrExists.status, 202, JSON.stringify(psrExists.body));
      assert.equal(psrExists.body.agentWorkDetails.existPsr, true);
      assert.equal(psrExists.body.agentWorkDetails.psrId, routed.body.psrId);
      assert.deepEqual(psrExists.body.agentWorkDetails.routingContext, {
        conversationIdentifier,
        routingType: 'Transfer',
        routingCorrelationId: routed.body.routingCorrelationId,
      });

      const accepted = await api(
        'PATCH',
        '/agentWork',
        { workId: byWeight.body.agentWorkId, status: 'Accept', contextType: 'Agent' },
        { AuthorizationContextType: 'ConversationChannelDefinition' },
      );
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      let [session] = await sessionsOf(conversationIdentifier);
      assert.deepEqual(
        session.agentWork.map((w: any) => [
          w.agentWorkId,
          w.userId.slice(0, 15),
          w.status,
          w.capacityPercentage,
          w.capacityWeight,
          w.psrId,
        ]),
        [
          [byPercentage.body.agentWorkId, agent(0), 'Closed', 40, null, null],
          [byWeight.body.agentWorkId, agent(1), 'Opened', null, 2.5, null],
          [psrExists.body.agentWorkId, agent(0), 'Assigned', null, null, routed.body.psrId],
        ],
      );
      assert.equal(session.pendingServiceRoutings[0].status, 'Assigned');

      assert.equal((await close(byWeight.body.agentWorkId)).status, 202);
      assert.equal((await close(psrExists.body.agentWorkId)).status, 202);
      [session] = await sessionsOf(conversationIdentifier);
      assert.equal(session.status, 'Ended', 'the last closed work ends the session');
      assert.ok(session.endedAt);
      const published = (await viewOf(conversationIdentifier)).outboundEvents.map((e: any) => JSON.parse(e.fields.payload));
      const ending = published.filter(
        (p: any) => p.payload?.entryType === 'SessionStatusChanged' && p.payload.entryPayload.sessionStatus === 'Ended',
      );
      assert.equal(ending.length, 1, 'closing the last work publishes the session end once');
      assert.equal(ending[0].conversationIdentifier, conversationIdentifier);
      assert.deepEqual(
        [ending[0].payload.entryPayload.sessionStatus, ending[0].payload.entryPayload.sessionEndedByRole],
        ['Ended', 'Agent'],
      );
      assert.equal(ending[0].payload.entryPayload.sessionId, session.messagingSessionId);

      const again = await postInteraction(
        bridge,
        textMessage('me again', { from: (await viewOf(conversationIdentifier)).endUserClientIdentifier }),
        { token },
      );
      assert.equal(again.body.conversationIdentifier, conversationIdentifier);
      assert.equal(again.body.workItemIds.length, 1);
      assert.notEqual(again.body.workItemIds[0], workItemId, 'a new message after the end opens a new session');
      assert.deepEqual(
        (await sessionsOf(conversationIdentifier)).map((s) => s.status),
        ['Ended', 'New'],
      );
    });

    test('agentWork refusals answer with their code and change nothing', async () => {
      const { conversationIdentifier, workItemId } = await newConversation();
      const active = await api('POST', '/agentWork', { userId: agent(0), workItemId, capacityWeight: 1 });
      assert.equal(active.status, 202, JSON.stringify(active.body));
      const ended = await newConversation();
      const endedWork = await api('POST', '/agentWork', { userId: agent(0), workItemId: ended.workItemId, capacityWeight: 1 });
      const patchHeaders = { AuthorizationContextType: 'ConversationChannelDefinition' };
      assert.equal(
        (await api('PATCH', '/agentWork', { workId: endedWork.body.agentWorkId, status: 'Close', contextType: 'Agent' }, patchHeaders))
          .status,
        202,
      );

      const before = await viewOf(conversationIdentifier);
      const endedBefore = await viewOf(ended.conversationIdentifier);
      const base = { userId: agent(1), workItemId };
      const cases: Array<[string, unknown, number]> = [
        ['both capacities', { ...base, capacityPercentage: 10, capacityWeight: 1 }, 10013],
        ['neither capacity and no routing', base, 10013],
        ['not a messaging session', { ...base, capacityWeight: 1, workItemId: '5005g00000Nope1' }, 15110],
        ['unknown messaging session', { ...base, capacityWeight: 1, workItemId: '0Mw5g00000Nope1' }, 15111],
        ['ended messaging session', { ...base, capacityWeight: 1, workItemId: ended.workItemId }, 15111],
        [
          'routing context of another conversation',
          { ...base, capacityWeight: 1, routingContext: routingContext(ended.conversationIdentifier) },
          15107,
        ],
        ['not an agent', { ...base, capacityWeight: 1, userId: LOCAL_ORG.userId }, 15106],
        ['second active work of one user', { ...base, userId: agent(0), capacityWeight: 1 }, 15109],
      ];
      for (const [name, body, code] of cases) {
        const res = await api('POST', '/agentWork', body);
        assert.deepEqual([res.status, res.body.code], [400, code], `${name}: ${JSON.stringify(res.body)}`);
      }
      const patches: Array<[string, unknown, Record<string, string | undefined>, number]> = [
        ['unknown work', { workId: '0Bz5g00000Nope1', status: 'Close', contextType: 'Agent' }, patchHeaders, 10082],
        ['not a work id', { workId: workItemId, status: 'Close', contextType: 'Agent' }, patchHeaders, 10082],
        ['closing closed work', { workId: endedWork.body.agentWorkId, status: 'Close', contextType: 'Agent' }, patchHeaders, 10085],
        ['no AuthorizationContextType', { workId: active.body.agentWorkId, status: 'Close', contextType: 'Agent' }, {}, 10093],
        [
          'a bot the local org does not have',
          { workId: active.body.agentWorkId, status: 'Close', contextType: 'Chatbot', workItemId, botId: 'ext-bot-1' },
          patchHeaders,
          10084,
        ],
      ];
      for (const [name, body, headers, code] of patches) {
        const res = await api('PATCH', '/agentWork', body, headers);
        assert.deepEqual([res.status, res.body.code], [400, code], `patch, ${name}: ${JSON.stringify(res.body)}`);
      }
      assert.deepEqual(await viewOf(conversationIdentifier), before);
      assert.deepEqual(await viewOf(ended.conversationIdentifier), endedBefore);
    });

    test('agentWork requests for one user and work item sent at the same moment create one active work', async () => {
      const { conversationIdentifier, workItemId } = await newConversation();
      const body = { userId: agent(1), workItemId, capacityPercentage: 50, routingContext: routingContext(conversationIdentifier) };
      const answers = await Promise.all(Array.from({ length: 4 }, () => api('POST', '/agentWork', body)));
      assert.deepEqual(answers.map((a) => a.status).sort(), [202, 400, 400, 400], JSON.stringify(answers.map((a) => a.body)));
      for (const refused of answers.filter((a) => a.status === 400)) assert.equal(refused.body.code, 15109);
      const [session] = await sessionsOf(conversationIdentifier);
      assert.equal(session.agentWork.length, 1);
      assert.equal(session.agentWork[0].agentWorkId, answers.find((a) => a.status === 202)!.body.agentWorkId);
    });

    test('a repeated request with the same RequestId and body is answered once, with no second effect', async () => {
      const { conversationIdentifier, workItemId } = await newConversation();
      const requestId = randomUUID();
      const body = { userId: agent(0), workItemId, capacityWeight: 1 };
      const first = await api('POST', '/agentWork', body, { RequestId: requestId });
      const repeat = await api('POST', '/agentWork', body, { RequestId: requestId });
      assert.equal(first.status, 202);
      assert.deepEqual(repeat, first);
      assert.equal((await sessionsOf(conversationIdentifier))[0].agentWork.length, 1);
    });
  });
}

if (storeKinds().includes('postgres')) {
  describe('two bridge processes sharing one PostgreSQL', () => {
    let first: BridgeProcess;
    let second: BridgeProcess;
    let token: string;
    before(async () => {
      first = await startBridge({ store: 'postgres' });
      token = await accessToken(first);
      // Same database and schema as the first; tokens live in the store, so the first one's token works on both.
      second = await startBridge({ env: { DATABASE_URL: first.env.DATABASE_URL! } });
    });
    after(async () => {
      await second.dispose();
      await first.dispose();
    });

    test('agentWork requests for one user and work item sent to both at once create one active work', async () => {
      const message = await postInteraction(first, textMessage('two replicas', { from: `+1555${randomUUID().slice(0, 8)}` }), { token });
      const workItemId = message.body.workItemIds[0];
      const org = await first.management('/api/org');
      const body = { userId: org.agentUsers[0].userId15, workItemId, capacityWeight: 1 };
      const answers = await Promise.all(
        [first, second, first, second].map((bridge) => callJson(bridge, 'POST', '/agentWork', body, { token })),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [202, 400, 400, 400], JSON.stringify(answers.map((a) => a.body)));
      for (const refused of answers.filter((a) => a.status === 400)) assert.equal(refused.body.code, 15109);
      const view = await second.management(`/api/conversations/${message.body.conversationIdentifier}`);
      assert.equal(view.messagingSessions[0].agentWork.length, 1);
      assert.equal(view.messagingSessions[0].status, 'Active');
    });
  });
}
