import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postInteraction, textMessage } from './helpers/api-client.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { managementRequest, sendAgentMessage, startConversation, startWebhookReceiver, waitFor } from './helpers/outbound.ts';
import { parsePrometheus, sampleValue } from './helpers/prometheus.ts';

for (const store of storeKinds()) {
  describe(`Prometheus metrics at /metrics (${store})`, () => {
    let bridge: BridgeProcess;
    before(async () => {
      bridge = await startBridge({ store, env: { WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.1' } });
    });
    after(() => bridge.dispose());

    const scrape = async () => {
      const res = await fetch(`${bridge.managementUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parsePrometheus(await res.text());
    };

    test('needs no admin key, and describes every metric it exports', async () => {
      const samples = await scrape();
      for (const name of [
        'byoc_http_requests_total',
        'byoc_http_request_duration_seconds',
        'byoc_webhook_deliveries',
        'byoc_outbound_parked_events',
        'byoc_outbound_subscriber_lag_events',
        'byoc_outbound_delivery_lag_seconds',
        'byoc_s3_errors_total',
        'byoc_store_errors_total',
        'byoc_webhook_dead_letters_total',
      ]) {
        assert.ok(samples.help.has(name), `HELP for ${name}`);
      }
      // Local mode has no upstream: its series exist only in bridge mode (test/bridge-mode.test.ts).
      assert.equal(sampleValue(samples, 'byoc_upstream_circuit_state', {}), undefined);
    });

    test('after real traffic: requests by operation and status, latency, deliveries by state, dead letters, lag', async () => {
      const before = await scrape();
      const accepted = (o: typeof before) =>
        sampleValue(o, 'byoc_http_requests_total', { server: 'interaction-api', operation: 'POST /api/v1/interactions', status: '202' }) ??
        0;

      const good = await startWebhookReceiver();
      const failing = await startWebhookReceiver(() => 500);
      try {
        assert.equal((await managementRequest(bridge, 'POST', '/api/webhooks', { url: good.url })).status, 201);
        assert.equal((await managementRequest(bridge, 'POST', '/api/webhooks', { url: failing.url })).status, 201);
        const conversation = await startConversation(bridge, 'metrics-user');
        const refused = await postInteraction(bridge, textMessage('no token'), { token: 'not-a-token' });
        assert.equal(refused.status, 401);
        assert.equal((await managementRequest(bridge, 'GET', '/api/conversations/nope')).status, 404);
        await sendAgentMessage(bridge, conversation, { text: 'counted' });
        await waitFor('the good endpoint to get the reply', () => good.delivered().length >= 1);
        await waitFor('the failing endpoint’s delivery to be dead-lettered', async () => {
          const dead = (await managementRequest(bridge, 'GET', '/api/deliveries?status=dead')).body.deliveries;
          return dead.length >= 1;
        });

        const after = await scrape();
        assert.equal(accepted(after) - accepted(before), 1);
        assert.ok(
          (sampleValue(after, 'byoc_http_requests_total', { server: 'interaction-api', operation: 'unmatched', status: '401' }) ?? 0) >= 1,
        );
        assert.equal(
          sampleValue(after, 'byoc_http_requests_total', {
            server: 'management',
            operation: 'GET /api/conversations/:conversationIdentifier',
            status: '404',
          }),
          1,
        );
        assert.equal(
          sampleValue(after, 'byoc_http_requests_total', {
            server: 'management',
            operation: 'POST /api/conversations/:conversationIdentifier/messages',
            status: '201',
          }),
          1,
        );
        const count = sampleValue(after, 'byoc_http_request_duration_seconds_count', {
          server: 'interaction-api',
          operation: 'POST /api/v1/interactions',
        });
        assert.ok(count !== undefined && count >= 1);
        const inf = sampleValue(after, 'byoc_http_request_duration_seconds_bucket', {
          server: 'interaction-api',
          operation: 'POST /api/v1/interactions',
          le: '+Inf',
        });
        assert.equal(inf, count);

        assert.ok((sampleValue(after, 'byoc_webhook_deliveries', { state: 'succeeded' }) ?? 0) >= 1);
        assert.ok((sampleValue(after, 'byoc_webhook_deliveries', { state: 'dead' }) ?? 0) >= 1);
        assert.ok((sampleValue(after, 'byoc_webhook_dead_letters_total', {}) ?? 0) >= 1);
        assert.ok((sampleValue(after, 'byoc_webhook_delivery_attempts_total', { outcome: 'retry' }) ?? 0) >= 1);
        assert.ok((sampleValue(after, 'byoc_webhook_delivery_attempts_total', { outcome: 'dead' }) ?? 0) >= 1);
        assert.equal(sampleValue(after, 'byoc_outbound_subscriber_lag_events', {}), 0);
        assert.equal(sampleValue(after, 'byoc_outbound_parked_events', {}), 0);
        assert.equal(sampleValue(after, 'byoc_store_errors_total', {}), 0);
        assert.equal(sampleValue(after, 'byoc_s3_errors_total', {}), undefined, 'no S3 request failed');
        // No identifier ever becomes a label: the conversation id appears nowhere on the page.
        assert.ok(!after.text.includes(conversation));
      } finally {
        await good.close();
        await failing.close();
      }
    });
  });
}
