import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { digestAuthorization, pickDigestChallenge, type DigestChallenge } from '../src/integrations/digest-auth.ts';
import { integrationInput, urlProblem } from '../src/integrations/integration-input.ts';
import { buildRequest, scrubSecrets } from '../src/integrations/integration-request.ts';
import { lifecycleStepOf } from '../src/integrations/lifecycle-from-outbound.ts';
import { resolveJson, resolveText, resolveUrl, type PlaceholderContext } from '../src/integrations/placeholders.ts';
import { valuesFromAnswer } from '../src/integrations/response-mapping.ts';
import { toEighteenCharId } from '../src/contract/salesforce-ids.ts';
import type { NormalizedEvent } from '../src/contract/outbound-event.ts';

const ctx: PlaceholderContext = {
  event: 'Queued',
  conversation: { id: 'conv-1', direction: 'Inbound' },
  contact: { id: '+1 555/0100' },
  channel: { id: 'chan-1' },
  queue: { id: null },
  routingAttributes: { Language: 'en_US', Tier: 'gold' },
  saved: { surveyId: 'S-1', count: 3 },
  authentications: { 'api-key': 'k-secret', 'basic:alice': 'p-secret' },
};

describe('placeholders', () => {
  const cases: [string, string][] = [
    ['{event}', 'Queued'],
    ['{conversation.id}/{conversation.direction}', 'conv-1/Inbound'],
    ['{contact.id}', '+1 555/0100'],
    ['{channel.id}|{queue.id}', 'chan-1|'],
    ['{routingAttributes.Language} {Tier}', 'en_US gold'],
    ['{saved.surveyId} {saved.count}', 'S-1 3'],
    ['{authentications.api-key}', 'k-secret'],
    ['{authentications.basic:alice}', 'p-secret'],
    ['{unknown} {event.id} {routingAttributes.Nope} {"json": 1}', '{unknown} {event.id} {routingAttributes.Nope} {"json": 1}'],
  ];
  for (const [template, expected] of cases) {
    test(`${template} → ${expected}`, () => assert.equal(resolveText(template, ctx, 'send'), expected));
  }
  test('masked resolution writes *** for secrets only', () => {
    assert.equal(resolveText('{authentications.api-key}:{event}', ctx, 'masked'), '***:Queued');
  });
  test('values in a URL are percent-encoded, so they cannot change its path or host', () => {
    assert.equal(resolveUrl('https://h.test/c/{contact.id}', ctx, 'send'), 'https://h.test/c/%2B1%20555%2F0100');
  });
  test('every string of the JSON is resolved, keys included; other values stay', () => {
    assert.deepEqual(resolveJson({ a: ['{event}', 1, true, null], '{Tier}': { b: '{channel.id}' } }, ctx, 'send'), {
      a: ['Queued', 1, true, null],
      gold: { b: 'chan-1' },
    });
  });
});

describe('integration input', () => {
  const base = { name: 'n', url: 'https://svc.test/{event}' };
  const refusals: [string, unknown][] = [
    ['name missing', { url: base.url }],
    ['event not a lifecycle event', { ...base, events: ['Closed'] }],
    ['event listed twice', { ...base, events: ['Ended', 'Ended'] }],
    ['direction', { ...base, direction: 'Sideways' }],
    ['queue id', { ...base, queueIds: ['005xx'] }],
    ['authentication id', { ...base, authentications: [{ id: 'basic:', secret: 's' }] }],
    [
      'authentication twice',
      {
        ...base,
        authentications: [
          { id: 'k', secret: 's' },
          { id: 'k', secret: 't' },
        ],
      },
    ],
    ['method', { ...base, configuration: { request: { method: 'TRACE' } } }],
    ['GET with a body', { ...base, configuration: { request: { method: 'GET', body: {} } } }],
    ['set target', { ...base, configuration: { response: { set: { 'queue.id': '$.q' } } } }],
    ['set path', { ...base, configuration: { response: { set: { 'agentData.x': 'customer.name' } } } }],
    ['save name', { ...base, configuration: { response: { save: { 'a.b': '$.x' } } } }],
  ];
  for (const [what, body] of refusals) {
    test(`refuses: ${what}`, () => assert.equal(integrationInput.safeParse(body).success, false));
  }
  test('defaults: both directions, no events (disabled), POST with nothing set', () => {
    const parsed = integrationInput.parse(base);
    assert.equal(parsed.direction, 'Both');
    assert.deepEqual(parsed.events, []);
    assert.equal(parsed.directConversations, false);
    assert.equal(parsed.configuration.request.method, 'POST');
    assert.deepEqual(parsed.configuration.response, { set: {}, save: {} });
  });

  const urls: [string, boolean, string | undefined][] = [
    ['https://svc.test/a/{event}', false, undefined],
    ['https://{channel.id}.svc.test/a', false, undefined],
    ['http://127.0.0.1:8080/a', false, 'must be https://'],
    ['http://127.0.0.1:8080/a', true, undefined],
    ['http://localhost/a', true, undefined],
    ['http://svc.test/a', true, 'must be https:// (http:// only to a loopback host)'],
    ['ftp://svc.test/a', false, 'must be https://'],
    ['https://u:p@svc.test/', false, 'must not carry credentials: use an authentication'],
    ['not a url', false, 'is not a URL'],
  ];
  for (const [url, allowHttp, problem] of urls) {
    test(`url ${url} (http to loopback ${allowHttp ? 'allowed' : 'not allowed'})`, () => assert.equal(urlProblem(url, allowHttp), problem));
  }
});

