import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { printLogOnFailure, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { startIntegrationServer } from './helpers/integration-server.ts';
import { callJson } from './helpers/json-api.ts';
import { managementRequest, waitFor } from './helpers/outbound.ts';

// Secrets the bridge is given; none may ever come back in an answer, a call log or the server's log.
const BASIC_PASSWORD = 'basic-Pa55-word-7f3a91';
const DIGEST_PASSWORD = 'digest-Pa55-word-c41e07';
const API_KEY = 'api-key-secret-9d2b6e5a';
const SECRETS = [BASIC_PASSWORD, DIGEST_PASSWORD, API_KEY];
const MAX_ANSWER_BYTES = 65_536;

for (const store of storeKinds()) {
  describe(`event-driven integrations (${store})`, () => {
    let bridge: BridgeProcess;
    let service: Awaited<ReturnType<typeof startIntegrationServer>>;
    let token: string;
    let org: any;
    let dir: string;
    const answers: unknown[] = [];
    const fail503Until = new Map<string, number>();
    const receivedAttempts = new Map<string, number>();
    let alwaysFailing = true;
    const cleanup: (() => Promise<unknown>)[] = [];

    // The tests poll the call log: those requests would fill the tail.
    printLogOnFailure(() => bridge, 150, /"url":"\/api\/integration-calls/);
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-integrations-'));
      service = await startIntegrationServer({
        dir,
        users: { alice: BASIC_PASSWORD, bob: DIGEST_PASSWORD },
        apiKey: { header: 'x-api-key', value: API_KEY },
        handlers: {
          // The customer lookup of "fetch data for the agent" and "control routing".
          lookup: () => ({
            status: 200,
            body: {
              customer: { tier: 'gold', name: 'Ada Lovelace', orders: [{ id: 'O-1' }, { id: 'O-2' }] },
              queue: org.queues[1].queueId15,
            },
          }),
          survey: () => ({ status: 201, body: { survey: { id: `S-${randomUUID().slice(0, 6)}` } } }),
          // 503 twice per conversation, then accepted.
          flaky: (req) => {
            const key = req.url;
            const n = (fail503Until.get(key) ?? 0) + 1;
            fail503Until.set(key, n);
            return n <= 2 ? { status: 503, body: { error: 'busy' } } : { status: 200, body: {} };
          },
          broken: () => (alwaysFailing ? { status: 500, body: { error: 'down' } } : { status: 200, body: { fixed: true } }),
          refused: () => ({ status: 422, body: { error: 'not for us' } }),
          slow: (_req, count) => ({ status: 200, body: {}, delayMs: count === 1 ? 4000 : 0 }),
          echo: (req) => ({ status: 200, body: { youSent: req.headers['x-api-key'] } }),
          // A conversation's Received call answers late with a 503 the first time: later events must wait for it.
          ordered: (req) => {
            const [, , event, conversation] = req.url.split('/');
            if (event !== 'Received') return { status: 200, body: {} };
            const n = (receivedAttempts.get(conversation!) ?? 0) + 1;
            receivedAttempts.set(conversation!, n);
            return n === 1 ? { status: 503, body: { error: 'busy' }, delayMs: 300 } : { status: 200, body: {} };
          },
          huge: () => ({ status: 200, body: { customer: { name: 'x'.repeat(MAX_ANSWER_BYTES * 3) } } }),
          // The first call hangs while the test kills the bridge; the restarted one is answered.
          'after-crash': (_req, count) => ({ status: 200, body: {}, delayMs: count === 1 ? 60_000 : 0 }),
        },
      });
      cleanup.push(() => service.close());
      bridge = await startBridge({
        store,
        env: {
          INTEGRATION_CA_FILE: service.caFile,
          INTEGRATION_RETRY_SCHEDULE_SECONDS: '0.2,0.2',
          INTEGRATION_TIMEOUT_MS: '1500',
          // An hour: every call in this file is made because its commit, a retry falling due, a settled call
          // or a lapsed lease woke the dispatcher, never by the safety poll.
          INTEGRATION_POLL_MS: '3600000',
          INTEGRATION_MAX_ANSWER_BYTES: String(MAX_ANSWER_BYTES),
          LOG_LEVEL: 'debug',
        },
      });
      cleanup.push(() => bridge.dispose());
      token = await accessToken(bridge);
      org = await bridge.management('/api/org');
    });
    after(async () => {
      // Whatever started, even when a start failed: the service's server would keep the test process alive.
      for (const stop of cleanup.reverse()) await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const api = (method: string, p: string, body: unknown) => callJson(bridge, method, p, body, { token });
    const queue = (i: number) => org.queues[i].queueId as string;
    const agent = (i: number) => org.agentUsers[i].userId15 as string;
    const create = async (body: Record<string, unknown>) => {
      const res = await managementRequest(bridge, 'POST', '/api/integrations', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      answers.push(res.body);
      return res.body as { id: string };
    };
    const newConversation = async () => {
      const res = await postInteraction(bridge, textMessage('I need help', { from: `+1555${randomUUID().slice(0, 8)}` }), { token });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return { conversation: res.body.conversationIdentifier as string, workItem: res.body.workItemIds[0] as string };
    };
    const callsOf = async (integrationId: string) => {
      const res = await managementRequest(bridge, 'GET', `/api/integration-calls?integrationId=${integrationId}`);
      answers.push(res.body);
      return res.body.calls as any[];
    };
    const settled = (integrationId: string, count: number) =>
      waitFor(`${count} settled calls of ${integrationId}`, async () => {
        const calls = await callsOf(integrationId);
        return calls.length === count && calls.every((c) => c.status !== 'pending') && calls;
      });
    const callDetail = async (callId: string) => {
      const res = await managementRequest(bridge, 'GET', `/api/integration-calls/${callId}`);
      answers.push(res.body);
      return res.body;
    };
    const work = async (workItem: string, conversation: string, userIndex: number) => {
      const res = await api('POST', '/agentWork', { userId: agent(userIndex), workItemId: workItem, capacityWeight: 1 });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return res.body.agentWorkId as string;
    };
    const patchWork = async (workId: string, status: string) => {
      const res = await callJson(
        bridge,
        'PATCH',
        '/agentWork',
        { workId, status, contextType: 'Agent' },
        {
          token,
          headers: { AuthorizationContextType: 'ConversationChannelDefinition' },
        },
      );
      assert.equal(res.status, 202, JSON.stringify(res.body));
    };
    const lifecycleOf = async (conversation: string) => {
      const res = await managementRequest(bridge, 'GET', `/api/conversations/${conversation}/integrations`);
      answers.push(res.body);
      return res.body;
    };

    test('management API: secrets are write-only, copies leave them out, http:// and unknown references are refused', async () => {
      const created = await create({
        name: 'CRM lookup',
        description: 'fetch the customer',
        url: `${service.baseUrl}/basic/lookup`,
        events: ['Received'],
        queueIds: [queue(0)],
        authentications: [
          { id: 'basic:alice', secret: BASIC_PASSWORD },
          { id: 'api-key', secret: API_KEY },
        ],
        configuration: { request: { authentication: { type: 'basic' }, headers: { 'x-api-key': '{authentications.api-key}' } } },
      });
      assert.deepEqual((created as any).authentications, [{ id: 'api-key' }, { id: 'basic:alice' }]);
      assert.equal((created as any).enabled, true);
      assert.equal((created as any).direction, 'Both');
      const copy = await managementRequest(bridge, 'POST', `/api/integrations/${created.id}/copy`);
      assert.equal(copy.status, 201);
      assert.equal(copy.body.name, 'CRM lookup (copy)');
      assert.deepEqual(copy.body.authentications, [], 'authentication is not copied');
      assert.deepEqual(copy.body.configuration, (created as any).configuration);
      // An update that lists an authentication without its secret keeps the stored one.
      const updated = await managementRequest(bridge, 'PUT', `/api/integrations/${created.id}`, {
        name: 'CRM lookup v2',
        url: `${service.baseUrl}/basic/lookup`,
        events: [],
        queueIds: [queue(0)],
        authentications: [{ id: 'basic:alice' }],
        configuration: { request: { authentication: { type: 'basic' } } },
      });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.enabled, false, 'no event ticked: disabled');
      assert.deepEqual(updated.body.authentications, [{ id: 'basic:alice' }]);
      answers.push(updated.body, copy.body, (await managementRequest(bridge, 'GET', '/api/integrations')).body);

      const refusals: [unknown, RegExp][] = [
        [{ name: 'x', url: 'http://127.0.0.1:9/hook', events: ['Ended'] }, /url: must be https/],
        [{ name: 'x', url: 'https://example.test/a', events: ['Closed'] }, /events/],
        [{ name: 'x', url: 'https://example.test/a', queueIds: ['00G5g00000ByQ99'] }, /not a queue of the org/],
        [
          { name: 'x', url: 'https://example.test/a', configuration: { request: { authentication: { type: 'digest' } } } },
          /no digest:<username>/,
        ],
        [
          { name: 'x', url: 'https://example.test/a', configuration: { request: { headers: { k: '{authentications.nope}' } } } },
          /names no authentication/,
        ],
        [{ name: 'x', url: 'https://example.test/a', authentications: [{ id: 'basic:carol' }] }, /needs a secret/],
        [
          { name: 'x', url: 'https://example.test/a', configuration: { response: { set: { 'contact.name': '$.a' } } } },
          /routingAttributes/,
        ],
        [{ name: 'x', url: 'https://user:pw@example.test/a' }, /credentials/],
      ];
      for (const [body, message] of refusals) {
        const res = await managementRequest(bridge, 'POST', '/api/integrations', body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.code, 'invalid_request');
        assert.match(res.body.message, message);
      }
      const before = (await managementRequest(bridge, 'GET', '/api/integrations')).body.integrations.length;
      assert.equal(before, 2, 'refusals created nothing');
      for (const id of [created.id, copy.body.id])
        assert.equal((await managementRequest(bridge, 'DELETE', `/api/integrations/${id}`)).status, 204);
      assert.equal((await managementRequest(bridge, 'GET', `/api/integrations/${created.id}`)).status, 404);
    });

    test('lifecycle events call matching integrations with each authentication scheme and resolved placeholders', async () => {
      const everything = await create({
        name: 'lifecycle listener (basic)',
        url: `${service.baseUrl}/basic/events/{event}/{conversation.id}`,
        direction: 'Inbound',
        events: ['Received', 'Queued', 'Allocated', 'Accepted', 'Rejected', 'Transferred', 'Forwarded', 'Ended', 'Abandoned'],
        queueIds: [queue(0), queue(1)],
        authentications: [{ id: 'basic:alice', secret: BASIC_PASSWORD }],
        configuration: {
          request: {
            authentication: { type: 'basic' },
            params: { contact: '{contact.id}', queue: '{queue.id}' },
            body: {
              event: '{event}',
              channel: '{channel.id}',
              language: '{Language}',
              direction: '{conversation.direction}',
              '{event}Seen': true,
            },
          },
        },
      });
      const digest = await create({
        name: 'overflow watcher (digest)',
        url: `${service.baseUrl}/digest/forwarded`,
        events: ['Forwarded'],
        queueIds: [queue(1)],
        authentications: [{ id: 'digest:bob', secret: DIGEST_PASSWORD }],
        configuration: {
          request: {
            authentication: { type: 'digest' },
            method: 'PUT',
            params: { attr: '{routingAttributes.Language}' },
            body: { to: '{queue.id}' },
          },
        },
      });
      const header = await create({
        name: 'acceptance (header value)',
        url: `${service.baseUrl}/header/accepted`,
        events: ['Accepted'],
        queueIds: [queue(1)],
        authentications: [{ id: 'api-key', secret: API_KEY }],
        configuration: { request: { method: 'GET', headers: { 'X-Api-Key': '{authentications.api-key}' } } },
      });
      const outboundOnly = await create({
        name: 'outbound only',
        url: `${service.baseUrl}/x`,
        direction: 'Outbound',
        events: ['Received'],
        queueIds: [queue(0)],
      });
      const otherQueue = await create({ name: 'sales only', url: `${service.baseUrl}/x`, events: ['Received'], queueIds: [queue(1)] });
      const directOnly = await create({
        name: 'direct only',
        url: `${service.baseUrl}/x`,
        events: ['Received', 'Queued'],
        directConversations: true,
      });
      const disabled = await create({ name: 'disabled', url: `${service.baseUrl}/x`, events: [], queueIds: [queue(0)] });

      // Received → Queued (Support) → Forwarded (Sales) → Allocated → Accepted → Ended
      const { conversation, workItem } = await newConversation();
      const queued = await api('POST', '/route', {
        conversationIdentifier: conversation,
        routingType: 'Initial',
        routingInfo: { queueId: org.queues[0].queueId15, routingAttributes: { Language: 'en_US' } },
      });
      assert.equal(queued.status, 202, JSON.stringify(queued.body));
      const forwarded = await api('POST', '/route', {
        conversationIdentifier: conversation,
        routingType: 'Initial',
        routingInfo: { queueId: org.queues[1].queueId15, routingAttributes: { Language: 'en_US' } },
      });
      assert.equal(forwarded.status, 202);
      const workId = await work(workItem, conversation, 0);
      await patchWork(workId, 'Accept');
      await patchWork(workId, 'Close');

      const view = await lifecycleOf(conversation);
      assert.deepEqual(
        view.lifecycleEvents.map((e: any) => [e.event, e.queueId, e.direction]),
        [
          ['Received', queue(0), 'Inbound'],
          ['Queued', queue(0), 'Inbound'],
          ['Forwarded', queue(1), 'Inbound'],
          ['Allocated', queue(1), 'Inbound'],
          ['Accepted', queue(1), 'Inbound'],
          ['Ended', queue(1), 'Inbound'],
        ],
      );
      assert.equal(view.lifecycleEvents[2].details.previousQueueId, queue(0));

      const calls = await settled(everything.id, 6);
      assert.deepEqual(
        calls.map((c) => c.status),
        Array(6).fill('succeeded'),
      );
      const got = service.requests.filter((r) => r.url.startsWith(`/basic/events/`) && r.url.includes(conversation));
      // One integration gets a conversation's events in event order (docs/integrations.md).
      assert.deepEqual(
        got.map((r) => r.url.split('/')[3]),
        ['Received', 'Queued', 'Forwarded', 'Allocated', 'Accepted', 'Ended'],
      );
      for (const r of got) {
        assert.equal(r.authenticated, 'basic');
        assert.equal(r.method, 'POST');
        const url = new URL(r.url, 'https://x');
        assert.equal(url.pathname.split('/')[4], conversation);
        assert.match(url.searchParams.get('contact')!, /^\+1555/);
        const body = JSON.parse(r.body);
        assert.equal(body.channel, org.channels[0].channelAddressIdentifier);
        assert.equal(body.direction, 'Inbound');
        assert.equal(body[`${body.event}Seen`], true, 'placeholders in keys are resolved too');
      }
      const callFor = (event: string) => got.find((r) => r.url.split('/')[3] === event)!;
      assert.equal(
        JSON.parse(callFor('Received').body).language,
        '{Language}',
        'no routing attribute yet: the placeholder stays as written',
      );
      assert.equal(JSON.parse(callFor('Queued').body).language, 'en_US');
      assert.equal(new URL(callFor('Forwarded').url, 'https://x').searchParams.get('queue'), queue(1));

      const [digestCall] = await settled(digest.id, 1);
      assert.equal(digestCall.status, 'succeeded');
      const digestRequest = service.requests.find((r) => r.url.startsWith('/digest/forwarded'))!;
      assert.equal(digestRequest.authenticated, 'digest', 'the digest answer verifies with an independent RFC 7616 computation');
      assert.equal(digestRequest.method, 'PUT');
      assert.equal(new URL(digestRequest.url, 'https://x').searchParams.get('attr'), 'en_US');
      assert.deepEqual(JSON.parse(digestRequest.body), { to: queue(1) });

      const [headerCall] = await settled(header.id, 1);
      assert.equal(headerCall.status, 'succeeded');
      const logged = await callDetail(headerCall.id);
      assert.equal(logged.attemptLog[0].request.headers['x-api-key'], '***', 'the log shows the header, not its secret');
      assert.equal(logged.attemptLog[0].statusCode, 200);
      assert.equal(typeof logged.attemptLog[0].durationMs, 'number');
      const basicLog = await callDetail(calls[0].id);
      assert.equal(basicLog.attemptLog[0].request.headers.authorization, 'Basic ***');
      assert.deepEqual(basicLog.attemptLog[0].request.authentication, { type: 'basic', id: 'basic:alice' });

      for (const filtered of [outboundOnly, otherQueue, directOnly, disabled]) {
        assert.deepEqual(await callsOf(filtered.id), [], 'direction, queue and event filters leave it out');
      }
    });

    test('Rejected, Transferred and Abandoned: declined work, a transfer, and a session closed without an accepted agent', async () => {
      const listener = await create({
        name: 'rejections and abandonment',
        url: `${service.baseUrl}/events/{event}`,
        events: ['Rejected', 'Transferred', 'Abandoned'],
        queueIds: [queue(0), queue(1)],
      });
      const { conversation, workItem } = await newConversation();
      await api('POST', '/route', {
        conversationIdentifier: conversation,
        routingType: 'Initial',
        routingInfo: { queueId: org.queues[0].queueId15 },
      });
      await patchWork(await work(workItem, conversation, 0), 'Decline');
      const transfer = await api('POST', '/route', {
        conversationIdentifier: conversation,
        routingType: 'Transfer',
        routingInfo: { queueId: org.queues[1].queueId15 },
      });
      assert.equal(transfer.status, 202);
      await patchWork(await work(workItem, conversation, 1), 'Close');
      const view = await lifecycleOf(conversation);
      assert.deepEqual(
        view.lifecycleEvents.map((e: any) => e.event),
        ['Received', 'Queued', 'Allocated', 'Rejected', 'Transferred', 'Allocated', 'Abandoned'],
      );
      const calls = await settled(listener.id, 3);
      assert.deepEqual(calls.map((c) => c.event).sort(), ['Abandoned', 'Rejected', 'Transferred']);
    });

    test('the agent ending the session from the management API is Ended after an accepted work, Abandoned without one', async () => {
      const endByAgent = async (conversation: string) => {
        const res = await managementRequest(bridge, 'POST', `/api/conversations/${conversation}/end`, {});
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.entryType, 'SessionStatusChanged');
      };
      const routed = async () => {
        const started = await newConversation();
        const res = await api('POST', '/route', {
          conversationIdentifier: started.conversation,
          routingType: 'Initial',
          routingInfo: { queueId: org.queues[0].queueId15 },
        });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        return started;
      };
      const answered = await routed();
      await patchWork(await work(answered.workItem, answered.conversation, 0), 'Accept');
      await endByAgent(answered.conversation);
      const unanswered = await routed();
      await endByAgent(unanswered.conversation);
      assert.deepEqual(
        (await lifecycleOf(answered.conversation)).lifecycleEvents.map((e: any) => e.event),
        ['Received', 'Queued', 'Allocated', 'Accepted', 'Ended'],
      );
      assert.deepEqual(
        (await lifecycleOf(unanswered.conversation)).lifecycleEvents.map((e: any) => e.event),
        ['Received', 'Queued', 'Abandoned'],
      );
    });

    test('response.set steers routing and shows data to the agent; response.save keeps values a later call uses', async () => {
      const lookup = await create({
        name: 'customer lookup',
        url: `${service.baseUrl}/header/lookup/{contact.id}`,
        events: ['Received'],
        queueIds: [queue(0)],
        authentications: [{ id: 'api-key', secret: API_KEY }],
        configuration: {
          request: { method: 'GET', headers: { 'x-api-key': '{authentications.api-key}' } },
          response: {
            set: {
              'routingAttributes.Tier': '$.customer.tier',
              'agentData.CustomerName': '$.customer.name',
              'agentData.Orders': '$.customer.orders[*].id',
              'routing.queueId': '$.queue',
              'agentData.Missing': '$.nothing.here',
            },
            save: { customerTier: '$.customer.tier' },
          },
        },
      });
      const survey = await create({
        name: 'CSAT survey',
        url: `${service.baseUrl}/survey`,
        events: ['Ended'],
        queueIds: [queue(1)],
        configuration: {
          request: { body: { to: '{contact.id}', conversation: '{conversation.id}', tier: '{saved.customerTier}' } },
          response: { save: { surveyId: '$.survey.id' } },
        },
      });
      const { conversation, workItem } = await newConversation();
      const [call] = await settled(lookup.id, 1);
      assert.equal(call.status, 'succeeded', JSON.stringify(call));
      const context = await lifecycleOf(conversation);
      assert.deepEqual(context.agentData, { CustomerName: 'Ada Lovelace', Orders: ['O-1', 'O-2'] });
      assert.deepEqual(context.routingAttributes, { Tier: 'gold' });
      assert.deepEqual(context.routing, { queueId: org.queues[1].queueId15 });
      assert.deepEqual(context.saved, { customerTier: 'gold' });

      // A route by the channel's configuration goes to the queue the integration chose, with its attribute.
      const routed = await api('POST', '/route', { conversationIdentifier: conversation, routingType: 'Initial' });
      assert.equal(routed.status, 202, JSON.stringify(routed.body));
      assert.equal(routed.body.contextParamMap.queueId, queue(1));
      const sessions = (await bridge.management(`/api/conversations/${conversation}`)).messagingSessions;
      assert.deepEqual(sessions[0].pendingServiceRoutings.at(-1).routingAttributes, { Tier: 'gold' });

      const workId = await work(workItem, conversation, 0);
      await patchWork(workId, 'Accept');
      await patchWork(workId, 'Close');
      const [surveyCall] = await settled(survey.id, 1);
      assert.equal(surveyCall.status, 'succeeded');
      const sent = service.requests.filter((r) => r.url === '/survey').map((r) => JSON.parse(r.body));
      assert.deepEqual(sent.at(-1), { to: context.lifecycleEvents[0].endUserClientIdentifier, conversation, tier: 'gold' });
      const after = await lifecycleOf(conversation);
      assert.match(after.saved.surveyId, /^S-/);
      assert.equal(after.lifecycleEvents.at(-1).event, 'Ended');
    });

    test('5xx and timeouts are retried, other answers fail at once, a failed call can be retried by hand', async () => {
      const flaky = await create({
        name: 'flaky',
        url: `${service.baseUrl}/flaky/{conversation.id}`,
        events: ['Received'],
        queueIds: [queue(0)],
      });
      const broken = await create({ name: 'broken', url: `${service.baseUrl}/broken`, events: ['Received'], queueIds: [queue(0)] });
      const refused = await create({ name: 'refused', url: `${service.baseUrl}/refused`, events: ['Received'], queueIds: [queue(0)] });
      const slow = await create({ name: 'slow', url: `${service.baseUrl}/slow`, events: ['Received'], queueIds: [queue(0)] });
      await newConversation();

      const [flakyCall] = await settled(flaky.id, 1);
      assert.equal(flakyCall.status, 'succeeded');
      assert.equal(flakyCall.attempts, 3);
      assert.deepEqual(
        (await callDetail(flakyCall.id)).attemptLog.map((a: any) => a.statusCode),
        [503, 503, 200],
      );

      const [refusedCall] = await settled(refused.id, 1);
      assert.equal(refusedCall.status, 'failed');
      assert.equal(refusedCall.attempts, 1, 'a 4xx answer is not retried');
      const refusedLog = await callDetail(refusedCall.id);
      assert.equal(refusedLog.attemptLog[0].statusCode, 422);
      assert.match(refusedLog.attemptLog[0].responseExcerpt, /not for us/);

      const [slowCall] = await settled(slow.id, 1);
      assert.equal(slowCall.status, 'succeeded');
      const slowLog = await callDetail(slowCall.id);
      assert.match(slowLog.attemptLog[0].error, /no answer within 1500 ms/);
      assert.equal(slowLog.attemptLog[1].statusCode, 200);

      const [brokenCall] = await settled(broken.id, 1);
      assert.equal(brokenCall.status, 'failed');
      assert.equal(brokenCall.attempts, 3, 'one attempt and two retries, then failed');
      const notFailed = await managementRequest(bridge, 'POST', `/api/integration-calls/${flakyCall.id}/retry`);
      assert.equal(notFailed.status, 409);
      assert.equal(notFailed.body.code, 'conflict');
      alwaysFailing = false;
      const retried = await managementRequest(bridge, 'POST', `/api/integration-calls/${brokenCall.id}/retry`);
      assert.equal(retried.status, 202);
      const done = await waitFor('the retried call', async () => {
        const c = await callDetail(brokenCall.id);
        return c.status === 'succeeded' && c;
      });
      assert.deepEqual(
        done.attemptLog.map((a: any) => a.statusCode),
        [500, 500, 500, 200],
        'the log keeps every attempt',
      );
      assert.equal((await managementRequest(bridge, 'POST', '/api/integration-calls/call_nope/retry')).status, 404);
    });

    test("an integration gets each conversation's events in order, a retried call holding back the later ones", async () => {
      const listener = await create({
        name: 'ordered listener',
        url: `${service.baseUrl}/ordered/{event}/{conversation.id}`,
        events: ['Received', 'Queued', 'Allocated', 'Accepted', 'Ended'],
        queueIds: [queue(0)],
      });
      // Two conversations at once: each in order, whatever the other does.
      const conversations = await Promise.all([newConversation(), newConversation()]);
      for (const { conversation, workItem } of conversations) {
        const routed = await api('POST', '/route', {
          conversationIdentifier: conversation,
          routingType: 'Initial',
          routingInfo: { queueId: org.queues[0].queueId15 },
        });
        assert.equal(routed.status, 202, JSON.stringify(routed.body));
        const workId = await work(workItem, conversation, 0);
        await patchWork(workId, 'Accept');
        await patchWork(workId, 'Close');
      }
      const calls = await settled(listener.id, 10);
      assert.ok(
        calls.every((c) => c.status === 'succeeded'),
        JSON.stringify(calls),
      );
      for (const { conversation } of conversations) {
        const seen = service.requests.filter((r) => r.url.startsWith('/ordered/') && r.url.endsWith(`/${conversation}`));
        assert.deepEqual(
          seen.map((r) => r.url.split('/')[2]),
          ['Received', 'Received', 'Queued', 'Allocated', 'Accepted', 'Ended'],
          'the Received call (503, then retried) went before every later event of its conversation',
        );
      }
    });

    test('an answer over INTEGRATION_MAX_ANSWER_BYTES fails the call unread, logged as too large, and the bridge carries on', async () => {
      const huge = await create({
        name: 'huge answer',
        url: `${service.baseUrl}/huge`,
        events: ['Received'],
        queueIds: [queue(0)],
        configuration: { response: { set: { 'agentData.Name': '$.customer.name' } } },
      });
      const { conversation } = await newConversation();
      const [call] = await settled(huge.id, 1);
      assert.equal(call.status, 'failed');
      assert.equal(call.attempts, 1, 'not retried: the same answer would come back');
      assert.equal(call.lastStatusCode, 200);
      assert.match(call.lastError, new RegExp(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
      const detail = await callDetail(call.id);
      assert.equal(detail.attemptLog[0].responseExcerpt, null);
      // (Other tests' integrations set agent data too; this one's name must not be there.)
      assert.equal((await lifecycleOf(conversation)).agentData.Name, undefined, 'nothing of the answer was used');
      assert.match(bridge.output(), /answer larger than 65536 bytes/, 'the server log says why');
      // Still serving and calling: another conversation's call of a normal-sized answer succeeds.
      const small = await create({ name: 'small answer', url: `${service.baseUrl}/x`, events: ['Received'], queueIds: [queue(0)] });
      await newConversation();
      const [smallCall] = await settled(small.id, 1);
      assert.equal(smallCall.status, 'succeeded');
    });

    test('digest with SHA-256 (RFC 7616): the strongest algorithm offered, checked as libcurl computes it', async () => {
      // The service's digest check agrees with a real client: curl answers its MD5 and SHA-256 challenges.
      for (const p of ['/digest/curl-check', '/digest-sha256/curl-check']) {
        const { stdout } = await promisify(execFile)('curl', [
          '-sS',
          '--digest',
          '-u',
          `bob:${DIGEST_PASSWORD}`,
          '--cacert',
          service.caFile,
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          `${service.baseUrl}${p}`,
        ]);
        assert.equal(stdout, '200', `curl --digest passes the service's check on ${p}`);
      }
      assert.deepEqual(
        service.requests.filter((r) => r.url.endsWith('/curl-check')).map((r) => r.authenticated),
        ['digest', 'digest-sha256'],
      );
      const [sha256, strongest] = await Promise.all(
        ['/digest-sha256/accepted', '/digest-strongest/accepted'].map((p) =>
          create({
            name: `digest ${p}`,
            url: `${service.baseUrl}${p}?c={conversation.id}`,
            events: ['Received'],
            queueIds: [queue(0)],
            authentications: [{ id: 'digest:bob', secret: DIGEST_PASSWORD }],
            configuration: { request: { authentication: { type: 'digest' }, body: { event: '{event}' } } },
          }),
        ),
      );
      const { conversation } = await newConversation();
      for (const integration of [sha256!, strongest!]) {
        const [call] = await settled(integration.id, 1);
        assert.equal(call.status, 'succeeded', JSON.stringify(call));
        const detail = await callDetail(call.id);
        assert.equal(detail.attemptLog[0].request.headers.authorization, 'Digest ***');
      }
      const answered = service.requests.filter((r) => r.url.includes('/accepted?c=') && r.url.endsWith(conversation));
      assert.deepEqual(
        answered.map((r) => [r.url.split('/')[1], r.authenticated]).sort(),
        [
          ['digest-sha256', 'digest-sha256'],
          ['digest-strongest', 'digest-sha256'],
        ],
        'SHA-256 chosen over the MD5 challenge offered first',
      );
    });

    test('a call in flight when the process dies is made again after the restart', async () => {
      const durable = await create({ name: 'durable', url: `${service.baseUrl}/after-crash`, events: ['Received'], queueIds: [queue(0)] });
      await newConversation();
      await waitFor('the first attempt to reach the service', () => service.requests.some((r) => r.url === '/after-crash'));
      await bridge.kill();
      await bridge.start();
      const [call] = await settled(durable.id, 1);
      assert.equal(call.status, 'succeeded');
      assert.equal(service.requests.filter((r) => r.url === '/after-crash').length, 2, 'called again once its lease lapsed');
    });

    test('no secret appears in any answer, call log or server log, even when the service echoes one', async () => {
      const echo = await create({
        name: 'echo',
        url: `${service.baseUrl}/header/echo`,
        events: ['Received'],
        queueIds: [queue(0)],
        authentications: [{ id: 'api-key', secret: API_KEY }],
        configuration: { request: { headers: { 'x-api-key': '{authentications.api-key}' }, params: { key: '{authentications.api-key}' } } },
      });
      await newConversation();
      const [call] = await settled(echo.id, 1);
      const detail = await callDetail(call.id);
      assert.match(detail.attemptLog[0].responseExcerpt, /"youSent":"\*\*\*"/);
      assert.match(detail.attemptLog[0].request.url, /key=\*\*\*/);
      answers.push((await managementRequest(bridge, 'GET', '/api/integrations')).body);
      answers.push((await managementRequest(bridge, 'GET', '/api/integration-calls?limit=500')).body);
      for (const c of (await managementRequest(bridge, 'GET', '/api/integration-calls?limit=500')).body.calls)
        answers.push(await callDetail(c.id));
      const everything = JSON.stringify(answers) + bridge.output();
      assert.ok(bridge.output().includes('integration'), 'the server log was captured');
      for (const secret of SECRETS) assert.ok(!everything.includes(secret), `secret ${secret.slice(0, 6)}… leaked`);
    });
  });
}
