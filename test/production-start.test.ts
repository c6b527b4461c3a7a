import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { accessToken } from './helpers/api-client.ts';
import { attachmentRequest, pngLike } from './helpers/attachments.ts';
import { LOCAL_ORG, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { waitFor } from './helpers/outbound.ts';

const get = (url: string, agent?: http.Agent) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });

const refusesConnections = (port: string) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

describe('the compiled build (npm run build, npm run start:prod)', () => {
  let bridge: BridgeProcess;
  before(async () => {
    bridge = await startBridge({ compiled: true });
  });
  after(async () => {
    await bridge.dispose();
  });

  test('runs on plain node with no loader, and its output imports no .ts file', () => {
    const args = fs.readFileSync(`/proc/${bridge.pid()}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // No loader: node, the V8 setting `npm run start:prod` passes (package.json's "//scripts"), and the entry point.
    assert.deepEqual(args.slice(1, -1), ['--max-semi-space-size=32'], `node and the entry point only: ${args.join(' ')}`);
    assert.equal(path.relative(path.resolve(import.meta.dirname, '..'), args.at(-1)!), path.join('dist', 'main.js'));
    const scripts = fs.readdirSync(path.resolve(import.meta.dirname, '../dist'), { recursive: true, encoding: 'utf8' });
    const withTsImports = scripts.filter(
      (f) =>
        f.endsWith('.js') && /from '\.{1,2}\/[^']*\.ts'/.test(fs.readFileSync(path.resolve(import.meta.dirname, '../dist', f), 'utf8')),
    );
    assert.deepEqual(withTsImports, []);
  });

  test('is ready on both ports, and serves the Interaction API', async () => {
    const api = await get(`${bridge.baseUrl}/readyz`);
    assert.equal(api.status, 200);
    assert.deepEqual(JSON.parse(api.body), { status: 'ready' });
    assert.equal((await get(`${bridge.managementUrl}/api/ready`)).status, 200);
    assert.match(await accessToken(bridge), /\S{20,}/);
  });

  test('serves the console and /docs pages, which tsc does not emit (the build copies them)', async () => {
    for (const page of ['/', '/console.js', '/docs']) {
      const res = await get(`${bridge.managementUrl}${page}`);
      assert.equal(res.status, 200, `${page}: ${res.body}`);
    }
    assert.match((await get(`${bridge.managementUrl}/`)).body, /<html/i);
  });
});

describe('drain on SIGTERM', () => {
  let bridge: BridgeProcess;
  before(async () => {
    // Long enough to watch the unready phase from here before the listeners close.
    bridge = await startBridge({ compiled: true, env: { SHUTDOWN_DELAY_SECONDS: '5', SHUTDOWN_TIMEOUT_SECONDS: '60' } });
  });
  after(async () => {
    await bridge.dispose();
  });

  test('turns unready, closes keep-alive connections, lets an upload in flight finish, ends event streams, and exits 0', async () => {
    const token = await accessToken(bridge);
    // An SSE client of the management API: its stream never ends by itself, so the stop must end it.
    const stream = await fetch(`${bridge.managementUrl}/api/events`, { headers: { authorization: `Bearer ${bridge.adminKey}` } });
    assert.equal(stream.status, 200);
    const streamEnded = stream.text();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(`${bridge.baseUrl}/readyz`, agent);
    assert.equal(before.status, 200);
    assert.notEqual(before.headers.connection, 'close');

    // An upload whose body is half sent when the signal comes.
    const file = pngLike(256 * 1024);
    const boundary = `----drain-${randomUUID()}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="json"\r\nContent-Type: application/json\r\n\r\n` +
        `${JSON.stringify(attachmentRequest([{ contentLength: file.length }]))}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="late.png"\r\nContent-Type: image/png\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const upload = http.request(`${bridge.baseUrl}/api/v1/interactions`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        OrgId: LOCAL_ORG.orgId,
        AuthorizationContext: LOCAL_ORG.authorizationContext,
        RequestId: randomUUID(),
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(head.length + file.length + tail.length),
      },
    });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      upload.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      upload.on('error', reject);
    });
    upload.write(head);
    upload.write(file.subarray(0, file.length / 2));
    await new Promise((r) => upload.once('socket', (s: net.Socket) => (s.connecting ? s.once('connect', r) : r(undefined))));

    process.kill(bridge.pid(), 'SIGTERM');
    const unready = await waitFor('readiness to turn 503', async () => {
      const res = await get(`${bridge.baseUrl}/readyz`, agent);
      return res.status === 503 ? res : undefined;
    });
    assert.deepEqual(JSON.parse(unready.body), { status: 'draining' });
    assert.equal(unready.headers.connection, 'close', 'a keep-alive client is told to reconnect elsewhere');
    const management = await get(`${bridge.managementUrl}/api/ready`);
    assert.equal(management.status, 503);

    await waitFor('the listener to close', () => refusesConnections(String(bridge.env.PORT)), 30_000);
    upload.end(Buffer.concat([file.subarray(file.length / 2), tail]));
    const done = await answer;
    assert.equal(done.status, 202, done.body);

    assert.match(await streamEnded, /^: connected/);
    assert.equal(await bridge.stop(), 0, bridge.output());
    const log = bridge.output();
    assert.match(log, /draining: unready/);
    assert.match(log, /"msg":"stopped"/);
    agent.destroy();
  });
});

describe('the stop bound', () => {
  let bridge: BridgeProcess;
  before(async () => {
    bridge = await startBridge({ compiled: true, env: { SHUTDOWN_DELAY_SECONDS: '0', SHUTDOWN_TIMEOUT_SECONDS: '2' } });
  });
  after(async () => {
    await bridge.dispose();
  });

  test('a request that never finishes is cut at SHUTDOWN_TIMEOUT_SECONDS, and the exit code says so', async () => {
    const token = await accessToken(bridge);
    const stalled = http.request(`${bridge.baseUrl}/api/v1/interactions`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        OrgId: LOCAL_ORG.orgId,
        AuthorizationContext: LOCAL_ORG.authorizationContext,
        RequestId: randomUUID(),
        'Content-Type': 'multipart/form-data; boundary=stalled',
        'Content-Length': '1000000',
        // The server answers 100 Continue once it has parsed the headers: from then on the request is in
        // flight, so the stop waits for it instead of closing the connection as idle.
        Expect: '100-continue',
      },
    });
    const cut = new Promise<string>((resolve) => {
      stalled.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      stalled.on('response', (res) => resolve(`answered ${res.statusCode}`));
    });
    stalled.flushHeaders();
    await new Promise((r) => stalled.once('continue', r));
    stalled.write('--stalled\r\nContent-Disposition: form-data; name="json"\r\n\r\n{');
    assert.equal(await bridge.stop(), 1, bridge.output());
    assert.match(bridge.output(), /shutdown took longer than SHUTDOWN_TIMEOUT_SECONDS/);
    assert.equal(await cut, 'ECONNRESET');
  });
});
