// Two versions of the bridge in bridge mode, side by side against one org stand-in: this checkout and
// another (BASE=/path/to/a/copy of the version to compare with: `git archive <commit> | tar -x -C dir`
// and a symlink to this checkout's node_modules). On a machine
// shared with other work a rate moves by tens of percent from one run to the next; short runs taken in
// turns (A B B A ...) and many of them let the difference between two versions show through that.
//
//   BASE=/tmp/base npx tsx bench/bridge/side-by-side.ts      # ROUNDS=12 RUN_SECONDS=3; RATE=n; PROFILE=1 (KEEP_PROFILE=1 keeps the files)
//
// Prints each run, then per version the mean and median requests/s and CPU µs per request of the bridge
// process; with PROFILE=1 also where each bridge's busy time went (bench/cpu-profile.ts categories).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accessToken } from '../../test/helpers/api-client.ts';
import { startBridge, type BridgeProcess } from '../../test/helpers/bridge-process.ts';
import { bridgeModeEnvFor, load } from '../bridge.bench.ts';
import { printBusyShares, withBaseVersions } from '../side-by-side-versions.ts';
import { startOrgStandIn } from './start-stand-in.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 12);
const SECONDS = Number(process.env.RUN_SECONDS ?? 3);
const PROFILE = process.env.PROFILE === '1';
/**
 * Requests per second in all (RATE=...): below saturation the CPU per request varies less. autocannon sends
 * each connection's share of a second at the start of the second, so latency figures of a paced run are a burst's.
 */
const RATE = process.env.RATE ? Number(process.env.RATE) : undefined;

interface Side {
  name: string;
  bridge: BridgeProcess;
  token: string;
  profileDir: string;
  warmedAt: number;
  startedAt: number;
  rps: number[];
  cpu: number[];
  p50: number[];
  p99: number[];
}

const standIn = await startOrgStandIn();
const env = await bridgeModeEnvFor(standIn.url);
const versions = await withBaseVersions([['this checkout', startBridge]]);
const sides: Side[] = [];
try {
  for (const [name, start] of versions) {
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-side-by-side-'));
    const startedAt = Date.now();
    const bridge = await start({ env, nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
    sides.push({ name, bridge, token: await accessToken(bridge), profileDir, startedAt, warmedAt: 0, rps: [], cpu: [], p50: [], p99: [] });
  }
  for (const side of sides) {
    await load(side.bridge.baseUrl, side.token, 3, [side.bridge.pid()]);
    side.warmedAt = Date.now();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      const f = await load(side.bridge.baseUrl, side.token, SECONDS, [side.bridge.pid()], RATE);
      side.rps.push(f.requestsPerSecond);
      side.cpu.push(f.cpuPerRequest[0]!);
      side.p50.push(f.p50);
      side.p99.push(f.p99);
      console.log(
        `${side.name}: ${f.requestsPerSecond.toFixed(0)} requests/s, p50 ${f.p50} ms, p99 ${f.p99} ms, ${f.cpuPerRequest[0]!.toFixed(0)} µs CPU per request, ${f.non2xx + f.errors} failed (load ${os.loadavg()[0]!.toFixed(1)})`,
      );
    }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const s of sides) {
    console.log(
      `\n${s.name}: mean ${mean(s.rps).toFixed(0)} requests/s, ${mean(s.cpu).toFixed(0)} µs CPU per request; median ${median(s.rps).toFixed(0)} requests/s, ${median(s.cpu).toFixed(0)} µs, p50 ${median(s.p50)} ms, p99 ${median(s.p99)} ms`,
    );
  }
  if (PROFILE) await printBusyShares(sides);
} finally {
  for (const s of sides) {
    await s.bridge.dispose();
    if (!process.env.KEEP_PROFILE) fs.rmSync(s.profileDir, { recursive: true, force: true });
    else console.log(`${s.name}: profiles kept in ${s.profileDir}`);
  }
  await standIn.stop();
}
