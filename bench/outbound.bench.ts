// Outbound throughput and latency against real server processes (SQLite, synchronous=FULL): an org
// process (the local org) publishes; a bridge process in bridge mode subscribes to it with
// salesforce-pubsub-api-client, normalizes and stores each event, and POSTs it, signed, to a webhook
// receiver in the benchmark process. Beside it, in the same run, the bare client decoding the same events,
// and the floor of one POST per event: the bare client forwarding each event as it came (bare-forwarder.ts).
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { bridgeModeEnv, startBridge, type BridgeProcess } from '../test/helpers/bridge-process.ts';
import { connectPubSubClient, managementRequest, startConversation, TOPIC } from '../test/helpers/outbound.ts';
import { publishInteractions, percentile } from './outbound/measure.ts';
import { orderKept, startBenchReceiver, type Receipt } from './outbound/receiver.ts';
import { processCpuMs } from './process-cpu.ts';
import { profileArgs } from './cpu-profile.ts';
import { targetTable, type BenchTarget } from './targets.ts';

const EVENTS = Number(process.env.BENCH_OUTBOUND_EVENTS ?? 3000);
const LATENCY_SAMPLES = Number(process.env.BENCH_OUTBOUND_LATENCY_SAMPLES ?? 200);
const CONVERSATIONS = 20;

export type Receiver = Awaited<ReturnType<typeof startBenchReceiver>>;

// From `node --cpu-prof` of the bridge process during the catch-up (BENCH_CPU_PROF=dir writes one).
const WHERE_THE_TIME_GOES = `**Where the time goes** (CPU profiles of the bridge during the catch-up, after the changes of
issue 13). Conversations are pipelined (\`WEBHOOK_PIPELINE_DEPTH\`, 32): a conversation's next event
goes out as soon as the previous one is answered 2xx and outcomes are committed behind, in groups, so
the 1-conversation row commits about once per 32 events instead of once per event; a crash may re-send
up to 32 events per conversation (same webhook-id; docs/outbound.md). Commits of outcomes and of
received batches go through the store's group commit, whose fsync waits off the event loop, where it
used to block the loop for about a quarter of the time. What is left is spread out: the Pub/Sub client
decoding (about 15 %, most of it the client serializing every raw event for a debug log line, which the
bare client pays too), the webhook POST (undici's dispatch over kept-alive connections, about 15 %), SQLite
inserting each event and its delivery and updating each outcome with their indexes (about 15 %, with
the WAL pages each commit writes about 5 % more), reading a conversation's next deliveries with their
bodies (about 8 %); Kysely building queries, signing and normalizing are a few % each. Each catch-up
starts a fresh bridge process, so its CPU per event includes the JIT warming up.

Side by side (bench/outbound/side-by-side.ts: the same catch-up, 1500 events, this version and the one
before pipelining in alternating rounds, each with its own org process, on the 2-core machine with three
other helpers' work, load 11–17; medians of 4–5 rounds): 20 conversations 365 against 249 events/s,
with the same CPU per event (1,087 against 1,074 µs); 1 conversation 639 against 96 events/s, 1,101
against 2,348 µs CPU per event. The group commit alone (pipelining in both): 325 against 302 events/s,
921 against 1,014 µs. The bridge's own part in one warm process (bench/outbound/store-and-deliver.ts:
stored in batches of 100 and delivered, no Pub/Sub, 3000 events): 20 conversations 276–289 against
397–554 µs CPU per event (1,511–1,772 against 647–828 events/s); 1 conversation 373–469 against
1,111–1,176 µs (942–1,188 against 160–188 events/s).

Then the deliveries' indexes (migration 0011): recording an outcome no longer moves the row within two
indexes that held its status, it only leaves a partial index of the pending deliveries, and the unique
rule on (event, endpoint) is kept on the event's sequence, which grows at its end, instead of its random
id. SQLite's time per event for the delivery insert went from about 12 to 7 µs, for the outcome update
from 8 to 4 and for the commits from 20 to 16. store-and-deliver.ts, 20 conversations, 4 alternating
runs of 6 warm rounds against the version before, medians: 314 → 260 µs CPU per event (load 9–14),
264 → 245 (load 1.7), 206 → 200 (load 1.1–1.7); the whole catch-up (side-by-side.ts, 1500 events, 6
rounds, load 1–3, fresh processes): 714 → 690 µs with 20 conversations, 841 → 827 with one.

**What would lift it further.** Several events per webhook POST would spare most of the POST's share,
but changes the contract partners verify, and alone would not reach the target: not made. The Pub/Sub
client's per-event debug serialization (in the library, a JSON.stringify with a replacer over the raw
event, whose payload Buffer becomes an array of numbers, built whatever the log level; the bare client
pays it too). Measured and left out because they did not pay: statements prepared once instead of built
by Kysely for storing received batches (one prepared insert per event and per delivery on SQLite; 70–85
µs per event either way: the cost is SQLite's, not Kysely's; in the warm store-and-deliver profile
Kysely is 3 % against SQLite's 14 % of storing); keeping the bodies just stored in memory for the
deliveries that follow (95 % of a line's reads found them there, yet 232 → 256 µs per event); a larger
SQLite page cache (32 MB: 177 → 187 µs).`;

