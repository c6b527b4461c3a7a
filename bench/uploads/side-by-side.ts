// 25 MB attachment uploads into two versions of the bridge side by side, with the bare multer-to-disk
// endpoint between them: this checkout and another (BASE=/path/to/a/copy of the version to compare with:
// `git archive <commit> | tar -x -C dir` and a symlink to this checkout's node_modules). The runs take
// turns (A B bare, B A bare, ...), so the load of a shared machine falls on all of them alike.
//
//   BASE=/tmp/base npx tsx bench/uploads/side-by-side.ts     # ROUNDS=6 AMOUNT=16 CONNECTIONS=4 SIZE_MB=25; PROFILE=dir
//
// Prints each run, then per endpoint the median MB/s, its share of the bare endpoint's, the process CPU
// (user + system, all threads, from /proc) per upload, that of its main thread (the event loop, which the
// uploads share), and the peak RSS growth per concurrent upload.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accessToken } from '../../test/helpers/api-client.ts';
import { pngLike } from '../../test/helpers/attachments.ts';
import { startBridge } from '../../test/helpers/bridge-process.ts';
import { load, memory, resetPeak, startBaseline, uploadRequest, type Target } from '../inbound.bench.ts';
import { mainThreadCpuMs, processCpuMs } from '../process-cpu.ts';
import { withBaseVersions } from '../side-by-side-versions.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const AMOUNT = Number(process.env.AMOUNT ?? 16);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 4);
const SIZE = Number(process.env.SIZE_MB ?? 25) * 1024 * 1024;
const PROFILE = process.env.PROFILE;

interface Side {
  name: string;
  target: Target;
  token: string;
  mbPerSecond: number[];
  cpuMsPerUpload: number[];
  mainThreadMsPerUpload: number[];
  growthMbPerUpload: number[];
  failed: number;
}

function newSide(name: string, target: Target, token: string): Side {
  return { name, target, token, mbPerSecond: [], cpuMsPerUpload: [], mainThreadMsPerUpload: [], growthMbPerUpload: [], failed: 0 };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-upload-sbs-'));
const versions = await withBaseVersions([['this checkout', startBridge]]);
const sides: Side[] = [];
const disposers: Array<() => Promise<unknown>> = [];
try {
  for (const [name, start] of versions) {
    const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, sides.length ? 'base' : 'this')}`] : [];
    const bridge = await start({ env: { LOG_LEVEL: 'warn' }, nodeArgs });
    disposers.push(() => bridge.dispose());
    const target: Target = { name, port: Number(bridge.env.PORT), pid: bridge.pid(), stop: () => bridge.stop() };
    sides.push(newSide(name, target, await accessToken(bridge)));
  }
  const bare = await startBaseline('disk', path.join(work, 'uploads'));
  disposers.push(() => bare.stop());
  sides.push(newSide(bare.name, bare, sides[0]!.token));

  const file = pngLike(SIZE);
  const run = async (side: Side, amount: number, record: boolean) => {
    const pid = side.target.pid;
    const rssBefore = memory(pid).rssKb;
    resetPeak(pid);
    const cpuBefore = processCpuMs(pid);
    const mainBefore = mainThreadCpuMs(pid);
    const r = await load(side.target, uploadRequest(side.token, file), { connections: CONNECTIONS, amount });
    const cpu = (processCpuMs(pid) - cpuBefore) / Math.max(1, r.ok);
    const main = (mainThreadCpuMs(pid) - mainBefore) / Math.max(1, r.ok);
    const growth = Math.max(0, memory(pid).peakKb - rssBefore) / 1024 / CONNECTIONS;
    const mbPerSecond = (r.ok * SIZE) / (1024 * 1024) / r.seconds;
    if (!record) return;
    side.mbPerSecond.push(mbPerSecond);
    side.cpuMsPerUpload.push(cpu);
    side.mainThreadMsPerUpload.push(main);
    side.growthMbPerUpload.push(growth);
    side.failed += r.failed;
    console.log(
      `${side.name}: ${mbPerSecond.toFixed(1)} MB/s, ${cpu.toFixed(0)} ms CPU per upload (main thread ${main.toFixed(0)}), +${growth.toFixed(1)} MB RSS per upload, ${r.ok}/${amount} (load ${os.loadavg()[0]!.toFixed(1)})`,
    );
  };
  for (const side of sides) await run(side, CONNECTIONS, false);
  for (let round = 0; round < ROUNDS; round++) {
    const bridges = sides.slice(0, -1);
    for (const side of [...(round % 2 ? bridges.reverse() : bridges), sides.at(-1)!]) await run(side, AMOUNT, true);
    fs.rmSync(path.join(work, 'uploads'), { recursive: true, force: true });
    fs.mkdirSync(path.join(work, 'uploads'));
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const bareMedian = median(sides.at(-1)!.mbPerSecond);
  for (const s of sides) {
    const shares = s.mbPerSecond.map((v, i) => v / sides.at(-1)!.mbPerSecond[i]!);
    console.log(
      `\n${s.name}: median ${median(s.mbPerSecond).toFixed(1)} MB/s (bare ${bareMedian.toFixed(1)}), median share of bare in its round ${(median(shares) * 100).toFixed(0)} %, ${median(s.cpuMsPerUpload).toFixed(0)} ms CPU per upload (main thread ${median(s.mainThreadMsPerUpload).toFixed(0)}), +${median(s.growthMbPerUpload).toFixed(1)} MB RSS per concurrent upload, ${s.failed} failed`,
    );
  }
} finally {
  for (const dispose of disposers.reverse()) await dispose();
  fs.rmSync(work, { recursive: true, force: true });
}
