// Outbound throughput and latency, measured against the real server process (SQLite, synchronous=FULL):
// Publish (gRPC) → subscriber (salesforce-pubsub-api-client) → normalize + store → signed webhook POST,
// beside the bare client's decode rate on the same events in the same run.
import os from 'node:os';
import { startBridge } from '../test/helpers/bridge-process.ts';
import { connectPubSubClient, managementRequest, startConversation, startWebhookReceiver, TOPIC } from '../test/helpers/outbound.ts';
import { publishInteractions, timeToReceive, percentile } from './outbound/measure.ts';

const EVENTS = Number(process.env.BENCH_OUTBOUND_EVENTS ?? 2000);
const LATENCY_SAMPLES = Number(process.env.BENCH_OUTBOUND_LATENCY_SAMPLES ?? 200);

export default async function outboundBench() {
  const bridge = await startBridge({ env: { LOG_LEVEL: 'warn' } });
  const receiver = await startWebhookReceiver();
  try {
    await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url });

    // 1. Publish → webhook receipt, events spread over 20 conversations, then all in one (strictly ordered).
    const spread = await timeToReceive(receiver, EVENTS, () => publishInteractions(bridge, EVENTS, 20));
    const ordered = await timeToReceive(receiver, EVENTS / 2, () => publishInteractions(bridge, EVENTS / 2, 1));

    // 2. The bare client on the same events: subscribe from before them, decode, count, nothing else.
    const total = spread.count + ordered.count;
    const client = await connectPubSubClient(bridge);
    const bareStart = performance.now();
    const bareMs = await new Promise<number>((resolve) => {
      let seen = 0;
      client.subscribeFromReplayId(
        TOPIC,
        (_i: unknown, type: string) => {
          if (type === 'event' && ++seen === total) resolve(performance.now() - bareStart);
        },
        null,
        spread.firstReplayId - 1,
      );
    });
    client.close();

    // 3. An agent message through the management API until its webhook arrives, one at a time.
    const conversation = await startConversation(bridge, 'bench-latency-user');
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const before = receiver.received.length;
      const started = performance.now();
      await managementRequest(bridge, 'POST', `/api/conversations/${conversation}/messages`, { text: `latency ${i}` });
      while (receiver.received.length === before) await new Promise((r) => setImmediate(r));
      latencies.push(performance.now() - started);
    }

    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');
    const markdown = [
      `Node ${process.version}, ${os.cpus().length} cores, SQLite (WAL, synchronous=FULL), one bridge process, webhook receiver in the benchmark process.`,
      '',
      '| measure | events | result |',
      '| --- | ---: | ---: |',
      `| Publish → signed webhook received, 20 conversations | ${spread.count} | ${rate(spread.count, spread.ms)} events/s |`,
      `| Publish → signed webhook received, 1 conversation (strict order) | ${ordered.count} | ${rate(ordered.count, ordered.ms)} events/s |`,
      `| bare salesforce-pubsub-api-client decode, same events | ${total} | ${rate(total, bareMs)} events/s |`,
      `| agent message (management API) → webhook received, p50 | ${latencies.length} | ${percentile(latencies, 50).toFixed(1)} ms |`,
      `| agent message (management API) → webhook received, p99 | ${latencies.length} | ${percentile(latencies, 99).toFixed(1)} ms |`,
    ].join('\n');
    return { title: 'Outbound: Pub/Sub → normalized → webhook', markdown };
  } finally {
    await receiver.close();
    await bridge.dispose();
  }
}
