import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callApi, callJson } from './helpers/json-api.ts';

const endUser = (subject: string) => ({ appType: 'custom', role: 'EndUser', subject });
const bot = { appType: 'chatbot', role: 'Chatbot', subject: 'order-status-bot' };
const textEntry = (text: string, id = randomUUID()) => ({
  clientTimestamp: Date.now(),
  entryPayload: {
    entryType: 'Message',
    id,
    abstractMessage: { messageType: 'StaticContentMessage', id, staticContent: { formatType: 'Text', text } },
  },
});

for (const store of storeKinds()) {
  describe(`POST /conversation, /conversationEntry, /participant and /messagingSession in the local org (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({ store });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    const api = (method: string, path: string, body: unknown) => callJson(bridge, method, path, body, { token });
    const view = (conversationIdentifier: string) => bridge.management(`/api/conversations/${conversationIdentifier}`);
    const establish = async (subject = `conv-${randomUUID().slice(0, 8)}`, routingAttributes?: Record<string, string>) => {
      const res = await api('POST', '/conversation', {
        channelAddressIdentifier: LOCAL_ORG.channel,
        participants: [endUser(subject)],
        ...(routingAttributes ? { routingAttributes } : {}),
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return { conversationIdentifier: res.body.conversationIdentifier as string, subject };
    };

    test("a conversation established before any message is the one the end user's messages then land in, after a restart too", async () => {
      const { conversationIdentifier, subject } = await establish(undefined, { Language: 'fr' });
      assert.match(conversationIdentifier, /^[0-9a-f-]{36}$/);
      const again = await establish(subject);
      assert.equal(again.conversationIdentifier, conversationIdentifier, 'one conversation per end user and channel');
      await bridge.restart();
      const message = await postInteraction(bridge, textMessage('bonjour', { from: subject }), { token });
      assert.equal(message.body.conversationIdentifier, conversationIdentifier);
      const shown = await view(conversationIdentifier);
      assert.deepEqual(shown.routingAttributes, { Language: 'fr' });
      assert.deepEqual(
        shown.participants.map((p: any) => [p.role, p.subject, p.leftAt]),
        [['EndUser', subject, null]],
      );
    });

    test('POST /conversation refusals', async () => {
      const ok = { channelAddressIdentifier: LOCAL_ORG.channel, participants: [endUser('refused-user')] };
      const cases: [string, unknown, number][] = [
        ['no body', undefined, 10100],
        ['no channel', { ...ok, channelAddressIdentifier: undefined }, 10052],
        ['unknown channel', { ...ok, channelAddressIdentifier: 'no-such-channel' }, 10017],
        ['no participants', { ...ok, participants: [] }, 10053],
        ['two participants', { ...ok, participants: [endUser('a'), endUser('b')] }, 10053],
        ['a bot establishing', { ...ok, participants: [bot] }, 10042],
        ['unknown app type', { ...ok, participants: [{ ...endUser('x'), appType: 'telex' }] }, 10037],
        ['empty subject', { ...ok, participants: [endUser('')] }, 10054],
        ['non-string routing attribute', { ...ok, routingAttributes: { Language: 3 } }, 10089],
      ];
      for (const [name, body, code] of cases) {
        const res = await api('POST', '/conversation', body);
        assert.deepEqual([res.status, res.body.code], [400, code], `${name}: ${JSON.stringify(res.body)}`);
      }
      const conversations = await bridge.management('/api/conversations?limit=200');
      assert.ok(!conversations.conversations.some((c: any) => c.endUserClientIdentifier === 'refused-user'), 'nothing created');
    });

    test('entries from the end user are added once per id; refusals name the contract codes and add nothing', async () => {
      const { conversationIdentifier, subject } = await establish();
      const entry = textEntry('added through conversationEntry');
      const res = await api('POST', '/conversationEntry', {
        conversationIdentifier,
        sender: endUser(subject),
        conversationEntries: [entry],
      });
      assert.deepEqual([res.status, res.body], [202, { success: true }]);
      const ok = { conversationIdentifier, sender: endUser(subject), conversationEntries: [textEntry('x')] };
      const cases: [string, unknown, number][] = [
        ['no body', undefined, 10100],
        ['no conversation', { ...ok, conversationIdentifier: undefined }, 10018],
        ['unknown conversation', { ...ok, conversationIdentifier: randomUUID() }, 10025],
        ['no sender', { ...ok, sender: undefined }, 10039],
        ['a sender not in the conversation', { ...ok, sender: bot }, 10068],
        ['two entries', { ...ok, conversationEntries: [textEntry('a'), textEntry('b')] }, 10045],
        ['no timestamp', { ...ok, conversationEntries: [{ ...textEntry('a'), clientTimestamp: undefined }] }, 10045],
        [
          'no entry id',
          { ...ok, conversationEntries: [{ clientTimestamp: 1, entryPayload: { entryType: 'Message', abstractMessage: {} } }] },
          10059,
        ],
        ['an entry id already stored', { ...ok, conversationEntries: [entry] }, 10073],
      ];
      for (const [name, body, code] of cases) {
        const refused = await api('POST', '/conversationEntry', body);
        assert.deepEqual([refused.status, refused.body.code], [400, code], `${name}: ${JSON.stringify(refused.body)}`);
      }
      const shown = await view(conversationIdentifier);
      assert.deepEqual(
        shown.entries.map((e: any) => [e.entryId, e.sender.role, e.payload.abstractMessage.staticContent.text]),
        [[entry.entryPayload.id, 'EndUser', 'added through conversationEntry']],
      );
    });

    test('a participant leaves through POST /participant and can no longer add entries', async () => {
      const { conversationIdentifier, subject } = await establish();
      const removed = await api('POST', '/participant', { conversationIdentifier, participants: [endUser(subject)], operation: 'Remove' });
      assert.deepEqual([removed.status, removed.body], [200, { success: true }]);
      const cases: [string, unknown, number][] = [
        ['no body', undefined, 10100],
        ['unknown operation', { conversationIdentifier, participants: [endUser(subject)], operation: 'Add' }, 10097],
        ['no participant', { conversationIdentifier, participants: [], operation: 'Remove' }, 10039],
        ['unknown role', { conversationIdentifier, participants: [{ ...bot, role: 'Wizard' }], operation: 'Remove' }, 10038],
        ['already gone', { conversationIdentifier, participants: [endUser(subject)], operation: 'Remove' }, 10036],
        ['never there', { conversationIdentifier, participants: [bot], operation: 'Remove' }, 10036],
        ['unknown conversation', { conversationIdentifier: randomUUID(), participants: [bot], operation: 'Remove' }, 10025],
      ];
      for (const [name, body, code] of cases) {
        const refused = await api('POST', '/participant', body);
        assert.deepEqual([refused.status, refused.body.code], [400, code], `${name}: ${JSON.stringify(refused.body)}`);
      }
      const late = await api('POST', '/conversationEntry', {
        conversationIdentifier,
        sender: endUser(subject),
        conversationEntries: [textEntry('late')],
      });
      assert.equal(late.body.code, 10068, 'a participant who left sends nothing more');
      const shown = await view(conversationIdentifier);
      assert.equal(typeof shown.participants[0].leftAt, 'string');
    });

    test('POST /messagingSession ends the open session (and inactivates it), with the contract codes for refusals', async () => {
      const from = `session-${randomUUID().slice(0, 8)}`;
      const message = await postInteraction(bridge, textMessage('help', { from }), { token });
      const { conversationIdentifier } = message.body;
      const sessionId = message.body.workItemIds[0] as string;
      const base = { channelAddressIdentifier: LOCAL_ORG.channel, endUserClientId: from, conversationIdentifier };
      const cases: [string, unknown, number][] = [
        ['no body', undefined, 10100],
        ['unknown operation', { ...base, operation: 'Pause' }, 10102],
        ['unknown operationBy', { ...base, operation: 'End', operationBy: 'Agent' }, 10103],
        ['inactivate without sessionId', { ...base, operation: 'Inactivate' }, 10106],
        ['no end user', { ...base, endUserClientId: undefined, operation: 'End' }, 10020],
        ['someone else', { ...base, endUserClientId: 'someone-else', operation: 'End' }, 10105],
        ['another session id', { ...base, operation: 'End', sessionId: '0Mw000000000001' }, 10072],
        ['unknown conversation', { ...base, conversationIdentifier: randomUUID(), operation: 'End' }, 10025],
      ];
      for (const [name, body, code] of cases) {
        const refused = await api('POST', '/messagingSession', body);
        assert.deepEqual([refused.status, refused.body.code], [400, code], `${name}: ${JSON.stringify(refused.body)}`);
      }
      const inactive = await api('POST', '/messagingSession', { ...base, operation: 'Inactivate', operationBy: 'System', sessionId });
      assert.deepEqual([inactive.status, inactive.body], [200, { success: true }]);
      assert.equal((await view(conversationIdentifier)).messagingSessions[0].status, 'Inactive');
      const ended = await api('POST', '/messagingSession', { ...base, operation: 'End', operationBy: 'EndUser' });
      assert.deepEqual([ended.status, ended.body], [200, { success: true }]);
      await bridge.restart();
      assert.equal((await view(conversationIdentifier)).messagingSessions[0].status, 'Ended');
      const noSession = await api('POST', '/messagingSession', { ...base, operation: 'End' });
      assert.equal(noSession.body.code, 10071, 'an ended session cannot end again');
      const next = await postInteraction(bridge, textMessage('me again', { from }), { token });
      assert.equal(next.body.workItemIds.length, 1, 'the next message opens a new session');
    });
    test('GET /conversationEntry pages through entries by time, from a JSON body or from query parameters', async () => {
      const { conversationIdentifier, subject } = await establish();
      const ids: string[] = [];
      for (const [i, at] of [1_000, 2_000, 3_000, 4_000].entries()) {
        const entry = { ...textEntry(`entry ${i}`), clientTimestamp: 1_700_000_000_000 + at };
        ids.push(entry.entryPayload.id);
        const added = await api('POST', '/conversationEntry', {
          conversationIdentifier,
          sender: endUser(subject),
          conversationEntries: [entry],
        });
        assert.equal(added.status, 202, JSON.stringify(added.body));
      }
      const startTime = 1_700_000_002_000;
      const byBody = await api('GET', '/conversationEntry', { conversationIdentifier, startTime, limit: 2 });
      assert.equal(byBody.status, 200, JSON.stringify(byBody.body));
      assert.equal(byBody.body.success, true);
      assert.deepEqual(
        byBody.body.conversationEntries.map((e: any) => [e.entryPayload.id, e.clientTimestamp, e.sender.role, e.sender.subject]),
        [
          [ids[1], 1_700_000_002_000, 'EndUser', subject],
          [ids[2], 1_700_000_003_000, 'EndUser', subject],
        ],
      );
      const query = new URLSearchParams({
        conversationIdentifier,
        startTime: String(startTime),
        endTime: '1700000003500',
        direction: 'FROM_END',
      });
      const byQuery = await callApi(bridge, 'GET', `/conversationEntry?${query}`, { token });
      assert.equal(byQuery.status, 200, JSON.stringify(byQuery.body));
      assert.deepEqual(
        byQuery.body.conversationEntries.map((e: any) => e.entryPayload.id),
        [ids[2], ids[1]],
      );
      const cases: [string, Record<string, unknown>, number][] = [
        ['no conversation', { startTime }, 10018],
        ['unknown conversation', { conversationIdentifier: randomUUID(), startTime }, 10025],
        ['no startTime', { conversationIdentifier }, 10090],
        ['endTime before startTime', { conversationIdentifier, startTime, endTime: startTime - 1 }, 10091],
        ['limit 0', { conversationIdentifier, startTime, limit: 0 }, 10092],
        ['limit 21', { conversationIdentifier, startTime, limit: 21 }, 10092],
        ['unknown direction', { conversationIdentifier, startTime, direction: 'SIDEWAYS' }, 10089],
      ];
      for (const [name, body, code] of cases) {
        const refused = await api('GET', '/conversationEntry', body);
        assert.deepEqual([refused.status, refused.body.code], [400, code], `${name}: ${JSON.stringify(refused.body)}`);
      }
      const noQuery = await callApi(bridge, 'GET', '/conversationEntry', { token });
      assert.deepEqual([noQuery.status, noQuery.body.code], [400, 10018], 'neither body nor query parameters');
    });
    test('POST /conversationHistory backfills entries once per id, with participants and an established session', async () => {
      const subject = `history-${randomUUID().slice(0, 8)}`;
      const t0 = 1_700_000_000_000;
      const participants = [
        { participant: endUser(subject), joinedTime: t0 },
        { participant: bot, joinedTime: t0 + 10, leftTime: t0 + 5_000, displayName: 'Order bot' },
      ];
      const entries = [
        { ...textEntry('where is my order?'), clientTimestamp: t0 + 100, sender: endUser(subject) },
        { ...textEntry('it ships today'), clientTimestamp: t0 + 200, sender: bot },
      ];
      const body = {
        channelAddressIdentifier: LOCAL_ORG.channel,
        conversationParticipants: participants,
        conversationEntries: entries,
        messagingSession: { messagingSessionRequestType: 'EstablishMessagingSession', payload: { startTime: t0 } },
      };
      const res = await api('POST', '/conversationHistory', body);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      assert.match(res.body.messagingSessionId, /^0Mw/);
      const { conversationIdentifier } = res.body;
      const again = await api('POST', '/conversationHistory', body);
      assert.deepEqual([again.status, again.body.code], [400, 10073], 'each entry id is stored once');

      const attach = {
        ...body,
        conversationEntries: [{ ...textEntry('one more'), clientTimestamp: t0 + 300, sender: endUser(subject) }],
        messagingSession: { messagingSessionRequestType: 'AttachMessagingSession', payload: { sessionId: res.body.messagingSessionId } },
      };
      const attached = await api('POST', '/conversationHistory', attach);
      assert.deepEqual([attached.status, attached.body.messagingSessionId], [202, res.body.messagingSessionId]);

      await bridge.restart();
      const shown = await view(conversationIdentifier);
      // The session established is published as an entry of its own (routing-session-events.test.ts): messages only here.
      assert.deepEqual(
        shown.entries
          .filter((e: any) => e.entryType === 'Message')
          .map((e: any) => [e.sender.role, e.clientTimestamp, e.payload.abstractMessage.staticContent.text]),
        [
          ['EndUser', t0 + 100, 'where is my order?'],
          ['Chatbot', t0 + 200, 'it ships today'],
          ['EndUser', t0 + 300, 'one more'],
        ],
      );
      assert.deepEqual(
        shown.participants.map((p: any) => [p.role, p.leftAt]),
        [
          ['EndUser', null],
          ['Chatbot', new Date(t0 + 5_000).toISOString()],
        ],
      );

      const fresh = (over: Record<string, unknown>) => ({
        ...body,
        conversationEntries: [{ ...textEntry('x'), clientTimestamp: t0 + 100, sender: endUser(subject) }],
        messagingSession: undefined,
        ...over,
      });
      const cases: [string, unknown, number][] = [
        ['no body', undefined, 10100],
        ['no channel', fresh({ channelAddressIdentifier: undefined }), 10017],
        ['no participants', fresh({ conversationParticipants: [] }), 10039],
        ['four participants', fresh({ conversationParticipants: [...participants, participants[1], participants[1]] }), 10078],
        ['no end user', fresh({ conversationParticipants: [participants[1]] }), 10044],
        [
          'an agent',
          fresh({ conversationParticipants: [participants[0], { participant: { ...bot, role: 'Agent' }, joinedTime: t0 }] }),
          10043,
        ],
        ['end user with leftTime', fresh({ conversationParticipants: [{ ...participants[0], leftTime: t0 + 1 }] }), 10065],
        ['joined after left', fresh({ conversationParticipants: [participants[0], { ...participants[1], leftTime: t0 }] }), 10067],
        ['no entries', fresh({ conversationEntries: [] }), 10078],
        [
          'sender not listed',
          fresh({ conversationEntries: [{ ...textEntry('x'), clientTimestamp: t0 + 1, sender: endUser('stranger') }] }),
          10068,
        ],
        ['after the bot left', fresh({ conversationEntries: [{ ...textEntry('x'), clientTimestamp: t0 + 9_000, sender: bot }] }), 10074],
        [
          'bad session start',
          fresh({ messagingSession: { messagingSessionRequestType: 'EstablishMessagingSession', payload: { startTime: 'soon' } } }),
          10061,
        ],
        [
          'attach unknown session',
          fresh({ messagingSession: { messagingSessionRequestType: 'AttachMessagingSession', payload: { sessionId: '0Mw000000000001' } } }),
          10071,
        ],
      ];
      for (const [name, refusedBody, code] of cases) {
        const refused = await api('POST', '/conversationHistory', refusedBody);
        assert.deepEqual([refused.status, refused.body.code], [400, code], `${name}: ${JSON.stringify(refused.body)}`);
      }
      const messages = (await view(conversationIdentifier)).entries.filter((e: any) => e.entryType === 'Message');
      assert.equal(messages.length, 3, 'no refusal added an entry');
    });
  });
}
