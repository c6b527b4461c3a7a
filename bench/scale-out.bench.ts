// Scale-out: how the two ways of starting the bridge compare (time to ready, idle RSS), and text message
// throughput on PostgreSQL with one replica and with two. Kept short: a few seconds per figure.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { ensureDevCertificate } from '../src/auth/dev-certificate.ts';
import { accessToken, multipartField, textMessage } from '../test/helpers/api-client.ts';
import { freePort, LOCAL_ORG, type BridgeProcess } from '../test/helpers/bridge-process.ts';
import { compiledMain } from '../test/helpers/compiled-build.ts';
import { startReplicas, startS3Process } from '../test/helpers/replicas.ts';
import type { BenchSection } from './index.ts';

const STARTS = 3;
const IDLE_MS = 3000;
const LOAD = { connectionsPerReplica: 8, warmupSeconds: 2, seconds: 8 };
const root = path.resolve(import.meta.dirname, '..');

export default async function scaleOut(): Promise<BenchSection> {
  const load = os.loadavg().map((l) => l.toFixed(1));
  const startup = await startupFigures();
  const throughput = await throughputFigures();
  return {
    title: 'Scale-out: production start and replicas on PostgreSQL',
    markdown: `Load average when this section started: ${load.join(', ')} (1, 5, 15 min) on ${os.cpus().length} cores: other work shared the machine, so read these as a floor.\n\n${startup}\n\n${throughput}`,
  };
}

async function startupFigures(): Promise<string> {
  const certsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-bench-certs-'));
  await ensureDevCertificate(certsDir);
  const variants = [
    { name: '`npm start` (tsx src/main.ts)', args: [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'src/main.ts'] },
    { name: 'node --import tsx src/main.ts (the loader without the CLI)', args: ['--import', 'tsx', 'src/main.ts'] },
    { name: '`npm run start:prod` (node dist/main.js)', args: [await compiledMain()] },
  ];
  const rows: string[] = [];
  for (const variant of variants) {
    const runs: { readyMs: number; rssMb: number }[] = [];
    for (let i = 0; i < STARTS; i++) runs.push(await startOnce(variant.args, certsDir));
    const median = (f: (r: (typeof runs)[number]) => number) => runs.map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
    console.log(`${variant.name}: ${JSON.stringify(runs)}`);
    rows.push(`| ${variant.name} | ${median((r) => r.readyMs).toFixed(0)} | ${median((r) => r.rssMb).toFixed(0)} |`);
  }
  fs.rmSync(certsDir, { recursive: true, force: true });
  return `### Start-up (SQLite, local-org mode, fresh data directory; median of ${STARTS})

| start | spawn → ready, ms | idle RSS after ${IDLE_MS / 1000} s, MB (whole process tree) |
| --- | ---: | ---: |
${rows.join('\n')}

Ready means \`GET /api/ready\` answers 200: migrations applied, listeners open, outbound started. The
\`npm start\` figure includes the tsx CLI's own parent process, which is part of what \`npm start\` runs;
the second row is the same server with tsx's loader in one process.`;
}

async function startOnce(args: string[], certsDir: string): Promise<{ readyMs: number; rssMb: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-bench-start-'));
  const env = {
    PATH: process.env.PATH ?? '',
    PORT: String(await freePort()),
    MANAGEMENT_PORT: String(await freePort()),
    S3_PORT: String(await freePort()),
    PUBSUB_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    CERTS_DIR: certsDir,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    SHUTDOWN_DELAY_SECONDS: '0',
  };
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${env.MANAGEMENT_PORT}/api/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { readyMs, rssMb: treeRssKb(child.pid!) / 1024 };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function treeRssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const own = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  return own + children.reduce((sum, child) => sum + treeRssKb(child), 0);
}

async function throughputFigures(): Promise<string> {
  const url = process.env.BRIDGE_TEST_POSTGRES_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  try {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await client.connect();
    await client.end();
  } catch (err) {
    return `### Replicas on PostgreSQL\n\nNot measured: PostgreSQL at ${url} is unreachable (${(err as Error).message}).`;
  }
  process.env.BRIDGE_TEST_POSTGRES_URL = url;
  const s3 = await startS3Process();
  const cluster = await startReplicas(2, s3.endpoint, { LOG_LEVEL: 'warn' });
  try {
    const [first, second] = cluster.replicas as [BridgeProcess, BridgeProcess];
    const token = await accessToken(first);
    console.log('text messages → one replica');
    await load([first], token, LOAD.warmupSeconds);
    const one = await load([first], token, LOAD.seconds);
    console.log('text messages → two replicas');
    await load([first, second], token, LOAD.warmupSeconds);
    const two = await load([first, second], token, LOAD.seconds);
    const row = (name: string, r: typeof one) => `| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.failed} |`;
    return `### Replicas on PostgreSQL: text Message interactions, ${LOAD.connectionsPerReplica} connections per replica, ${LOAD.seconds} s after a ${LOAD.warmupSeconds} s warm-up

| replicas (compiled build) | messages/s | p50 ms | p99 ms | non-2xx + errors |
| --- | ---: | ---: | ---: | ---: |
${row('1', one)}
${row('2', two)}

Two replicas did **${((two.rps / one.rps) * 100).toFixed(0)} %** of one replica's throughput. Each replica gets its own load generator
(no proxy in the path). On this machine the replicas, PostgreSQL, the S3 server and the load generators
all share ${os.cpus().length} cores, so a second replica mostly competes with the first for CPU; see docs/deployment.md
for what to expect when each replica has a core of its own.`;
  } finally {
    await cluster.dispose();
    await s3.close();
  }
}

/** Runs one autocannon per replica at once and adds their results up. */
async function load(replicas: BridgeProcess[], token: string, seconds: number) {
  const results = await Promise.all(
    replicas.map((r) =>
      autocannon({
        url: `http://127.0.0.1:${r.env.PORT}`,
        connections: LOAD.connectionsPerReplica,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/interactions',
            setupRequest: (req) => {
              const part = multipartField(
                'json',
                JSON.stringify(textMessage('Hello from the benchmark', { from: `+1555${randomUUID().slice(0, 6)}` })),
                'application/json',
              );
              return {
                ...req,
                headers: {
                  Authorization: `Bearer ${token}`,
                  OrgId: LOCAL_ORG.orgId,
                  AuthorizationContext: LOCAL_ORG.authorizationContext,
                  RequestId: randomUUID(),
                  'Content-Type': `multipart/form-data; boundary=${part.boundary}`,
                },
                body: part.body,
              };
            },
          },
        ],
      }),
    ),
  );
  return {
    rps: results.reduce((n, r) => n + r.requests.average, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    failed: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
  };
}
