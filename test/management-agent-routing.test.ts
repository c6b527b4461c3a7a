import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, startConversation } from './helpers/outbound.ts';

for (const store of storeKinds()) {
  describe(`the local org's agent routes, transfers, accepts and closes work from the management API (${store})`, () => {
    let bridge: BridgeProcess;
    let queueId: string;
    let agentId: string;
    before(async () => {
      bridge = await startBridge({ store });
      const org = await bridge.management('/api/org');
      queueId = org.queues[0].queueId15;
      agentId = org.agentUsers[0].userId15;
    });
    after(() => bridge.dispose());

    const call = (method: string, path: string, body?: unknown) => managementRequest(bridge, method, path, body);
    const conversation = (id: string) => bridge.management(`/api/conversations/${id}`);
    const lifecycle = async (id: string) =>
      ((await bridge.management(`/api/conversations/${id}/integrations`)).lifecycleEvents as { event: string }[]).map((e) => e.event);

    test('transfer to a queue, assign to an agent, accept, close: the routing state and lifecycle events of the Interaction API calls', async () => {
      const id = await startConversation(bridge, `routing-${randomUUID().slice(0, 8)}`);
      const routed = await call('POST', `/api/conversations/${id}/route`, { queueId, routingAttributes: { Language: 'fr' } });
      assert.equal(routed.status, 202, JSON.stringify(routed.body));
      assert.match(routed.body.psrId, /^0JR/);
      let shown = await conversation(id);
      const psr = shown.messagingSessions[0].pendingServiceRoutings.find((p: { psrId: string }) => p.psrId === routed.body.psrId);
      assert.equal(psr.status, 'Open');
      assert.equal(psr.routingType, 'Transfer');

      const assigned = await call('POST', `/api/conversations/${id}/agent-work`, { userId: agentId });
      assert.equal(assigned.status, 202, JSON.stringify(assigned.body));
      assert.equal(assigned.body.agentWorkDetails.existPsr, true, 'takes the open routing');
      const workId = assigned.body.agentWorkId as string;

      const accepted = await call('PATCH', `/api/agent-work/${workId}`, { status: 'Accept' });
      assert.deepEqual([accepted.status, accepted.body], [202, { success: true }]);
      const again = await call('PATCH', `/api/agent-work/${workId}`, { status: 'Accept' });
      assert.equal(again.status, 409, JSON.stringify(again.body));
      assert.equal(again.body.code, 'conflict');
      assert.match(again.body.message, /is Opened/);
      shown = await conversation(id);
      assert.equal(shown.messagingSessions[0].agentWork[0].status, 'Opened');

      const closed = await call('PATCH', `/api/agent-work/${workId}`, { status: 'Close' });
      assert.equal(closed.status, 202, JSON.stringify(closed.body));
      shown = await conversation(id);
      assert.equal(shown.messagingSessions[0].agentWork[0].status, 'Closed');
      assert.equal(shown.messagingSessions[0].status, 'Ended', 'closing the last work ends the session');
      assert.deepEqual(await lifecycle(id), ['Received', 'Transferred', 'Allocated', 'Accepted', 'Ended']);
    });

    test('an Initial route queues; assigning without an open routing needs a capacity', async () => {
      const id = await startConversation(bridge, `initial-${randomUUID().slice(0, 8)}`);
      const noCapacity = await call('POST', `/api/conversations/${id}/agent-work`, { userId: agentId });
      assert.equal(noCapacity.status, 400, JSON.stringify(noCapacity.body));
      assert.match(noCapacity.body.message, /capacity/);
      const withCapacity = await call('POST', `/api/conversations/${id}/agent-work`, { userId: agentId, capacityPercentage: 40 });
      assert.equal(withCapacity.status, 202, JSON.stringify(withCapacity.body));
      const twice = await call('POST', `/api/conversations/${id}/agent-work`, { userId: agentId, capacityPercentage: 40 });
      assert.equal(twice.status, 409, JSON.stringify(twice.body));
      const routed = await call('POST', `/api/conversations/${id}/route`, { routingType: 'Initial', queueId });
      assert.equal(routed.status, 202, JSON.stringify(routed.body));
      assert.ok((await lifecycle(id)).includes('Queued'));
    });

    test('refusals are precise and change nothing', async () => {
      const id = await startConversation(bridge, `refused-${randomUUID().slice(0, 8)}`);
      const before = await conversation(id);
      const cases: [string, string, unknown, number, string][] = [
        ['POST', `/api/conversations/${id}/route`, {}, 400, 'invalid_request'],
        ['POST', `/api/conversations/${id}/route`, { queueId: '00G000000000000' }, 400, 'invalid_request'],
        ['POST', `/api/conversations/${id}/route`, { queueId, routingType: 'Conference' }, 400, 'invalid_request'],
        ['POST', `/api/conversations/${id}/route`, { queueId, extra: 1 }, 400, 'invalid_request'],
        ['POST', `/api/conversations/no-such-conversation/route`, { queueId }, 404, 'not_found'],
        ['POST', `/api/conversations/${id}/agent-work`, { userId: 'not-an-id' }, 400, 'invalid_request'],
        ['POST', `/api/conversations/${id}/agent-work`, { userId: '005000000000000', capacityPercentage: 10 }, 400, 'invalid_request'],
        [
          'POST',
          `/api/conversations/${id}/agent-work`,
          { userId: agentId, capacityPercentage: 10, capacityWeight: 1 },
          400,
          'invalid_request',
        ],
        ['POST', `/api/conversations/no-such-conversation/agent-work`, { userId: agentId, capacityPercentage: 10 }, 404, 'not_found'],
        ['PATCH', '/api/agent-work/0Bz000000000000', { status: 'Accept' }, 404, 'not_found'],
        ['PATCH', '/api/agent-work/0Bz000000000000', { status: 'Open' }, 400, 'invalid_request'],
      ];
      for (const [method, path, body, status, code] of cases) {
        const res = await call(method, path, body);
        assert.deepEqual(
          [res.status, res.body?.code],
          [status, code],
          `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`,
        );
      }
      assert.deepEqual(await conversation(id), before);
    });
  });
}
