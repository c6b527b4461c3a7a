import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RouteRequest } from '../src/contract/route-request.ts';
import type { PortRequest } from '../src/crm/crm-port.ts';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import { bridgeModeEnv, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { callJson } from './helpers/json-api.ts';

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
      fetch(`${target}${req.url}`, { method: req.method, headers, body: body.length ? body : undefined })
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
});