describe('request building', () => {
  test('secrets reach the request sent, never the one logged', () => {
    const { send, logged } = buildRequest(
      'https://svc.test/{event}',
      {
        method: 'POST',
        authentication: { type: 'basic' },
        headers: { 'X-Key': '{authentications.api-key}' },
        params: { k: '{authentications.api-key}', n: 2 },
        body: { secret: '{authentications.api-key}', lang: '{Language}' },
      },
      ctx,
    );
    assert.equal(send.url, 'https://svc.test/Queued?k=k-secret&n=2');
    assert.equal(send.headers['x-key'], 'k-secret');
    assert.equal(send.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(send.body!), { secret: 'k-secret', lang: 'en_US' });
    assert.deepEqual(send.credentials, { scheme: 'basic', username: 'alice', password: 'p-secret' });
    assert.equal(logged.url, 'https://svc.test/Queued?k=***&n=2');
    assert.equal(logged.headers['x-key'], '***');
    assert.equal(logged.headers.authorization, 'Basic ***');
    assert.deepEqual(logged.body, { secret: '***', lang: 'en_US' });
    for (const secret of ['k-secret', 'p-secret']) assert.ok(!JSON.stringify(logged).includes(secret));
  });
  test('a GET has no body; an authentication that is not defined is a request error', () => {
    const { send } = buildRequest('https://svc.test/', { method: 'GET', headers: {}, params: {} }, ctx);
    assert.equal(send.body, undefined);
    assert.throws(
      () => buildRequest('https://svc.test/', { method: 'GET', headers: {}, params: {}, authentication: { type: 'digest' } }, ctx),
      /no digest authentication/,
    );
  });
  test('scrubSecrets masks every occurrence', () => {
    assert.equal(scrubSecrets('a k-secret b k-secret', ['k-secret', '']), 'a *** b ***');
  });
});

describe('response mapping', () => {
  const answer = { customer: { tier: 'gold', score: 7, orders: [{ id: 'O-1' }, { id: 'O-2' }] }, queue: '00G5g00000ByQ02' };
  test('set writes routing attributes as text, agent data as found, the routing queue; save keeps values', () => {
    const values = valuesFromAnswer(
      answer,
      {
        set: {
          'routingAttributes.Tier': '$.customer.tier',
          'routingAttributes.Score': '$.customer.score',
          'agentData.Orders': '$.customer.orders[*].id',
          'routing.queueId': '$.queue',
          'agentData.None': '$.missing',
        },
        save: { tier: '$.customer.tier' },
      },
      'int-1',
    );
    assert.deepEqual(
      values.map((v) => [v.scope, v.name, v.value]),
      [
        ['routingAttribute', 'Tier', 'gold'],
        ['routingAttribute', 'Score', '7'],
        ['agentData', 'Orders', ['O-1', 'O-2']],
        ['routing', 'queueId', '00G5g00000ByQ02'],
        ['saved', 'tier', 'gold'],
      ],
    );
  });
  test('a filter expression (script evaluation is off) matches nothing instead of failing', () => {
    assert.deepEqual(valuesFromAnswer(answer, { set: { 'agentData.a': '$.customer.orders[?(@.id)]' }, save: {} }, 'i'), []);
  });
  test('an answer that is not JSON sets nothing', () => {
    assert.deepEqual(valuesFromAnswer(undefined, { set: { 'agentData.a': '$.a' }, save: { b: '$.b' } }, 'i'), []);
  });
});

