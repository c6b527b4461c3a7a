import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Express } from 'express';
import pino from 'pino';
import { Readiness } from '../src/http/readiness.ts';
import { BridgeMetrics } from '../src/metrics/bridge-metrics.ts';
import { agentRoutes } from '../src/management/agent-routes.ts';
import { eventStreamRoutes } from '../src/management/event-stream-routes.ts';
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
      routers: [
        agentRoutes({ agentMessages: none, agentFiles: none, maxFileBytes: 1 }),
        webhookRoutes({ webhooks: none }),
        eventStreamRoutes({ received: none, stored: none }),
        outboundStatusRoutes({ db: none, latestPublishedReplayId: undefined, topicName: 'none', holdsSubscription: () => false }),
      ],
      readiness: new Readiness(),
    } satisfies ManagementAppDeps);
    const api = routesOf(app).filter((r) => / \/(api|metrics)\b/.test(r));
    assert.ok(api.length >= 20, `found ${api.length} routes`);
    assert.deepEqual([...api].sort(), [...documented(doc)].sort());
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
