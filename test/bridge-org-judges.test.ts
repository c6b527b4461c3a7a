import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { accessToken } from './helpers/api-client.ts';
import { bridgeModeEnv, printLogOnFailure, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { callApi, callJson } from './helpers/json-api.ts';

/*
 * Bridge mode leaves to the org what the org decides: an external user id on agentWork reaches it (the
 * local org's own 15106 is not the bridge's to give), and an org that says "too many requests" or "not
 * now" with Retry-After is heard by the partner as it said it, header included, and not called again.
 */

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** Stands in for the org's Interaction Service: answers each path as scripted and records what it got. */
async function startOrgStandIn(script: Record<string, Answer>) {
  const received: { method: string; path: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, path: req.url!, body: Buffer.concat(chunks).toString('utf8') });
      const answer = script[req.url!] ?? { status: 404, body: { message: 'not scripted' } };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sendJson = (bridge: BridgeProcess, method: string, path: string, body: unknown, token: string) =>
  callApi(bridge, method, path, { token, contentType: 'application/json', body: JSON.stringify(body) });

const agentWorkAnswer = { success: true, id: randomUUID(), agentWorkId: '0Bz5g00000ExtWk' };
const busy = { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'Too many requests: retry later.' };
const maintenance = { errorCode: 'SERVICE_UNAVAILABLE', message: 'The service is down for maintenance.' };

describe('bridge mode: the org judges what is its to judge, and its Retry-After reaches the partner', () => {
  let org: BridgeProcess;
  let standIn: Awaited<ReturnType<typeof startOrgStandIn>>;
  let bridge: BridgeProcess;
  let token: string;
  const started: (() => Promise<unknown>)[] = [];
  before(async () => {
    // The org process issues the bridge's tokens; the stand-in answers its Interaction API calls.
    org = await startBridge();
    started.push(() => org.dispose());
    standIn = await startOrgStandIn({
      '/api/v1/agentWork': { status: 202, body: agentWorkAnswer },
      '/api/v1/route': { status: 429, headers: { 'Retry-After': '17' }, body: busy },
      '/api/v1/consent': { status: 503, headers: { 'Retry-After': '42' }, body: maintenance },
    });
    started.push(() => standIn.close());
    bridge = await startBridge({ env: bridgeModeEnv(org, { SF_SCRT_INSTANCE_URL: standIn.url }) });
    started.push(() => bridge.dispose());
    token = await accessToken(bridge);
  });
  printLogOnFailure(() => bridge);
  after(async () => {
    for (const stop of started.reverse()) await stop();
  });

  const callsTo = (path: string) => standIn.received.filter((r) => r.path === path);

  test('an external userId on agentWork is forwarded and the org accepts it; the local org, being the org, refuses it with 15106', async () => {
    const text = `{"userId":"ext-agent-7","workItemId":"0Mw5g00000ExtWk","capacityWeight":"1"}`;
    const res = await callJson(bridge, 'POST', '/agentWork', text, { token });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body, agentWorkAnswer);
    assert.deepEqual(
      callsTo('/api/v1/agentWork').map((r) => [r.method, r.body]),
      [['POST', text]],
    );

    const local = await callJson(org, 'POST', '/agentWork', text, { token: await accessToken(org) });
    assert.deepEqual([local.status, local.body.code], [400, 15106]);
  });

  test('a 429 and a 503 with Retry-After come back with the same status, body and Retry-After, after one call', async () => {
    const route = await sendJson(bridge, 'POST', '/route', { conversationIdentifier: randomUUID(), routingType: 'Initial' }, token);
    assert.deepEqual([route.status, route.body, route.headers.get('retry-after')], [429, busy, '17']);
    assert.equal(callsTo('/api/v1/route').length, 1, 'the org said when to come back: the bridge did not retry before');

    const consent = await sendJson(
      bridge,
      'PATCH',
      '/consent',
      { endUserClientId: '+15550100', channelAddressIdentifier: randomUUID(), consentStatus: 'OptedOut' },
      token,
    );
    assert.deepEqual([consent.status, consent.body, consent.headers.get('retry-after')], [503, maintenance, '42']);
    assert.equal(callsTo('/api/v1/consent').length, 1);
  });
});
