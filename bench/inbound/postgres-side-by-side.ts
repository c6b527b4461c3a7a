// Two versions of the local org on PostgreSQL, side by side: text Message interactions into this checkout
// and another (BASE=/path/to/a/copy: `git archive <commit> | tar -x -C dir` and a symlink to this
// checkout's node_modules; several, comma-separated), in turns (A B B A ...), each run short, so that the load of a shared machine
// hits both alike. Besides the bridge process's CPU per message it counts the CPU of the PostgreSQL
// backends serving it (found by application_name), since both share the same cores.
//
//   BASE=/tmp/base npx tsx bench/inbound/postgres-side-by-side.ts   # ROUNDS=8 RUN_SECONDS=5 CONNECTIONS=50; RATE=n; PROFILE=1
//
// SQLITE=1 adds this checkout on SQLite as a further side, for what the store itself costs; STORE=sqlite
// runs every side on SQLite instead (to check that a change for PostgreSQL costs SQLite nothing).
//
// Prints each run, then per version the median messages/s, p99, and CPU µs per message (bridge, backends);
// with PROFILE=1 also where each bridge's busy time went (bench/cpu-profile.ts categories).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { accessToken, textMessage } from '../../test/helpers/api-client.ts';
import { LOCAL_ORG, startBridge, type BridgeProcess } from '../../test/helpers/bridge-process.ts';
import { printBusyShares, withBaseVersions } from '../side-by-side-versions.ts';
import { processCpuMs } from '../process-cpu.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
const SECONDS = Number(process.env.RUN_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const PROFILE = process.env.PROFILE === '1';
/** Messages per second in all (RATE=...), below saturation, where the CPU per message varies less. */
const RATE = process.env.RATE ? Number(process.env.RATE) : undefined;
const END_USERS = 100;
const url = (process.env.BRIDGE_TEST_POSTGRES_URL ||= 'postgres://postgres@127.0.0.1:5432/test');
const BOUNDARY = '----byoc-bench-boundary';

interface Side {
  name: string;
  appName: string;
  bridge: BridgeProcess;
  token: string;
  profileDir: string;
  startedAt: number;
  warmedAt: number;
  rps: number[];
  p99: number[];
  bridgeCpu: number[];
  backendCpu: number[];
}

const versions = await withBaseVersions([['this checkout', startBridge]]);
if (process.env.SQLITE === '1') versions.push(['this checkout on SQLite', (options) => startBridge({ ...options, store: 'sqlite' })]);
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const sides: Side[] = [];
try {
  for (const [i, [name, start]] of versions.entries()) {
    const appName = `byoc-side-by-side-${process.pid}-${i}`;
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-side-by-side-'));
    const startedAt = Date.now();
    const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const store = process.env.STORE === 'sqlite' ? 'sqlite' : 'postgres';
    const bridge = await start({ store, env: { LOG_LEVEL: 'warn', PGAPPNAME: appName }, nodeArgs });
    const token = await accessToken(bridge);
    sides.push({ name, appName, bridge, token, profileDir, startedAt, warmedAt: 0, rps: [], p99: [], bridgeCpu: [], backendCpu: [] });
  }
  for (const side of sides) {
    await run(side, 3);
    side.warmedAt = Date.now();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      const f = await run(side, SECONDS);
      side.rps.push(f.rps);
      side.p99.push(f.p99);
      side.bridgeCpu.push(f.bridgeCpu);
      side.backendCpu.push(f.backendCpu);
      console.log(
        `${side.name}: ${f.rps.toFixed(0)} msg/s, p50 ${f.p50} ms, p99 ${f.p99} ms, CPU µs/msg bridge ${f.bridgeCpu.toFixed(0)} + backends ${f.backendCpu.toFixed(0)}, ${f.failed} failed (load ${os.loadavg()[0]!.toFixed(1)})`,
      );
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const s of sides) {
    console.log(
      `\n${s.name}: median ${median(s.rps).toFixed(0)} msg/s, p99 ${median(s.p99)} ms, CPU µs/msg bridge ${median(s.bridgeCpu).toFixed(0)} + backends ${median(s.backendCpu).toFixed(0)}`,
    );
  }
  if (PROFILE) await printBusyShares(sides);
} finally {
  for (const s of sides) {
    await s.bridge.dispose();
    if (!process.env.KEEP_PROFILE) fs.rmSync(s.profileDir, { recursive: true, force: true });
    else console.log(`profile kept in ${s.profileDir}`);
  }
  await admin.end();
}

/** CPU ms so far of the backends serving one bridge (those alive now: the pool keeps them while loaded). */
async function backendCpuMs(appName: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [appName]);
  return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)]));
}

async function run(side: Side, seconds: number) {
  const bridgeBefore = processCpuMs(side.bridge.pid());
  const backendsBefore = await backendCpuMs(side.appName);
  const result = await autocannon({
    url: `http://127.0.0.1:${side.bridge.env.PORT}`,
    connections: CONNECTIONS,
    duration: seconds,
    ...(RATE ? { overallRate: RATE } : {}),
    timeout: 60,
    requests: [{ method: 'POST', path: '/api/v1/interactions', setupRequest: (req) => ({ ...req, ...textRequest(side.token) }) }],
  });
  const ok = result['2xx'];
  const backendsAfter = await backendCpuMs(side.appName);
  let backendMs = 0;
  for (const [pid, after] of backendsAfter) backendMs += after - (backendsBefore.get(pid) ?? 0);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    bridgeCpu: ((processCpuMs(side.bridge.pid()) - bridgeBefore) * 1000) / ok,
    backendCpu: (backendMs * 1000) / ok,
  };
}

function textRequest(token: string) {
  const json = textMessage('Hello from the benchmark', { from: `+1555${Math.floor(Math.random() * END_USERS)}` });
  const body = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="json"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(json)}\r\n--${BOUNDARY}--\r\n`,
  );
  return {
    headers: {
      Authorization: `Bearer ${token}`,
      OrgId: LOCAL_ORG.orgId,
      AuthorizationContext: LOCAL_ORG.authorizationContext,
      'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
      RequestId: randomUUID(),
    },
    body,
  };
}
