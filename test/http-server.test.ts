import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { createHttpServer } from '../src/http/http-server.ts';

/** What each request saw of its own prototypes, by the X-Probe header it carried. */
type Seen = { bornWithAppPrototypes: boolean; inHandler: boolean; inSubApp?: boolean; afterSubApp?: boolean };

/** A small app using what the bridge's apps use: res.json, req.get, req.is, req.app, res.locals, a sub-app, an error handler. */
function smallApp(seen: Map<string, Seen>): Express {
  const app = express();
  app.set('name', 'parent');
  const sub = express();
  sub.set('name', 'sub');
  sub.get('/hello', (req, res) => {
    const probe = seen.get(req.get('x-probe') ?? '');
    if (probe) probe.inSubApp = Object.getPrototypeOf(req) === sub.request && Object.getPrototypeOf(res) === sub.response;
    res.json({ app: req.app.get('name'), locals: res.locals.who, baseUrl: req.baseUrl });
  });
  sub.get('/fall-through', (_req, _res, next) => next());
  sub.get('/fails', () => {
    throw Object.assign(new Error('sub-app refused'), { status: 409 });
  });

  app.use((req, res, next) => {
    res.locals.who = req.get('x-who') ?? 'nobody';
    next();
  });
  app.use(express.json());
  app.get('/json', (req, res) => {
    const probe = seen.get(req.get('x-probe') ?? '');
    if (probe) probe.inHandler = Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response;
    res.set('X-App', req.app.get('name')).json({ who: res.locals.who, sameRes: req.res === res && res.req === req });
  });
  app.post('/echo', (req, res) => {
    if (!req.is('application/json')) return void res.status(415).json({ error: 'json only', type: req.get('content-type') });
    res.status(201).json({ body: req.body as unknown, accepts: req.accepts(['json', 'text']) });
  });
  app.use('/sub', sub);
  app.get('/sub/fall-through', (req, res) => {
    const probe = seen.get(req.get('x-probe') ?? '');
    if (probe) probe.afterSubApp = Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response;
    res.type('text').send(`back in ${req.app.get('name')}`);
  });
  app.get('/redirect', (_req, res) => res.redirect(303, '/json'));
  app.get('/throws', () => {
    throw Object.assign(new Error('refused'), { status: 422 });
  });
  const errors: ErrorRequestHandler = (err: Error & { status?: number }, req, res, _next) => {
    res.status(err.status ?? 500).json({ message: err.message, app: req.app.get('name') });
  };
  app.use(errors);
  return app;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Status, the headers that do not vary from one answer to the next, and the body. */
async function answer(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(base + path, { redirect: 'manual', ...init });
  const headers = Object.fromEntries([...res.headers].filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name)));
  return { status: res.status, headers, body: await res.text() };
}

const requests: [string, RequestInit?][] = [
  ['/json', { headers: { 'x-who': 'alice' } }],
  ['/json', { method: 'HEAD' }],
  ['/echo', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/plain' }, body: '{"a":[1,2]}' }],
  ['/echo', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }],
  ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }],
  ['/sub/hello', { headers: { 'x-who': 'bob' } }],
  ['/sub/fall-through'],
  ['/sub/fails'],
  ['/throws'],
  ['/redirect'],
  ['/nowhere'],
];

describe('createHttpServer', () => {
  const seen = new Map<string, Seen>();
  const app = smallApp(seen);
  const prepared = createHttpServer(app, { keepAliveTimeout: 5_000 });
  const plain = http.createServer({ keepAliveTimeout: 5_000 }, app);
  let preparedUrl = '';
  let plainUrl = '';

  before(async () => {
    // Runs before the app: what the server built, before Express touched it.
    prepared.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      const probe = req.headers['x-probe'];
      if (typeof probe === 'string') {
        seen.set(probe, {
          bornWithAppPrototypes: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response,
          inHandler: false,
        });
      }
    });
    [preparedUrl, plainUrl] = await Promise.all([listen(prepared), listen(plain)]);
  });
  after(() => {
    prepared.close();
    plain.close();
    prepared.closeAllConnections();
    plain.closeAllConnections();
  });

  test('requests and responses are born with the app’s prototypes, and keep them through Express', async () => {
    const res = await fetch(`${preparedUrl}/json`, { headers: { 'x-probe': 'main' } });
    assert.equal(res.status, 200);
    assert.deepEqual(seen.get('main'), { bornWithAppPrototypes: true, inHandler: true });
    // Still what node:http builds: the app's prototypes lead to the http classes.
    assert.ok(app.request instanceof http.IncomingMessage);
    assert.ok(app.response instanceof http.ServerResponse);
  });

  test('a mounted sub-app gets its own prototypes for its part of the route, and the parent’s back after it', async () => {
    const hello = await fetch(`${preparedUrl}/sub/hello`, { headers: { 'x-probe': 'sub' } });
    assert.deepEqual(await hello.json(), { app: 'sub', locals: 'nobody', baseUrl: '/sub' });
    assert.equal(seen.get('sub')?.inSubApp, true);
    const back = await fetch(`${preparedUrl}/sub/fall-through`, { headers: { 'x-probe': 'back' } });
    assert.equal(await back.text(), 'back in parent');
    assert.equal(seen.get('back')?.afterSubApp, true);
  });

  test('Express’s request and response methods work: req.get, req.is, req.accepts, res.json, res.locals, req.app', async () => {
    const json = await answer(preparedUrl, '/json', { headers: { 'x-who': 'carol' } });
    assert.equal(json.status, 200);
    assert.equal(json.headers['x-app'], 'parent');
    assert.equal(json.headers['x-powered-by'], 'Express');
    assert.deepEqual(JSON.parse(json.body), { who: 'carol', sameRes: true });
    const echo = await answer(preparedUrl, '/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"b":true}',
    });
    assert.equal(echo.status, 201);
    assert.deepEqual(JSON.parse(echo.body), { body: { b: true }, accepts: 'json' });
    const refused = await answer(preparedUrl, '/sub/fails');
    assert.equal(refused.status, 409);
    assert.deepEqual(JSON.parse(refused.body), { message: 'sub-app refused', app: 'parent' });
  });

  test('every answer is the one http.createServer(app) gives to the same request', async () => {
    for (const [path, init] of requests) {
      const [mine, theirs] = await Promise.all([answer(preparedUrl, path, init), answer(plainUrl, path, init)]);
      assert.deepEqual(mine, theirs, `${init?.method ?? 'GET'} ${path}`);
    }
  });

  test('the server’s options reach node:http', () => {
    assert.equal(prepared.keepAliveTimeout, 5_000);
  });
});
