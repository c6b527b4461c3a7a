import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebhookSender } from '../src/outbound/webhook-sender.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Which of the server's connections it came on (1 for the first). */
  connection: number;
}

/**
 * An endpoint that records each request and answers it with what `answer` says, or holds it while
 * `answer` returns undefined (until `release`).
 */
async function startEndpoint() {
  const seen: Seen[] = [];
  const held: http.ServerResponse[] = [];
  let connections = 0;
  let answer: (req: Seen) => { status: number; headers?: Record<string, string>; body?: string } | undefined = () => ({
    status: 204,
  });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const request: Seen = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body,
        connection: (req.socket as unknown as { n: number }).n,
      };
      seen.push(request);
      const a = answer(request);
      if (!a) held.push(res);
      else res.writeHead(a.status, a.headers).end(a.body);
    });
  });
  server.on('connection', (socket) => Object.assign(socket, { n: ++connections }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    answerWith: (f: typeof answer) => (answer = f),
    release: (status: number) => held.splice(0).forEach((res) => res.writeHead(status).end()),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const HEADERS = { 'content-type': 'application/json', 'webhook-id': 'evt-1' };

describe('WebhookSender against a real HTTP endpoint', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let sender: WebhookSender;
  before(async () => {
    endpoint = await startEndpoint();
    sender = new WebhookSender(4);
  });
  after(async () => {
    await sender.close();
    await endpoint.close();
  });

  test('a 2xx answer is a status code and no error; the POST carries the headers, path, query and body', async () => {
    endpoint.answerWith(() => ({ status: 204 }));
    const body = JSON.stringify({ type: 'Interaction', data: { text: 'héllo ✓' } });
    const result = await sender.post(`${endpoint.url}/hooks/byoc?tenant=7`, HEADERS, body, 5000);
    assert.deepEqual(result, { statusCode: 204, error: null });
    const seen = endpoint.seen.at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/hooks/byoc?tenant=7');
    assert.equal(seen.body, body);
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['webhook-id'], 'evt-1');
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(seen.headers.authorization, undefined);
  });

  test('4xx, 5xx and 3xx answers come back as their status codes, their bodies read, a redirect not followed', async () => {
    for (const status of [400, 404, 410, 500, 503]) {
      endpoint.answerWith(() => ({ status, body: 'x'.repeat(100_000) }));
      assert.deepEqual(await sender.post(`${endpoint.url}/hooks`, HEADERS, '{}', 5000), { statusCode: status, error: null });
    }
    const before = endpoint.seen.length;
    endpoint.answerWith((r) => (r.url === '/moved' ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 }));
    assert.deepEqual(await sender.post(`${endpoint.url}/moved`, HEADERS, '{}', 5000), { statusCode: 302, error: null });
    assert.deepEqual(
      endpoint.seen.slice(before).map((s) => s.url),
      ['/moved'],
    );
  });

  test('credentials in the URL go as Basic authorization, percent-decoded, and not in the path', async () => {
    endpoint.answerWith(() => ({ status: 200 }));
    const url = `http://us%40er:p%3As%20s@127.0.0.1:${endpoint.port}/hooks`;
    assert.deepEqual(await sender.post(url, HEADERS, '{}', 5000), { statusCode: 200, error: null });
    const seen = endpoint.seen.at(-1)!;
    assert.equal(seen.headers.authorization, `Basic ${Buffer.from('us@er:p:s s').toString('base64')}`);
    assert.equal(seen.url, '/hooks');
    // A user without a password, as node's http client sent it.
    await sender.post(`http://partner@127.0.0.1:${endpoint.port}/hooks`, HEADERS, '{}', 5000);
    assert.equal(endpoint.seen.at(-1)!.headers.authorization, `Basic ${Buffer.from('partner:').toString('base64')}`);
  });

  test('no answer within the timeout is an error, and the exchange is dropped', async () => {
    endpoint.answerWith(() => undefined);
    const result = await sender.post(`${endpoint.url}/slow`, HEADERS, '{}', 200);
    assert.deepEqual(result, { statusCode: null, error: 'no answer within 200 ms' });
    endpoint.release(200);
  });

  test('a POST that times out while waiting for a free connection is never sent', async () => {
    const one = new WebhookSender(1);
    try {
      endpoint.answerWith((r) => (r.url === '/hold' ? undefined : { status: 200 }));
      const first = one.post(`${endpoint.url}/hold`, HEADERS, '{}', 30_000);
      const queued = await one.post(`${endpoint.url}/queued`, HEADERS, '{}', 200);
      assert.deepEqual(queued, { statusCode: null, error: 'no answer within 200 ms' });
      endpoint.release(200);
      assert.deepEqual(await first, { statusCode: 200, error: null });
      assert.deepEqual(await one.post(`${endpoint.url}/after`, HEADERS, '{}', 5000), { statusCode: 200, error: null });
      const urls = endpoint.seen.map((s) => s.url);
      assert.ok(urls.includes('/hold') && urls.includes('/after'));
      assert.ok(!urls.includes('/queued'), 'the timed-out POST reached the endpoint');
    } finally {
      await one.close();
    }
  });

  test('an invalid or non-HTTP URL is an error result, not an exception', async () => {
    assert.deepEqual(await sender.post('not a url', HEADERS, '{}', 5000), { statusCode: null, error: 'Invalid URL' });
    const ftp = await sender.post('ftp://127.0.0.1/hooks', HEADERS, '{}', 5000);
    assert.equal(ftp.statusCode, null);
    assert.match(ftp.error, /Protocol "ftp:" not supported/);
    const malformed = await sender.post(`http://%E0%A4%A@127.0.0.1:${endpoint.port}/hooks`, HEADERS, '{}', 5000);
    assert.equal(malformed.statusCode, null);
    assert.match(malformed.error, /URI malformed/);
  });

  test('a refused connection is an error naming it', async () => {
    const closed = await startEndpoint();
    await closed.close();
    const result = await sender.post(`${closed.url}/hooks`, HEADERS, '{}', 5000);
    assert.equal(result.statusCode, null);
    assert.match(result.error, /ECONNREFUSED/);
  });

  test('consecutive POSTs to an endpoint reuse kept-alive connections', async () => {
    const fresh = await startEndpoint();
    const own = new WebhookSender(4);
    try {
      const post = async (i: number) =>
        assert.deepEqual(await own.post(`${fresh.url}/hooks`, HEADERS, `{"n":${i}}`, 5000), { statusCode: 204, error: null });
      // undici hands a connection on only after a turn of the event loop (a server may close it right after
      // its answer): one POST a turn goes over a single connection...
      for (let i = 0; i < 10; i++) {
        await post(i);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(fresh.connections(), 1);
      // ...and POSTs sent back to back alternate between two.
      for (let i = 10; i < 30; i++) await post(i);
      assert.equal(fresh.seen.length, 30);
      assert.equal(fresh.connections(), 2);
    } finally {
      await own.close();
      await fresh.close();
    }
  });
});
