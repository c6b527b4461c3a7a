import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, printLogOnFailure, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { compileReferenceSchema, referenceYamlPath } from './helpers/interaction-event-schema.ts';
import { callJson } from './helpers/json-api.ts';
import { connectPubSubClient, FIELDS, managementRequest, TOPIC, waitFor } from './helpers/outbound.ts';

/*
 * The Interaction API operations that change a conversation's session, participants and routing publish
 * what changed, in the same transaction: SessionStatusChanged, ParticipantChanged, RoutingResult,
 * RoutingWorkResult (Transferred, TransferError among them) and QueuePosition. Each is read back with the
 * real Pub/Sub client and checked against the outbound contract's InteractionEvent schema (compiled from
 * the YAML when it is beside the checkout), and the integrations' lifecycle events are checked beside them.
 */

const interactionEvent = referenceYamlPath ? compileReferenceSchema('InteractionEvent', referenceYamlPath) : undefined;
const patchHeaders = { AuthorizationContextType: 'ConversationChannelDefinition' };

interface Outbound {
  replayId: number;
  eventType: string;
  fields: Record<string, string | null>;
}

/** What an event says, in a line a test can compare: its entry type and the one or two facts that matter. */
function summary(e: Outbound): string {
  const decoded = JSON.parse(e.fields.payload!);
  if (e.eventType === 'RoutingRequested') return `RoutingRequested ${decoded.payload.routingType}`;
  const entry = decoded.payload.entryPayload;
  switch (entry.entryType) {
    case 'SessionStatusChanged':
      return `SessionStatusChanged ${entry.sessionStatusPrev ?? '-'}>${entry.sessionStatus}${entry.sessionEndedByRole ? ` by ${entry.sessionEndedByRole}` : ''}`;
    case 'ParticipantChanged':
      return `ParticipantChanged ${entry.entries.map((c: any) => `${c.operation} ${c.participant.role} ${c.participant.subject}`).join(', ')}`;
    case 'RoutingWorkResult':
      return `RoutingWorkResult ${entry.workType} ${entry.workId}`;
    case 'RoutingResult':
      return `RoutingResult ${entry.failureType}${entry.cancelReason ? ` ${entry.cancelReason}` : ''}`;
    case 'QueuePosition':
      return `QueuePosition ${entry.position}`;
    default:
      return entry.entryType;
  }
}

