import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBridge } from './helpers/bridge-process.ts';
import { connectPubSubClient, TOPIC } from './helpers/outbound.ts';

// salesforce-pubsub-api-client's close() leaves its gRPC stream open without listeners; the tests' helper
// drops such a stream's error (test/helpers/outbound.ts). Without that, the server going away after the
// close raises the stream's error as an uncaught exception, failing whichever test runs then (seen in CI).
test('a closed Pub/Sub client outlives its server going away without an uncaught error', async () => {
  const bridge = await startBridge();
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const client = await connectPubSubClient(bridge);
    client.subscribe(TOPIC, () => {}, 10);
    // Time for the stream to be established before the client lets go of it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    client.close();
    // Its connection drops (the process killed), as when a test's bridge goes away after the test.
    await bridge.kill();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(uncaught.map(String), []);
  } finally {
    process.off('uncaughtException', onUncaught);
    await bridge.dispose();
  }
});
