import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RouteRequest } from '../src/contract/route-request.ts';
import type { PortRequest } from '../src/crm/crm-port.ts';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, bridgeModeEnv, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { callApi, callJson, getWithBody } from './helpers/json-api.ts';
import { sendAgentMessage } from './helpers/outbound.ts';

// A type-level check: a request reaches the port with both forms or not at all. tsc (npm run typecheck)
// fails if this ever compiles.
export function portRequestWithoutItsRawForm(parsed: RouteRequest): PortRequest<RouteRequest> {
  // @ts-expect-error `raw` is required
  return { parsed };
}

interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Stands between the bridge and the org (SF_SCRT_INSTANCE_URL points here): records each request as it
 * arrives and passes it on unchanged, so a test sees exactly what the bridge sent the org.
 */
async function startRecordingProxy(target: string) {
  const recorded: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      recorded.push({ method: req.method!, path: req.url!, headers: req.headers, body: body.toString('utf8') });
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)),
      ) as Record<string, string>;
      const url = `${target}${req.url}`;
      const method = req.method ?? 'GET';
      (method === 'GET' && body.length
        ? getWithBody(url, headers, body.toString('utf8'))
        : fetch(url, { method, headers, body: body.length ? body : undefined })
      )
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    recorded,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('bridge mode forwards each request in the form the partner sent it', () => {
  let org: BridgeProcess;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let bridge: BridgeProcess;
  let token: string;
  // Whatever before() got to start (it may have failed part way), stopped in reverse order.
  const started: (() => Promise<unknown>)[] = [];
  before(async () => {
    org = await startBridge();
    started.push(() => org.dispose());
    proxy = await startRecordingProxy(org.baseUrl);
    started.push(() => proxy.close());
    bridge = await startBridge({ env: bridgeModeEnv(org, { SF_SCRT_INSTANCE_URL: proxy.url }) });
    started.push(() => bridge.dispose());
    token = await accessToken(bridge);
  });
  after(async () => {
    for (const stop of started.reverse()) await stop();
  });

  const lastTo = (path: string) => proxy.recorded.filter((r) => r.path === path).at(-1)!;

  test("an interaction's json part and a JSON operation's body reach the org as the partner wrote them", async () => {
    // Spacing, key order, an unknown property and an escaped character: a re-serialization changes all four.
    const message = textMessage('caf\u00e9', { from: `fwd-${randomUUID()}` });
    const jsonText =
      `{ "interactions" : ${JSON.stringify(message.interactions)},\n  "to":"${message.to}", "from": "${message.from}", "partnerExtra": {"kept": true} }`.replace(
        'café',
        'caf\\u00e9',
      );
    const inbound = await postInteraction(bridge, undefined, { token, rawJson: jsonText });
    assert.equal(inbound.status, 202, JSON.stringify(inbound.body));
    assert.ok(lastTo('/api/v1/interactions').body.includes(`\r\n\r\n${jsonText}\r\n`), 'the json part byte for byte');

    const { conversationIdentifier } = inbound.body;
    const routeText = `{"routingType" : "Initial",   "conversationIdentifier":"${conversationIdentifier}", "partnerExtra":"x\\u0041"}`;
    const routed = await callJson(bridge, 'POST', '/route', routeText, { token });
    assert.equal(routed.status, 202, JSON.stringify(routed.body));
    const forwarded = lastTo('/api/v1/route');
    assert.deepEqual([forwarded.method, forwarded.body, forwarded.headers['content-type']], ['POST', routeText, 'application/json']);
  });

  test("an operation's own headers go along with its body, and a refusal by the org comes back as it gave it", async () => {
    const patchText = `{"workId":"0Bz5g00000ByWrk","status":"Close",  "contextType":"Agent"}`;
    const res = await callJson(bridge, 'PATCH', '/agentWork', patchText, {
      token,
      headers: { AuthorizationContextType: 'ConversationChannelDefinition' },
    });
    const forwarded = lastTo('/api/v1/agentWork');
    assert.deepEqual(
      [forwarded.method, forwarded.body, forwarded.headers.authorizationcontexttype],
      ['PATCH', patchText, 'ConversationChannelDefinition'],
    );
    const atOrg = await callJson(org, 'PATCH', '/agentWork', patchText, {
      token: await accessToken(org),
      headers: { AuthorizationContextType: 'ConversationChannelDefinition' },
    });
    assert.deepEqual([res.status, res.body.code], [atOrg.status, atOrg.body.code]);
  });
  test('the conversation operations reach the org byte for byte and its answers come back as it gave them', async () => {
    const subject = `fwd-ops-${randomUUID().slice(0, 8)}`;
    const sender = `{"appType":"custom", "role":"EndUser","subject":"${subject}"}`;
    /** Sends `text` through the bridge and checks the org received exactly it, by the same method. */
    const forward = async (method: string, path: string, text: string) => {
      const res = await callJson(bridge, method, path, text, { token });
      const forwarded = lastTo(`/api/v1${path}`);
      assert.deepEqual([forwarded.method, forwarded.body], [method, text], path);
      return res;
    };

    const established = await forward(
      'POST',
      '/conversation',
      `{ "channelAddressIdentifier" : "${LOCAL_ORG.channel}", "participants": [${sender}], "x":"\\u00e9" }`,
    );
    assert.equal(established.status, 202, JSON.stringify(established.body));
    const { conversationIdentifier } = established.body;

    const entryId = randomUUID();
    const entry = await forward(
      'POST',
      '/conversationEntry',
      `{"conversationIdentifier":"${conversationIdentifier}","sender":${sender},"conversationEntries":[{"clientTimestamp":${Date.now()},"entryPayload":{"entryType":"Message","id":"${entryId}","abstractMessage":{"messageType":"StaticContentMessage","id":"${entryId}","staticContent":{"formatType":"Text","text":"hi"}}}}]}`,
    );
    assert.deepEqual([entry.status, entry.body], [202, { success: true }]);

    const pageText = `{"conversationIdentifier":"${conversationIdentifier}",  "startTime": 0, "limit": 5}`;
    const page = await forward('GET', '/conversationEntry', pageText);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.deepEqual(
      page.body.conversationEntries.map((e: { entryPayload: { id: string } }) => e.entryPayload.id),
      [entryId],
    );
    const query = `conversationIdentifier=${conversationIdentifier}&startTime=0&direction=FROM_END`;
    const byQuery = await callApi(bridge, 'GET', `/conversationEntry?${query}`, { token });
    assert.deepEqual([byQuery.status, byQuery.body.conversationEntries.length], [200, 1]);
    assert.deepEqual(
      [proxy.recorded.at(-1)?.method, proxy.recorded.at(-1)?.path, proxy.recorded.at(-1)?.body],
      ['GET', `/api/v1/conversationEntry?${query}`, ''],
    );

    const agent = await sendAgentMessage(org, conversationIdentifier, { text: 'answer from the org' });
    const ack = await forward(
      'POST',
      '/acknowledgement',
      `{"conversationIdentifier": "${conversationIdentifier}", "sender": ${sender}, "acknowledgements": [{"acknowledgementType":"Read","acknowledgedConversationEntryIdentifier":"${agent.entryId}","acknowledgmentCreatedConversationEntryIdentifier":"${randomUUID()}","acknowledgementTimestamp":"${Date.now()}"}]}`,
    );
    assert.deepEqual([ack.status, ack.body], [200, { success: true }]);

    const capabilities = await forward(
      'PATCH',
      '/capabilities',
      `{"capabilities":{"appType":"custom","channelCapabilities":[{"messageTypeCapabilities":[{"messageType":"ChoicesMessage","formatTypeCapabilities":[{"formatType":"Buttons"}]}]}]}}`,
    );
    assert.deepEqual([capabilities.status, capabilities.body], [200, { success: true }]);

    const inbound = await postInteraction(bridge, textMessage('open a session', { from: subject }), { token });
    assert.deepEqual([inbound.status, inbound.body.conversationIdentifier], [202, conversationIdentifier]);
    const ended = await forward(
      'POST',
      '/messagingSession',
      `{"channelAddressIdentifier":"${LOCAL_ORG.channel}","endUserClientId":"${subject}","conversationIdentifier":"${conversationIdentifier}","operation":"End"}`,
    );
    assert.deepEqual([ended.status, ended.body], [200, { success: true }]);

    const historyText = `{"channelAddressIdentifier":"${LOCAL_ORG.channel}","conversationParticipants":[{"participant":${sender},"joinedTime":1700000000000}],"conversationEntries":[{"clientTimestamp":1700000000100,"sender":${sender},"entryPayload":{"entryType":"Message","id":"${randomUUID()}","abstractMessage":{"messageType":"StaticContentMessage","id":"h1","staticContent":{"formatType":"Text","text":"earlier"}}}}]}`;
    const history = await forward('POST', '/conversationHistory', historyText);
    assert.deepEqual([history.status, history.body.conversationIdentifier], [202, conversationIdentifier]);

    const removed = await forward(
      'POST',
      '/participant',
      `{"conversationIdentifier":"${conversationIdentifier}","participants":[${sender}],"operation":"Remove"}`,
    );
    assert.deepEqual([removed.status, removed.body], [200, { success: true }]);
    // The org's refusal of the same request again comes back with its status and code.
    const again = await forward('POST', '/participant', lastTo('/api/v1/participant').body);
    assert.deepEqual([again.status, again.body.code], [400, 10036]);
  });
});
