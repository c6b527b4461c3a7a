// Versions of the outbound path side by side: this checkout and others (BASE=/path/to/a/copy of a version
// to compare with, with its node_modules; several comma-separated). Each side has its own org process,
// bridge and webhook receiver; rounds of the benchmark's catch-up (publish with the bridge stopped, start
// it, time first → last webhook) alternate between the sides (A B B A ...), so load from other work falls
// on all alike.
//
//   BASE=/tmp/base npx tsx bench/outbound/side-by-side.ts   # ROUNDS=6 EVENTS=1500 CONVERSATIONS=20
//
// Prints each run, then per version the median events/s and bridge CPU µs per event.
import path from 'node:path';
import os from 'node:os';
import { bridgeModeEnv, startBridge, type BridgeProcess } from '../../test/helpers/bridge-process.ts';
import { managementRequest } from '../../test/helpers/outbound.ts';
import { catchUp } from '../outbound.bench.ts';
import { publishInteractions } from './measure.ts';
import { startBenchReceiver } from './receiver.ts';
import { withBaseVersions } from '../side-by-side-versions.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const EVENTS = Number(process.env.EVENTS ?? 1500);
const CONVERSATIONS = (process.env.CONVERSATIONS ?? '20').split(',').map(Number);
/** PROFILE=dir: each bridge writes a CPU profile into dir/<side number> when it stops. */
const PROFILE = process.env.PROFILE;

interface Side {
  name: string;
  org: BridgeProcess;
  bridge: BridgeProcess;
  receiver: Awaited<ReturnType<typeof startBenchReceiver>>;
  runs: Map<number, { rate: number[]; cpu: number[] }>;
}

const versions = await withBaseVersions([['this checkout', startBridge]]);
const quiet = { LOG_LEVEL: 'warn' };
const sides: Side[] = [];
try {
  for (const [i, [name, start]] of versions.entries()) {
    const org = await startBridge({ env: quiet });
    const receiver = await startBenchReceiver();
    const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, String(i))}`] : [];
    const bridge = await start({ env: { ...quiet, ...bridgeModeEnv(org) }, nodeArgs });
    const endpoint = (await managementRequest(bridge, 'POST', '/api/webhooks', { url: receiver.url })).body;
    receiver.useSecret(endpoint.secret);
    await publishInteractions(org, 1, 1);
    while (receiver.receipts.length < 1) await new Promise((r) => setTimeout(r, 10));
    sides.push({ name, org, bridge, receiver, runs: new Map(CONVERSATIONS.map((c) => [c, { rate: [], cpu: [] }])) });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const conversations of CONVERSATIONS) {
      for (const side of round % 2 ? [...sides].reverse() : sides) {
        const r = await catchUp(side.bridge, side.org, side.receiver, EVENTS, conversations);
        const runs = side.runs.get(conversations)!;
        runs.rate.push(r.rate);
        runs.cpu.push(r.cpuPerEvent);
        console.log(
          `${side.name}, ${conversations} conversations: ${r.rate.toFixed(0)} events/s, ${r.cpuPerEvent.toFixed(0)} µs CPU per event, ordered ${r.ordered}, ${r.distinct}/${r.count} distinct (load ${os.loadavg()[0]!.toFixed(1)})`,
        );
      }
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const s of sides) {
    for (const [c, runs] of s.runs) {
      console.log(
        `\n${s.name}, ${c} conversations: median ${median(runs.rate).toFixed(0)} events/s, ${median(runs.cpu).toFixed(0)} µs CPU per event`,
      );
    }
  }
} finally {
  for (const s of sides) {
    await s.receiver.close();
    await s.bridge.dispose();
    await s.org.dispose();
  }
}