describe('lifecycle steps of outbound events (bridge mode)', () => {
  const event = (e: Partial<NormalizedEvent>): NormalizedEvent => ({
    eventId: 'e1',
    eventType: 'Interaction',
    entryType: null,
    entryId: null,
    channelAddressIdentifier: 'chan',
    conversationIdentifier: 'conv',
    recipient: { subject: 'user', role: 'EndUser' },
    sender: { subject: '0055g00000ByA01', role: 'Agent' },
    senderDisplayName: null,
    payload: {},
    timestamps: { createdDate: 1, transcriptedTimestamp: null, clientTimestamp: null },
    replayId: 1,
    topicName: '/event/X__e',
    shape: 'spring24',
    ...e,
  });
  const routing = (routingType: string) =>
    lifecycleStepOf(event({ eventType: 'RoutingRequested', payload: { routingType, routingParameters: { queueId: '00G5g00000ByQ01' } } }));
  test('RoutingRequested: Initial and Conference are Queued, Transfer is Transferred; the queue id in 18 characters', () => {
    assert.equal(routing('Initial')?.event, 'Queued');
    assert.equal(routing('Conference')?.event, 'Queued');
    assert.equal(routing('Transfer')?.event, 'Transferred');
    assert.equal(routing('Initial')?.queueId, toEighteenCharId('00G5g00000ByQ01'));
  });
  const work: [string, string | undefined][] = [
    ['Assigned', 'Allocated'],
    ['Accepted', 'Accepted'],
    ['Declined', 'Rejected'],
    ['Cancelled', 'Rejected'],
    ['Transferred', 'Transferred'],
    ['Closed', 'Closed'],
    ['TransferError', undefined],
  ];
  for (const [workType, expected] of work) {
    test(`RoutingWorkResult ${workType} → ${expected ?? 'nothing'}`, () => {
      const step = lifecycleStepOf(event({ entryType: 'RoutingWorkResult', payload: { workType, workId: '0Bz' } }));
      assert.equal(step?.event, expected);
    });
  }
  test('other events raise nothing', () => {
    assert.equal(lifecycleStepOf(event({ entryType: 'Message', payload: { abstractMessage: {} } })), undefined);
    assert.equal(lifecycleStepOf(event({ eventType: 'RoutingRequested', conversationIdentifier: null, payload: {} })), undefined);
  });
});

describe('digest authentication (RFC 7616)', () => {
  // The example of RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256.
  const rfcChallenge = (algorithm: string) =>
    `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const rfcRequest = { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle of Life' };
  const rfcCnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const responseOf = (header: string) => /response="([0-9a-f]+)"/.exec(header)?.[1];

  test("the RFC's example responses, for MD5 and SHA-256", () => {
    for (const [algorithm, expected] of [
      ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
      ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ] as const) {
      const challenge = pickDigestChallenge(rfcChallenge(algorithm)) as DigestChallenge;
      assert.equal(challenge.algorithm, algorithm);
      assert.equal(challenge.qop, 'auth');
      const header = digestAuthorization(challenge, rfcRequest, rfcCnonce);
      assert.equal(responseOf(header), expected);
      assert.match(header, new RegExp(`algorithm=${algorithm}, `));
      assert.match(header, /opaque="FQhe\/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"/);
      assert.match(header, /nc=00000001, cnonce="f2\/wE4q74E6zIJEtWaHKaf5wv\/H5QzzpXusqGemxURZJ", qop=auth/);
    }
  });

  test('the strongest algorithm offered is answered, in one header or several', () => {
    const both = `${rfcChallenge('MD5')}, ${rfcChallenge('SHA-256')}`;
    assert.equal((pickDigestChallenge(both) as DigestChallenge).algorithm, 'SHA-256');
    assert.equal((pickDigestChallenge([rfcChallenge('SHA-256'), rfcChallenge('MD5')]) as DigestChallenge).algorithm, 'SHA-256');
    const sess = pickDigestChallenge(['Basic realm="x"', rfcChallenge('SHA-256-sess')]) as DigestChallenge;
    assert.deepEqual([sess.algorithm, sess.session], ['SHA-256', true]);
    assert.match(digestAuthorization(sess, rfcRequest, rfcCnonce), /algorithm=SHA-256-sess, /);
    assert.equal((pickDigestChallenge('Digest realm="r", nonce="n"') as DigestChallenge).algorithm, 'MD5', 'no algorithm means MD5');
  });

  test('userhash hashes the username; algorithms not known are reported, not guessed', () => {
    const hashed = pickDigestChallenge(`${rfcChallenge('SHA-256')}, userhash=true`) as DigestChallenge;
    const header = digestAuthorization(hashed, rfcRequest, rfcCnonce);
    assert.match(header, /userhash=true/);
    assert.doesNotMatch(header, /Mufasa/);
    assert.deepEqual(pickDigestChallenge('Digest realm="r", nonce="n", algorithm=SHA-999'), {
      unsupported: 'digest algorithm SHA-999 is not supported',
    });
    assert.deepEqual(pickDigestChallenge('Basic realm="r"'), { unsupported: 'no Digest challenge' });
  });
});