async function until(what: string, check: () => boolean, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`benchmark timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Events per second between the first and the last receipt of `count` new webhooks. */
function steadyRate(receipts: Receipt[]): number {
  return ((receipts.length - 1) / (receipts.at(-1)!.at - receipts[0]!.at)) * 1000;
}

/**
 * The pipeline's own rate: with the bridge stopped, `count` events are published to the org; the bridge
 * starts again, resumes after its checkpoint and works through them. Timed from the first webhook to
 * the last, so neither the org's publishing nor the bridge's start-up counts.
 */
export async function catchUp(bridge: BridgeProcess, org: BridgeProcess, receiver: Receiver, count: number, conversations: number) {
  await bridge.stop();
  const firstReplayId = await publishInteractions(org, count, conversations);
  const from = receiver.receipts.length;
  await bridge.start();
  await until('the first webhook', () => receiver.receipts.length > from);
  const [cpuFrom, countFrom] = [processCpuMs(bridge.pid()), receiver.receipts.length];
  await until(`${count} webhooks`, () => receiver.receipts.length >= from + count);
  const cpuPerEvent = ((processCpuMs(bridge.pid()) - cpuFrom) * 1000) / (receiver.receipts.length - countFrom);
  const receipts = receiver.receipts.slice(from);
  return {
    count,
    cpuPerEvent,
    rate: steadyRate(receipts),
    ordered: orderKept(receipts),
    distinct: new Set(receipts.map((r) => r.id)).size,
    firstReplayId,
  };
}

/** The bare client subscribing to the same events on the org: decode and count, nothing else. */
async function bareDecode(org: BridgeProcess, afterReplayId: number, count: number) {
  const client = await connectPubSubClient(org);
  const times: number[] = [];
  let cpuFrom = process.cpuUsage();
  await new Promise<void>((resolve) => {
    client.subscribeFromReplayId(
      TOPIC,
      (_i: unknown, type: string) => {
        if (type !== 'event') return;
        if (times.push(performance.now()) === 1) cpuFrom = process.cpuUsage();
        if (times.length === count) resolve();
      },
      null,
      afterReplayId,
    );
  });
  const cpu = process.cpuUsage(cpuFrom);
  client.close();
  return { rate: ((count - 1) / (times.at(-1)! - times[0]!)) * 1000, cpuPerEvent: (cpu.user + cpu.system) / (count - 1) };
}

/**
 * The floor of one POST per event (bench/outbound/bare-forwarder.ts, a process of its own): the bare client
 * decoding the same events and POSTing each as it came to a receiver of its own, nothing else done.
 */
async function bareForward(org: BridgeProcess, afterReplayId: number, count: number) {
  const receiver = await startBenchReceiver();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'outbound/bare-forwarder.ts'),
      JSON.stringify({
        loginUrl: org.baseUrl,
        privateKeyPem: org.privateKeyPem(),
        pubSubPort: org.pubSubPort,
        afterReplayId,
        count,
        receiverUrl: receiver.url,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`the bare forwarder exited with ${code}`)));
    });
    const { cpuPerEvent } = JSON.parse(line) as { cpuPerEvent: number };
    return {
      rate: steadyRate(receiver.receipts),
      cpuPerEvent,
      ordered: orderKept(receiver.receipts),
      distinct: new Set(receiver.receipts.map((r) => r.id)).size,
    };
  } finally {
    child.kill();
    await receiver.close();
  }
}

export default async function outboundBench() {
  const quiet = { LOG_LEVEL: 'warn' };
  const org = await startBridge({ env: quiet });
  const receiver = await startBenchReceiver();
  let bridge: BridgeProcess | undefined;
  try {
    bridge = await startBridge({ env: { ...quiet, ...bridgeModeEnv(org) }, nodeArgs: profileArgs() });
    const endpoint = (await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url })).body;
    receiver.useSecret(endpoint.secret);
    // Warm-up: the subscription is up and the schema fetched.
    await publishInteractions(org, 1, 1);
    await until('the first webhook', () => receiver.receipts.length >= 1);

    // 1. Catch-up over 20 conversations, then one strictly ordered conversation.
    const spread = await catchUp(bridge, org, receiver, EVENTS, CONVERSATIONS);
    const single = await catchUp(bridge, org, receiver, EVENTS / 2, 1);
    // 2. The bare client on the first run's events.
    const bare = await bareDecode(org, spread.firstReplayId - 1, EVENTS);
    const forwarded = await bareForward(org, spread.firstReplayId - 1, EVENTS);

    // 3. Live: the org publishes while the bridge runs; Publish → webhook, publishing included.
    const liveFrom = receiver.receipts.length;
    const liveStarted = performance.now();
    await publishInteractions(org, EVENTS / 2, CONVERSATIONS);
    await until('the live webhooks', () => receiver.receipts.length >= liveFrom + EVENTS / 2);
    const live = (EVENTS / 2 / (receiver.receipts.at(-1)!.at - liveStarted)) * 1000;
    const liveOrdered = orderKept(receiver.receipts.slice(liveFrom));

    // 4. An agent message through the org's management API until the bridge's webhook arrives, one at a time.
    const conversation = await startConversation(org, 'bench-latency-user');
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const before = receiver.receipts.length;
      const started = performance.now();
      await managementRequest(org, 'POST', `/api/conversations/${conversation}/messages`, { text: `latency ${i}` });
      await until('the latency webhook', () => receiver.receipts.length > before);
      latencies.push(receiver.receipts.at(-1)!.at - started);
    }
    const signatures = receiver.signatures();

    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const percent = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;
    const ratio = spread.rate / bare.rate;
    const complete = spread.distinct === spread.count && single.distinct === single.count;
    const targets: BenchTarget[] = [
      {
        name: 'Outbound: Publish → signed webhook (20 conversations, order per conversation kept)',
        value: `${fmt(spread.rate)} events/s`,
        baseline: `${fmt(bare.rate)} events/s bare client decode`,
        ratio,
        threshold: '>= 50 %',
        pass: ratio >= 0.5 && spread.ordered && complete && signatures.bad === 0,
      },
    ];
    const yes = (b: boolean) => (b ? 'yes' : '**NO**');
    const markdown = [
      `Node ${process.version}, ${os.cpus().length} cores shared with other work (load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ', ',
        )}), SQLite (WAL, synchronous=FULL) in both processes. An org process (local-org mode) publishes; a bridge process in bridge mode subscribes to it, stores and delivers; the webhook receiver and the bare client run in the benchmark process. Ratios compare figures from this one run.`,
      '',
      targetTable(targets),
      '',
      '| measure | events | result | CPU µs per event | order per conversation kept |',
      '| --- | ---: | ---: | ---: | --- |',
      `| catch-up: published while the bridge was stopped, first → last webhook, ${CONVERSATIONS} conversations | ${spread.count} | ${fmt(spread.rate)} events/s | ${fmt(spread.cpuPerEvent)} (bridge) | ${yes(spread.ordered)} |`,
      `| catch-up, 1 conversation (strictly in order, pipelined: outcomes committed behind, up to 32 ahead) | ${single.count} | ${fmt(single.rate)} events/s | ${fmt(single.cpuPerEvent)} (bridge) | ${yes(single.ordered)} |`,
      `| bare salesforce-pubsub-api-client decode of the same ${spread.count} events, first → last | ${spread.count} | ${fmt(bare.rate)} events/s | ${fmt(bare.cpuPerEvent)} (client) | — |`,
      `| bare client + one POST per event as it came (no normalizing, storing, signing or recording; its own process), first → last | ${forwarded.distinct} | ${fmt(forwarded.rate)} events/s | ${fmt(forwarded.cpuPerEvent)} (forwarder) | ${yes(forwarded.ordered)} |`,
      `| live: Publish (org) → signed webhook (bridge), publishing included, ${CONVERSATIONS} conversations | ${EVENTS / 2} | ${fmt(live)} events/s | — | ${yes(liveOrdered)} |`,
      `| agent message (org management API) → webhook received, p50 | ${latencies.length} | ${percentile(latencies, 50).toFixed(1)} ms | — | — |`,
      `| agent message (org management API) → webhook received, p99 | ${latencies.length} | ${percentile(latencies, 99).toFixed(1)} ms | — | — |`,
      '',
      `**The floor of one POST per event.** The bare forwarder (bench/outbound/bare-forwarder.ts) reaches ${percent(forwarded.rate / bare.rate)} ` +
        `of the bare client's decode rate; the bridge reaches ${percent(spread.rate / forwarded.rate)} of the forwarder. ` +
        (forwarded.rate / bare.rate < 0.5
          ? `Decoding and one kept-alive POST per event alone fall short of the 50 % target on this machine: a bridge that delivers each ` +
            `event in a webhook of its own cannot meet it here, whatever else it does or leaves out.`
          : `Decoding and one POST per event alone meet the 50 % target here, so the gap is the bridge's own work (normalizing, storing, signing, recording).`),
      '',
      `Every published event arrived (${spread.distinct}/${spread.count} and ${single.distinct}/${single.count} distinct webhook-ids); ${signatures.checked} signatures checked with standardwebhooks, ${signatures.bad} bad.`,
      '',
      WHERE_THE_TIME_GOES,
    ].join('\n');
    return { title: 'Outbound: Pub/Sub → normalized → webhook', markdown, targets };
  } finally {
    await receiver.close();
    await bridge?.dispose();
    await org.dispose();
  }
}
