// Inbound text messages in local-org mode on SQLite: this checkout and another version side by side
// (BASE=/path/to/a/copy: `git archive <commit> | tar -x -C dir` and a symlink to this checkout's
// node_modules), in turns (A B B A ...), as bench/bridge/side-by-side.ts does for bridge mode. On a shared
// machine rates move by tens of percent from one run to the next; CPU per message and medians of many
// short runs let a difference between versions show through.
//
//   BASE=/tmp/base npx tsx bench/inbound-side-by-side.ts     # ROUNDS=8 RUN_SECONDS=6 CONNECTIONS=50; RATE=n
//
// RATE: messages per second in all, below saturation, where the CPU per message varies less. PROFILE=1:
// each bridge runs under --cpu-prof, and where its main thread's busy time went is printed at the end.
//
// Per run: messages/s, p50 and p99 latency, the bridge's CPU µs per message (the whole process, and its
// main thread alone), its event loop's delay (p99 and max) and the wall time its COMMITs held the event
// loop (per message, and the longest), both from bench/event-loop-delay.mjs loaded into it, and the size
// of its SQLite WAL file and its RSS after the run; then per version the medians.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accessToken } from '../test/helpers/api-client.ts';
import { startBridge } from '../test/helpers/bridge-process.ts';
import { load, textRequest, type Target } from './inbound.bench.ts';
import { printBusyShares, withBaseVersions } from './side-by-side-versions.ts';
import { mainThreadCpuMs, processCpuMs } from './process-cpu.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
const SECONDS = Number(process.env.RUN_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const RATE = process.env.RATE ? Number(process.env.RATE) : undefined;
const PROFILE = process.env.PROFILE === '1';
const MB = 1024 * 1024;

interface Run {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  mainCpuUs: number;
  commitUs: number;
  commitP99: number;
  commitMax: number;
  loopP99: number;
  loopMax: number;
  walMb: number;
  rssMb: number;
}

const delayDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-loop-delay-'));
/** VARIANTS='{"name": {"ENV_VAR": "value"}, ...}': this checkout once per entry, with that environment added. */
const variants = Object.entries(JSON.parse(process.env.VARIANTS ?? '{"this checkout": {}}') as Record<string, Record<string, string>>);
const versions: [string, typeof startBridge, Record<string, string>][] = [
  ...variants.map(([name, env]): [string, typeof startBridge, Record<string, string>] => [name, startBridge, env]),
  ...(await withBaseVersions([])).map(([name, start]): [string, typeof startBridge, Record<string, string>] => [name, start, {}]),
];
interface Side {
  name: string;
  bridge: Awaited<ReturnType<typeof startBridge>>;
  target: Target;
  token: string;
  runs: Run[];
  profileDir: string;
  startedAt: number;
  warmedAt: number;
}
const sides: Side[] = [];

interface Delays {
  loop: { p99: number; max: number };
  commit: { count: number; totalMs: number; p99: number; max: number };
}

/** CPU time the process's main thread has used so far, in ms (its task of the same id). */

/** The event loop's delay and the COMMITs' wall time since the last call (the preload starts over on SIGUSR2). */
async function delays(pid: number): Promise<Delays | undefined> {
  const file = path.join(delayDir, `${pid}.json`);
  fs.rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 50 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Delays;
  } catch {
    return undefined;
  }
}

function describe(r: Run): string {
  return [
    `${r.rps.toFixed(0)} msg/s, p50 ${r.p50} ms, p99 ${r.p99} ms`,
    `CPU/msg ${r.cpuUs.toFixed(0)} µs (main thread ${r.mainCpuUs.toFixed(0)})`,
    `COMMIT ${r.commitUs.toFixed(0)} µs/msg (each: p99 ${r.commitP99}, longest ${r.commitMax} ms)`,
    `loop delay p99 ${r.loopP99} max ${r.loopMax} ms`,
    `WAL ${r.walMb.toFixed(1)} MB, RSS ${r.rssMb.toFixed(0)} MB`,
  ].join(', ');
}

try {
  for (const [name, start, env] of versions) {
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-side-by-side-'));
    const startedAt = Date.now();
    const bridge = await start({
      env: { LOG_LEVEL: 'warn', ELD_DIR: delayDir, ...env },
      nodeArgs: [
        '--import',
        path.join(import.meta.dirname, 'event-loop-delay.mjs'),
        ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ],
    });
    const target = { name, port: Number(bridge.env.PORT), pid: bridge.pid(), stop: () => bridge.stop() };
    sides.push({ name, bridge, target, token: await accessToken(bridge), runs: [], profileDir, startedAt, warmedAt: 0 });
  }
  for (const side of sides) {
    await load(side.target, textRequest(side.token), { connections: CONNECTIONS, duration: 3 });
    side.warmedAt = Date.now();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      const pid = side.bridge.pid();
      await delays(pid);
      const cpuBefore = processCpuMs(pid);
      const mainBefore = mainThreadCpuMs(pid);
      const r = await load(side.target, textRequest(side.token), { connections: CONNECTIONS, duration: SECONDS, overallRate: RATE });
      const perMessage = (ms: number) => (ms * 1000) / Math.max(1, r.ok);
      const cpuUs = perMessage(processCpuMs(pid) - cpuBefore);
      const mainCpuUs = perMessage(mainThreadCpuMs(pid) - mainBefore);
      const d = await delays(pid);
      const wal = path.join(side.bridge.dataDir, 'bridge.sqlite-wal');
      const walMb = fs.existsSync(wal) ? fs.statSync(wal).size / MB : 0;
      const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
      const run: Run = {
        rps: r.rps,
        p50: r.p50,
        p99: r.p99,
        cpuUs,
        mainCpuUs,
        commitUs: perMessage(d?.commit.totalMs ?? NaN),
        commitP99: d?.commit.p99 ?? NaN,
        commitMax: d?.commit.max ?? NaN,
        loopP99: d?.loop.p99 ?? NaN,
        loopMax: d?.loop.max ?? NaN,
        walMb,
        rssMb,
      };
      side.runs.push(run);
      console.log(`${side.name}: ${describe(run)}, ${r.failed} failed (load ${os.loadavg()[0]!.toFixed(1)})`);
    }
  }
  const median = (all: number[]) => {
    const a = all.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
    return a.length ? a[Math.floor(a.length / 2)]! : NaN;
  };
  for (const s of sides) {
    const medians = Object.fromEntries(
      Object.keys(s.runs[0]!).map((k) => [k, median(s.runs.map((r) => r[k as keyof Run]))]),
    ) as unknown as Run;
    console.log(`\n${s.name}, medians: ${describe(medians)}; largest WAL ${Math.max(...s.runs.map((r) => r.walMb)).toFixed(1)} MB`);
  }
  if (PROFILE) await printBusyShares(sides);
} finally {
  for (const s of sides) {
    await s.bridge.dispose();
    fs.rmSync(s.profileDir, { recursive: true, force: true });
  }
  fs.rmSync(delayDir, { recursive: true, force: true });
}
