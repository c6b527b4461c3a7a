import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { bridgeModeEnv, runUntilExit, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { startIntegrationServer } from './helpers/integration-server.ts';
import { callJson } from './helpers/json-api.ts';
import { managementRequest, waitFor } from './helpers/outbound.ts';

// Bridge mode: the org (a second process, routing owner Partner) publishes routing events; the bridge derives
// lifecycle events from what its subscriber stores and calls its integrations.
describe('integrations in bridge mode: lifecycle events from the org’s outbound events', () => {
  let org: BridgeProcess;
  let bridge: BridgeProcess;
  let service: Awaited<ReturnType<typeof startIntegrationServer>>;
  let dir: string;
  let token: string;
  let queues: { queueId: string; queueId15: string }[];
  let agents: { userId15: string }[];
  const cleanup: (() => Promise<unknown>)[] = [];
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-integrations-bridge-'));
    service = await startIntegrationServer({
      dir,
      users: { alice: 'bridge-basic-secret' },
      apiKey: { header: 'x-api-key', value: 'unused' },
    });
    org = await startBridge({ env: { LOCAL_ROUTING_OWNER: 'Partner' } });
    cleanup.push(() => org.dispose());
    // With an hour's safety poll, calls are made only because committing the received events woke the dispatcher.
    bridge = await startBridge({ env: { ...bridgeModeEnv(org), INTEGRATION_CA_FILE: service.caFile, INTEGRATION_POLL_MS: '3600000' } });
    cleanup.push(() => bridge.dispose());
    token = await accessToken(bridge);
    const orgView = await org.management('/api/org');
    queues = orgView.queues;
    agents = orgView.agentUsers;
  });
  after(async () => {
    // Whatever started, even when a start failed: the service's server would keep the test process alive.
    for (const stop of cleanup.reverse()) await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('Queued, Transferred, Allocated, Accepted and Ended reach an integration of the bridge', async () => {
    const created = await managementRequest(bridge, 'POST', '/api/integrations', {
      name: 'bridge feed',
      url: `${service.baseUrl}/basic/bridge/{event}`,
      events: ['Received', 'Queued', 'Allocated', 'Accepted', 'Rejected', 'Transferred', 'Forwarded', 'Ended', 'Abandoned'],
      queueIds: queues.map((q) => q.queueId),
      authentications: [{ id: 'basic:alice', secret: 'bridge-basic-secret' }],
      configuration: { request: { authentication: { type: 'basic' }, body: { conversation: '{conversation.id}', queue: '{queue.id}' } } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const api = (method: string, p: string, body: unknown, headers?: Record<string, string>) =>
      callJson(bridge, method, p, body, { token, headers });

    const sent = await postInteraction(bridge, textMessage('routed by the partner', { from: `bridge-${randomUUID()}` }), { token });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const conversation = sent.body.conversationIdentifier as string;
    const workItemId = sent.body.workItemIds[0] as string;
    const transfer = await api('POST', '/route', {
      conversationIdentifier: conversation,
      routingType: 'Transfer',
      routingInfo: { queueId: queues[1]!.queueId15 },
    });
    assert.equal(transfer.status, 202, JSON.stringify(transfer.body));
    const work = await api('POST', '/agentWork', { userId: agents[0]!.userId15, workItemId });
    assert.equal(work.status, 202, JSON.stringify(work.body));
    const patch = (status: string) =>
      api(
        'PATCH',
        '/agentWork',
        { workId: work.body.agentWorkId, status, contextType: 'Agent' },
        { AuthorizationContextType: 'ConversationChannelDefinition' },
      );
    assert.equal((await patch('Accept')).status, 202);
    assert.equal((await patch('Close')).status, 202);

    const expected = ['Queued', 'Transferred', 'Allocated', 'Accepted', 'Ended'];
    const view = await waitFor('five lifecycle events in the bridge', async () => {
      const v = (await managementRequest(bridge, 'GET', `/api/conversations/${conversation}/integrations`)).body;
      return v.lifecycleEvents.length >= expected.length && v;
    });
    assert.deepEqual(
      view.lifecycleEvents.map((e: any) => [e.event, e.queueId]),
      [
        ['Queued', queues[0]!.queueId],
        ['Transferred', queues[1]!.queueId],
        ['Allocated', queues[1]!.queueId],
        ['Accepted', queues[1]!.queueId],
        ['Ended', queues[1]!.queueId],
      ],
    );
    const calls = await waitFor('five calls made', async () => {
      const c = (await managementRequest(bridge, 'GET', `/api/integration-calls?conversationIdentifier=${conversation}`)).body
        .calls as any[];
      return c.length === expected.length && c.every((x) => x.status === 'succeeded') && c;
    });
    assert.deepEqual(calls.map((c) => c.event).sort(), [...expected].sort());
    const got = service.requests.filter((r) => JSON.parse(r.body || '{}').conversation === conversation);
    assert.deepEqual(
      got.map((r) => r.url.split('/')[3]),
      expected,
      'in event order',
    );
    assert.ok(got.every((r) => r.authenticated === 'basic'));
    assert.ok(!bridge.output().includes('bridge-basic-secret'));
  });

  test('an INTEGRATION_CA_FILE that cannot be read, or holds no certificate, stops the start with the setting named', async () => {
    const missing = await runUntilExit({ INTEGRATION_CA_FILE: path.join(dir, 'no-such.pem') });
    assert.equal(missing.code, 1);
    assert.match(missing.output, /INTEGRATION_CA_FILE: cannot read/);
    const notPem = path.join(dir, 'not.pem');
    fs.writeFileSync(notPem, 'hello');
    const wrong = await runUntilExit({ INTEGRATION_CA_FILE: notPem });
    assert.equal(wrong.code, 1);
    assert.match(wrong.output, /INTEGRATION_CA_FILE: .* holds no PEM certificate/);
  });

  test('an INTEGRATION_MAX_ANSWER_BYTES that is not a positive whole number stops the start with the setting named', async () => {
    for (const value of ['0', '1MiB']) {
      const refused = await runUntilExit({ INTEGRATION_MAX_ANSWER_BYTES: value });
      assert.equal(refused.code, 1);
      assert.match(refused.output, /INTEGRATION_MAX_ANSWER_BYTES/);
    }
  });
});
