import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Express, Router } from 'express';
import pino from 'pino';
import { Readiness } from '../src/http/readiness.ts';
import { BridgeMetrics } from '../src/metrics/bridge-metrics.ts';
import { agentRoutes } from '../src/management/agent-routes.ts';
import { agentRoutingRoutes } from '../src/management/agent-routing-routes.ts';
import { eventStreamRoutes } from '../src/management/event-stream-routes.ts';
import { integrationRoutes } from '../src/management/integration-routes.ts';
import { createManagementApp, type ManagementAppDeps } from '../src/management/management-app.ts';
import { outboundStatusRoutes } from '../src/management/outbound-status-routes.ts';
import { webhookRoutes } from '../src/management/webhook-routes.ts';
import { startBridge, type BridgeProcess } from './helpers/bridge-process.ts';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

/** Every `METHOD /path` an express app routes, found by walking its router and the routers mounted in it. */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>>;
};
const documented = (doc: OpenApi) =>
  Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));

describe('OpenAPI document of the management API', () => {
  let bridge: BridgeProcess;
  let doc: OpenApi;
  before(async () => {
    bridge = await startBridge();
    const res = await fetch(`${bridge.managementUrl}/api/openapi.json`);
    assert.equal(res.status, 200, 'served without the admin key');
    doc = (await res.json()) as OpenApi;
  });
  after(() => bridge.dispose());

  test('is OpenAPI 3.1 and its request schemas are the zod schemas the routes validate with', () => {
    assert.equal(doc.openapi, '3.1.0');
    const send = doc.paths['/api/conversations/{conversationIdentifier}/messages']!.post as {
      requestBody: { content: { 'application/json': { schema: { properties: Record<string, { maxLength?: number }> } } } };
    };
    assert.equal(send.requestBody.content['application/json'].schema.properties.text!.maxLength, 32_000);
    const list = doc.paths['/api/conversations']!.get!.parameters!.map((p) => `${p.in}:${p.name}`);
    assert.deepEqual(list, ['query:limit', 'query:channelAddressIdentifier', 'query:endUserClientIdentifier']);
  });

  test('every route of the management app is in the document, and every documented route is routed', () => {
    // The app's structure only: the handlers are never called, so the dependencies are left out.
    const none = {} as never;
    // Every route module of src/management, by file: those the app mounts itself, and the routers main.ts hands it.
    const mountedByApp = [
      'attachment-routes.ts',
      'channel-routes.ts',
      'connected-app-routes.ts',
      'conversation-routes.ts',
      'org-routes.ts',
    ];
    const handedIn: Record<string, Router> = {
      'agent-routes.ts': agentRoutes({ agentMessages: none, agentFiles: none, maxFileBytes: 1 }),
      'agent-routing-routes.ts': agentRoutingRoutes({ db: none, orgId: 'none', userId: 'none', routing: none, agentWork: none }),
      'webhook-routes.ts': webhookRoutes({ webhooks: none }),
      'event-stream-routes.ts': eventStreamRoutes({ received: none, stored: none }),
      'outbound-status-routes.ts': outboundStatusRoutes({
        db: none,
        latestPublishedReplayId: undefined,
        topicName: 'none',
        holdsSubscription: () => false,
      }),
      'integration-routes.ts': integrationRoutes({ integrations: none, calls: none, values: none, allowHttpLoopback: false }),
    };
    const modules = fs.readdirSync(path.resolve(import.meta.dirname, '../src/management')).filter((f) => f.endsWith('-routes.ts'));
    assert.deepEqual(modules.sort(), [...mountedByApp, ...Object.keys(handedIn)].sort(), 'a new route module must be added here');
    const app = createManagementApp({
      logger: pino({ level: 'silent' }),
      metrics: new BridgeMetrics(),
      adminKey: 'structure-only-admin-key',
      orgId: 'none',
      describe: () => ({}),
      db: none,
      tokens: none,
      conversations: none,
      routingViews: none,
      attachmentRecords: none,
      attachmentStorage: none,
      routers: Object.values(handedIn),
      readiness: new Readiness(),
    } satisfies ManagementAppDeps);
    const api = routesOf(app).filter((r) => / \/(api|metrics)\b/.test(r));
    assert.ok(api.length >= 20, `found ${api.length} routes`);
    assert.deepEqual([...api].sort(), [...documented(doc)].sort());
    for (const route of [
      'PUT /api/integrations/:id',
      'PATCH /api/agent-work/:workId',
      'GET /api/integration-calls',
      'POST /api/integration-calls/:id/retry',
    ]) {
      assert.ok(api.includes(route), `${route} is routed and documented`);
    }
  });

  test('PUT operations are documented with the body schema the route validates with', () => {
    const put = doc.paths['/api/integrations/{id}']!.put as {
      parameters: { name: string; in: string }[];
      requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown>; required: string[] } } } };
    };
    assert.deepEqual(
      put.parameters.map((p) => `${p.in}:${p.name}`),
      ['path:id'],
    );
    const schema = put.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required.sort(), ['name', 'url']);
    assert.ok(schema.properties.configuration && schema.properties.authentications, 'the integration input, configuration included');
    const calls = doc.paths['/api/integration-calls']!.get!.parameters!.map((p) => `${p.in}:${p.name}`);
    assert.deepEqual(calls, ['query:integrationId', 'query:conversationIdentifier', 'query:status', 'query:limit']);
  });

  test('every documented operation answers on the running server (none is the unknown-route 404)', async () => {
    for (const operation of documented(doc)) {
      const [method, template] = operation.split(' ') as [string, string];
      if (template === '/api/events') continue; // an endless stream; its route is checked above
      const res = await fetch(`${bridge.managementUrl}${template.replace(/:(\w+)/g, 'unknown-$1')}`, {
        method,
        headers: { authorization: `Bearer ${bridge.adminKey}`, 'content-type': 'application/json' },
        body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
      });
      const text = await res.text();
      assert.ok(!text.includes('There is no'), `${operation}: ${res.status} ${text}`);
      assert.ok(res.status < 500, `${operation}: ${res.status} ${text}`);
    }
  });
});