for (const store of storeKinds()) {
  describe(`session, participant and routing events of the Interaction API operations (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    let org: any;
    before(async () => {
      bridge = await startBridge({ store, env: { LOCAL_ROUTING_OWNER: 'Partner' } });
      token = await accessToken(bridge);
      org = await bridge.management('/api/org');
    });
    printLogOnFailure(() => bridge);
    after(() => bridge.dispose());

    const api = async (method: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) => {
      const res = await callJson(bridge, method, path, body, { token, headers });
      assert.equal(res.status, expected, `${method} ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const eventsOf = async (conversation: string): Promise<Outbound[]> =>
      (await bridge.management(`/api/conversations/${conversation}`)).outboundEvents;
    const summaries = async (conversation: string, from = 0) => (await eventsOf(conversation)).slice(from).map(summary);
    const newConversation = async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const res = await postInteraction(bridge, textMessage('I need help', { from }), { token });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return { from, conversation: res.body.conversationIdentifier as string, workItemId: res.body.workItemIds[0] as string };
    };
    const lifecycle = async (conversation: string) =>
      (await managementRequest(bridge, 'GET', `/api/conversations/${conversation}/integrations`)).body.lifecycleEvents.map(
        (e: any) => e.event,
      );

    test('a session opened, queued, transferred (failing once), handed over and ended publishes each change, each per the YAML', async () => {
      const [agentA, agentB] = org.agentUsers.map((a: any) => a.userId15);
      const queue = org.queues[0].queueId15;
      const first = await newConversation();
      const second = await newConversation();
      const c = first.conversation;
      const opened = await summaries(c);
      assert.deepEqual(opened, ['SessionStatusChanged ->New', 'RoutingRequested Initial'], 'the first message opens a session');

      // Both wait in one queue: the second is behind the first, and moves up when the first is assigned.
      await api('POST', '/route', { conversationIdentifier: c, routingType: 'Initial', routingInfo: { queueId: queue } }, 202);
      const queuedBefore = (await eventsOf(second.conversation)).length;
      await api(
        'POST',
        '/route',
        { conversationIdentifier: second.conversation, routingType: 'Initial', routingInfo: { queueId: queue } },
        202,
      );
      const workA = (await api('POST', '/agentWork', { userId: agentA, workItemId: first.workItemId, capacityWeight: 1 }, 202)).agentWorkId;
      await api('PATCH', '/agentWork', { workId: workA, status: 'Accept', contextType: 'Agent' }, 202, patchHeaders);
      assert.deepEqual(await summaries(second.conversation, queuedBefore), ['QueuePosition 2', 'QueuePosition 1']);

      // A transfer the router could not place: the agent keeps the work and hears so.
      await api('POST', '/route', { conversationIdentifier: c, routingType: 'Transfer', routingInfo: { queueId: queue } }, 202);
      await api(
        'POST',
        '/routingResult',
        {
          conversationIdentifier: c,
          workItemId: first.workItemId,
          success: false,
          externallyRouted: false,
          routingType: 'Transfer',
          errorMessage: 'nobody free',
        },
        202,
      );
      // The second transfer reaches agent B: accepting it hands the conversation over.
      await api('POST', '/route', { conversationIdentifier: c, routingType: 'Transfer', routingInfo: { queueId: queue } }, 202);
      const workB = (await api('POST', '/agentWork', { userId: agentB, workItemId: first.workItemId, capacityWeight: 1 }, 202)).agentWorkId;
      await api('PATCH', '/agentWork', { workId: workB, status: 'Accept', contextType: 'Agent' }, 202, patchHeaders);
      await api(
        'POST',
        '/messagingSession',
        {
          channelAddressIdentifier: LOCAL_ORG.channel,
          endUserClientId: first.from,
          conversationIdentifier: c,
          operation: 'End',
          operationBy: 'EndUser',
        },
        200,
      );

      assert.deepEqual(await summaries(c), [
        'SessionStatusChanged ->New',
        'RoutingRequested Initial',
        'QueuePosition 1',
        `RoutingWorkResult Assigned ${workA}`,
        `RoutingWorkResult Accepted ${workA}`,
        `ParticipantChanged add Agent ${agentA}`,
        // The second conversation is still ahead in the queue.
        'RoutingRequested Transfer',
        'QueuePosition 2',
        'RoutingResult RoutingError',
        `RoutingWorkResult TransferError ${workA}`,
        'RoutingRequested Transfer',
        'QueuePosition 2',
        `RoutingWorkResult Assigned ${workB}`,
        `RoutingWorkResult Accepted ${workB}`,
        `RoutingWorkResult Transferred ${workA}`,
        `ParticipantChanged remove Agent ${agentA}, add Agent ${agentB}`,
        `RoutingWorkResult Closed ${workB}`,
        `ParticipantChanged remove Agent ${agentB}`,
        'SessionStatusChanged Active>Ended by EndUser',
      ]);
      const view = await bridge.management(`/api/conversations/${c}`);
      const work = view.messagingSessions[0].agentWork.map((w: any) => [w.agentWorkId, w.status]);
      assert.deepEqual(work, [
        [workA, 'Transferred'],
        [workB, 'Closed'],
      ]);
      assert.deepEqual(
        view.participants.filter((p: any) => p.role === 'Agent').map((p: any) => [p.subject, p.leftAt !== null]),
        [
          [agentA, true],
          [agentB, true],
        ],
      );
      assert.deepEqual(await lifecycle(c), [
        'Received',
        'Queued',
        'Allocated',
        'Accepted',
        'Transferred',
        'Transferred',
        'Allocated',
        'Accepted',
        'Ended',
      ]);

      // The second conversation's routing is cancelled, then its session inactivated and ended by the system.
      const cancelFrom = (await eventsOf(second.conversation)).length;
      await api('DELETE', '/route', { conversationIdentifier: second.conversation, cancelReason: 'Unavailable' }, 202);
      const session = (op: string) => ({
        channelAddressIdentifier: LOCAL_ORG.channel,
        endUserClientId: second.from,
        conversationIdentifier: second.conversation,
        operation: op,
        ...(op === 'Inactivate' ? { sessionId: second.workItemId } : {}),
      });
      await api('POST', '/messagingSession', session('Inactivate'), 200);
      await api('POST', '/messagingSession', session('End'), 200);
      assert.deepEqual(await summaries(second.conversation, cancelFrom), [
        'RoutingResult Cancelled Unavailable',
        'SessionStatusChanged New>Inactive',
        'SessionStatusChanged Inactive>Ended by System',
      ]);
      assert.deepEqual(await lifecycle(second.conversation), ['Received', 'Queued', 'Abandoned']);

      // The real client decodes every one of them; each Interaction event is an InteractionEvent of the YAML.
      const all = [...(await eventsOf(c)), ...(await eventsOf(second.conversation))];
      const wanted = new Map(all.map((e) => [e.replayId, e]));
      const client = await connectPubSubClient(bridge);
      const decoded = new Map<number, Record<string, any>>();
      try {
        client.subscribeFromReplayId(
          TOPIC,
          (_info: unknown, type: string, data: any) => {
            if (type === 'event' && wanted.has(data.replayId)) decoded.set(data.replayId, data.payload);
          },
          wanted.size + 50,
          Math.min(...wanted.keys()) - 1,
        );
        await waitFor('every event through Pub/Sub', () => decoded.size === wanted.size);
      } finally {
        client.close();
      }
      for (const [replayId, stored] of wanted) {
        const fields = decoded.get(replayId)!;
        assert.equal(fields[FIELDS.eventType], stored.eventType);
        const event = JSON.parse(fields[FIELDS.payload]);
        assert.deepEqual(event, JSON.parse(stored.fields.payload!));
        if (stored.eventType !== 'Interaction') continue;
        assert.ok(event.conversationIdentifier === c || event.conversationIdentifier === second.conversation);
        if (interactionEvent) {
          assert.ok(interactionEvent(event), `${summary(stored)} per the YAML: ${JSON.stringify(interactionEvent.errors?.slice(0, 3))}`);
        }
      }
    });

    test('a history with a bot, the bot removed, a session established: published; a refused operation publishes nothing', async () => {
      const from = `+1555${randomUUID().slice(0, 8)}`;
      const bot = { appType: 'chatbot', subject: 'OrderBot', role: 'Chatbot' };
      const endUser = { appType: 'custom', subject: from, role: 'EndUser' };
      const t0 = Date.now() - 60_000;
      const id = randomUUID();
      const history = await api(
        'POST',
        '/conversationHistory',
        {
          channelAddressIdentifier: LOCAL_ORG.channel,
          conversationParticipants: [
            { participant: endUser, joinedTime: t0 },
            { participant: bot, joinedTime: t0 },
          ],
          conversationEntries: [
            {
              clientTimestamp: t0 + 1000,
              sender: bot,
              entryPayload: {
                id,
                entryType: 'Message',
                abstractMessage: { id, messageType: 'StaticContentMessage', staticContent: { formatType: 'Text', text: 'Hi, I am a bot' } },
              },
            },
          ],
          messagingSession: { messagingSessionRequestType: 'EstablishMessagingSession', payload: { startTime: t0 } },
        },
        202,
      );
      const c = history.conversationIdentifier;
      await api('POST', '/participant', { conversationIdentifier: c, participants: [bot], operation: 'Remove' }, 200);
      // A session established by a history opens without a message: nothing asks for its routing yet.
      assert.deepEqual(await summaries(c), ['SessionStatusChanged ->New', 'ParticipantChanged remove Chatbot OrderBot']);
      assert.deepEqual(await lifecycle(c), ['Received']);

      const before = await eventsOf(c);
      const again = await callJson(
        bridge,
        'POST',
        '/participant',
        { conversationIdentifier: c, participants: [bot], operation: 'Remove' },
        { token },
      );
      assert.deepEqual([again.status, again.body.code], [400, 10036]);
      const wrongSession = await callJson(
        bridge,
        'POST',
        '/messagingSession',
        {
          channelAddressIdentifier: LOCAL_ORG.channel,
          endUserClientId: from,
          conversationIdentifier: c,
          operation: 'End',
          sessionId: '0Mw000000000000',
        },
        { token },
      );
      assert.equal(wrongSession.status, 400, JSON.stringify(wrongSession.body));
      const noWork = await callJson(
        bridge,
        'PATCH',
        '/agentWork',
        { workId: '0Bz000000000000', status: 'Accept', contextType: 'Agent' },
        {
          token,
          headers: patchHeaders,
        },
      );
      assert.ok(noWork.status >= 400 && noWork.status < 500, JSON.stringify(noWork.body));
      assert.deepEqual(await eventsOf(c), before, 'refusals publish nothing');
    });
  });
}
