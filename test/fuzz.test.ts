// Property-based fuzzing of every public input, generated from the contract: valid requests and mutated
// ones (a field deleted or replaced by a hostile value, headers garbled, bodies of the wrong kind) against
// a running server on each store. The property: never a 5xx, never a crash, and a refusal changes
// nothing the management API shows. Bounded by FUZZ_SECONDS per store (default 15); seeded by FUZZ_SEED
// (printed at the start; set it to replay a run's sequence of requests).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { accessToken, multipartField, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { stateViews } from './helpers/state-views.ts';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const BUDGET_MS = Number(process.env.FUZZ_SECONDS ?? 15) * 1000;
console.log(`# fuzz seed ${SEED}: replay with FUZZ_SEED=${SEED} (budget ${BUDGET_MS / 1000} s per store)`);

interface FuzzRequest {
  label: string;
  port: 'api' | 'management';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

type Json = Record<string, unknown>;

/** Values that have broken servers: NUL, huge and negative numbers, deep nesting, long and odd strings. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, '', '\u0000', 'a\u0000b', 3e9, 1e23, 1e300, -1, -0, 0.5, true, [], {}, '9'.repeat(40), 'x'.repeat(5000)),
  fc.constantFrom('1e23', '../../etc/passwd', '<script>', '%00', '\ud800', 'café', '日本'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double(),
  fc.integer(),
  fc.anything({ maxDepth: 3 }),
  fc.integer({ min: 60, max: 3000 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown),
);

/** Paths to every value of a JSON object, to pick one to mutate. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

function mutate(body: Json, pick: number, action: 'delete' | 'replace', value: unknown): Json {
  const copy = structuredClone(body);
  const paths = pathsOf(copy).filter((p) => p.length > 0);
  const path = paths[pick % paths.length]!;
  let parent: any = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path.at(-1)!;
  if (action === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else Reflect.deleteProperty(parent, last);
  } else parent[last] = value;
  return copy;
}

/** A body valid per the contract, or the same with one value deleted or replaced by a hostile one. */
const validOrMutated = (valid: fc.Arbitrary<Json>) =>
  fc.oneof(
    valid,
    fc
      .tuple(valid, fc.nat(), fc.constantFrom('delete' as const, 'replace' as const), hostile)
      .map(([body, pick, action, value]) => mutate(body, pick, action, value)),
  );

/** Serializes what JSON.stringify can; a value too deep for it is written by hand. */
function toJsonText(value: unknown): string {
  try {
    // undefined (a deleted root) serializes to nothing: sent as an empty body.
    return value === undefined ? '' : JSON.stringify(value);
  } catch {
    return `{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  }
}

const headerText = fc.stringMatching(/^[\x21-\x7e]{0,60}$/);

function requestArbitrary(ctx: { token: string; conversationIdentifier: string; workItemId: string }) {
  const text = fc.string({ maxLength: 200 });
  const endUser = fc.oneof(fc.constant(LOCAL_ORG.endUser), fc.stringMatching(/^\+1555[0-9]{7}$/));
  const interaction = fc
    .record({ text, from: endUser, kind: fc.constantFrom('Message', 'TypingStartedIndicator', 'TypingStoppedIndicator') })
    .map(({ text, from, kind }): Json => {
      if (kind === 'Message') return textMessage(text, { from });
      const id = randomUUID();
      return {
        to: LOCAL_ORG.channel,
        from,
        interactions: [
          { timestamp: Date.now(), interactionType: 'EntryInteraction', payload: { id, entryType: kind, timestamp: Date.now() } },
        ],
      };
    });
  const conversationIdentifier = fc.oneof(fc.constant(ctx.conversationIdentifier), fc.uuid());
  const route = fc.record({
    conversationIdentifier,
    routingType: fc.constantFrom('Initial', 'Transfer', 'Conference'),
    routingInfo: fc.record({ queueId: fc.constantFrom('00G5g00000ByQ01', '00G5g00000ByQ02') }),
  });
  const routingResult = fc.record({
    conversationIdentifier,
    workItemId: fc.constantFrom(ctx.workItemId),
    success: fc.boolean(),
    routingType: fc.constant('Initial'),
    externallyRouted: fc.boolean(),
  });
  const agentWork = fc.record({
    conversationIdentifier,
    userId: fc.constantFrom('0055g00000ByA01', '0055g00000ByA02'),
    workItemId: fc.constant(ctx.workItemId),
    routingContext: fc.record({ routingType: fc.constant('Initial') }),
    capacityWeight: fc.integer({ min: 0, max: 10 }),
  });
  const consent = fc.record({
    endUserClientId: endUser,
    channelAddressIdentifier: fc.constant(LOCAL_ORG.channel),
    consentStatus: fc.constantFrom('OptedIn', 'OptedOut', 'Pending'),
  });
  const channel = fc.record({
    channelAddressIdentifier: fc.uuid(),
    authorizationContext: fc.stringMatching(/^[A-Za-z_]{1,20}$/),
    routingAttributeMaxLength: fc.integer({ min: 1, max: 1000 }),
  });

  const guardHeaders = fc
    .tuple(fc.uuid(), fc.option(fc.constantFrom('Authorization', 'OrgId', 'AuthorizationContext', 'RequestId'), { freq: 3 }), headerText)
    .map(([requestId, garbled, value]) => {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${ctx.token}`,
        OrgId: LOCAL_ORG.orgId,
        AuthorizationContext: LOCAL_ORG.authorizationContext,
        RequestId: requestId,
      };
      if (garbled) headers[garbled] = value;
      return headers;
    });
  const jsonCall = (label: string, method: string, path: string, body: fc.Arbitrary<Json>) =>
    fc.tuple(guardHeaders, validOrMutated(body)).map(([headers, b]): FuzzRequest => ({
      label,
      port: 'api',
      method,
      path,
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: toJsonText(b),
    }));

  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(guardHeaders, validOrMutated(interaction), fc.boolean()).map(([headers, body, typed]): FuzzRequest => {
        const part = multipartField('json', toJsonText(body), typed ? 'application/json' : undefined);
        return {
          label: 'interactions',
          port: 'api',
          method: 'POST',
          path: '/api/v1/interactions',
          headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=${part.boundary}` },
          body: part.body,
        };
      }),
    },
    { weight: 2, arbitrary: jsonCall('route', 'POST', '/api/v1/route', route) },
    { weight: 1, arbitrary: jsonCall('cancel route', 'DELETE', '/api/v1/route', route) },
    { weight: 1, arbitrary: jsonCall('routing-result', 'POST', '/api/v1/routing-result', routingResult) },
    { weight: 1, arbitrary: jsonCall('agent-work', 'POST', '/api/v1/agent-work', agentWork) },
    { weight: 1, arbitrary: jsonCall('consent', 'PATCH', '/api/v1/consent', consent) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          guardHeaders,
          fc.constantFrom('/api/v1/interactions', '/api/v1/route', '/api/v1/consent'),
          fc.constantFrom('application/json', 'multipart/form-data; boundary=x', 'text/plain', 'application/x-www-form-urlencoded'),
          fc.string({ unit: 'binary', maxLength: 300 }),
        )
        .map(([headers, path, contentType, body]): FuzzRequest => ({
          label: 'raw body',
          port: 'api',
          method: 'POST',
          path,
          headers: { ...headers, 'Content-Type': contentType },
          body,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(JWT_BEARER_GRANT, 'password', ''), fc.string({ maxLength: 300 }))
        .map(([grant, assertion]): FuzzRequest => ({
          label: 'token',
          port: 'api',
          method: 'POST',
          path: '/services/oauth2/token',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: grant, assertion }).toString(),
        })),
    },
    {
      weight: 1,
      arbitrary: validOrMutated(channel).map((body): FuzzRequest => ({
        label: 'management channel',
        port: 'management',
        method: 'POST',
        path: '/api/channels',
        headers: { 'Content-Type': 'application/json' },
        body: toJsonText(body),
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            '/api/conversations/',
            '/api/webhooks/',
            '/api/attachments/',
            '/api/deliveries?endpointId=',
            '/api/deliveries?limit=',
            '/api/conversations?limit=',
          ),
          fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('%00', '1e23', '99999999999999999999', '-1')),
        )
        .map(([prefix, value]): FuzzRequest => ({
          label: 'management read',
          port: 'management',
          method: 'GET',
          path: `${prefix}${/%/.test(value) ? value : encodeURIComponent(value)}`,
          headers: {},
        })),
    },
  );
}

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

for (const store of storeKinds()) {
  describe(`fuzz: generated requests never get a 5xx and a refusal changes nothing (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      bridge = await startBridge({ store });
    });
    after(() => bridge.dispose());

    test(`seed ${SEED}`, { timeout: BUDGET_MS + 120_000 }, async () => {
      const token = await accessToken(bridge);
      const opened = await send(bridge, {
        label: 'setup',
        port: 'api',
        method: 'POST',
        path: '/api/v1/interactions',
        ...(() => {
          const part = multipartField('json', JSON.stringify(textMessage('fuzz setup')), 'application/json');
          return { headers: { ...guard(token), 'Content-Type': `multipart/form-data; boundary=${part.boundary}` }, body: part.body };
        })(),
      });
      assert.equal(opened.status, 202);
      const setup = JSON.parse(opened.text) as { conversationIdentifier: string; workItemIds: string[] };
      const ctx = {
        token,
        conversationIdentifier: setup.conversationIdentifier,
        workItemId: (setup.workItemIds[0] ?? '0Mw000000000000').slice(0, 15),
      };

      const counts = { runs: 0, accepted: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(requestArbitrary(ctx), async (request) => {
          const before = await stateViews(bridge);
          const res = await send(bridge, request);
          counts.runs++;
          assert.ok(res.status < 500, `${request.label}: ${res.status} ${res.text.slice(0, 300)}\n${describeRequest(request)}`);
          if (res.status >= 400) {
            counts.refused++;
            assert.equal(
              await stateViews(bridge),
              before,
              `${request.label}: refused with ${res.status} but the state changed\n${describeRequest(request)}`,
            );
          } else counts.accepted++;
        }),
        { seed: SEED, numRuns: 1_000_000, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS)], endOnFailure: true },
      );
      console.log(`# fuzz (${store}): ${counts.runs} requests, ${counts.accepted} accepted, ${counts.refused} refused`);
      assert.ok(counts.runs > 0);
      const health = await fetch(`${bridge.managementUrl}/api/health`);
      assert.equal(health.status, 200, 'the server is still up');
      assert.doesNotMatch(bridge.output(), /"level":(50|60)/, 'no error or fatal log line');
    });
  });
}

function guard(token: string): Record<string, string> {
  return {
    Authorization: `Bearer ${token}`,
    OrgId: LOCAL_ORG.orgId,
    AuthorizationContext: LOCAL_ORG.authorizationContext,
    RequestId: randomUUID(),
  };
}

async function send(bridge: BridgeProcess, request: FuzzRequest): Promise<{ status: number; text: string }> {
  const base = request.port === 'api' ? `http://127.0.0.1:${bridge.env.PORT}` : bridge.managementUrl;
  const headers = request.port === 'management' ? { authorization: `Bearer ${bridge.adminKey}`, ...request.headers } : request.headers;
  const res = await fetch(`${base}${request.path}`, { method: request.method, headers, body: request.body });
  return { status: res.status, text: await res.text() };
}

function describeRequest(r: FuzzRequest): string {
  return `${r.method} ${r.path} ${JSON.stringify(r.headers)}\n${(r.body ?? '').slice(0, 500)}`;
}
