// Inbound: text Message interactions through the full path, and attachment uploads, each side by side with
// a bare Express + multer endpoint receiving the same multipart request. Load from autocannon at fixed
// concurrency on 127.0.0.1; every run is bounded. To compare two versions of the SQLite path in the same
// minutes, use bench/inbound-side-by-side.ts instead (bench/inbound/postgres-side-by-side.ts for PostgreSQL).
//
// BENCH_INBOUND_ONLY=sqlite,postgres,uploads (any of them, comma-separated) runs only those parts, for
// iterating on one; the bare endpoint always runs, for the ratios. Such a run's section holds only its parts.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { accessToken } from '../test/helpers/api-client.ts';
import { pngLike } from '../test/helpers/attachments.ts';
import pg from 'pg';
import { TOKEN_CACHE_MS } from '../src/auth/access-tokens.ts';
import { LOCAL_ORG, startBridge, type BridgeProcess } from '../test/helpers/bridge-process.ts';
import { mainThreadProfile, profileShares } from './cpu-profile.ts';
import type { BenchSection, BenchTarget } from './targets.ts';

const MB = 1024 * 1024;
const TEXT = { connections: 50, warmupSeconds: 3, seconds: 10 };
/** A shorter run of the bridge under `node --cpu-prof`, after the measured ones, for where the time goes. */
const PROFILE_SECONDS = 8;
const UPLOADS = [
  { label: '1 MB', size: 1 * MB, connections: 2, amount: 120 },
  { label: '25 MB', size: 25 * MB, connections: 4, amount: 24 },
];
const BOUNDARY = '----byoc-bench-boundary';
/**
 * End users the text messages come from, at random: after the warm-up nearly every message lands in an
 * existing conversation with an open session, as most of a real channel's traffic does. (A message that
 * opens a conversation also opens a session, raises its lifecycle event and routing event, and wakes the
 * outbound side: a costlier path, which dominated slow runs when they spread over 1,000 end users.)
 */
const END_USERS = 100;
const ONLY = process.env.BENCH_INBOUND_ONLY?.split(',').map((part) => part.trim());
const runs = (part: 'sqlite' | 'postgres' | 'uploads') => !ONLY || ONLY.includes(part);
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.BRIDGE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Target {
  name: string;
  port: number;
  pid: number;
  stop(): Promise<unknown>;
}

type LoadResult = Awaited<ReturnType<typeof load>>;

export default async function inbound(): Promise<BenchSection> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-bench-'));
  const bridge = await startBridge({ env: { LOG_LEVEL: 'warn' } });
  const started: Array<{ dispose(): Promise<unknown> }> = [];
  try {
    const token = await accessToken(bridge);
    const bridgeTarget: Target = {
      name: 'bridge, SQLite (durable)',
      port: Number(bridge.env.PORT),
      pid: bridge.pid(),
      stop: () => bridge.stop(),
    };
    const commitsPerSecond = durableCommitsPerSecond(work);

    const bareText = await startBaseline('none', work);
    started.push({ dispose: () => bareText.stop() });

    // The bare endpoint before and after the bridges: on a shared machine the load drifts, and the ratio is
    // taken against the mean of the two. Each other bridge runs only for its own measurement, so that no
    // idle one (pollers, subscriber) takes CPU from the one measured.
    const text: Array<{ name: string; r: LoadResult }> = [];
    const measure = async (target: Target, bearer: string, name = target.name) => {
      console.log(`text messages → ${name}`);
      await load(target, textRequest(bearer), { connections: TEXT.connections, duration: TEXT.warmupSeconds });
      const r = await load(target, textRequest(bearer), { connections: TEXT.connections, duration: TEXT.seconds });
      text.push({ name, r });
      return r;
    };
    const measureOwn = async (start: () => Promise<BridgeProcess>, name: string) => {
      const own = await start();
      try {
        return await measure({ name, port: Number(own.env.PORT), pid: own.pid(), stop: () => own.stop() }, await accessToken(own));
      } finally {
        await own.dispose();
      }
    };
    const bareBefore = await measure(bareText, token, `${bareText.name} (before)`);
    const sqlite = runs('sqlite') ? await measure(bridgeTarget, token) : undefined;
    // PostgreSQL beside SQLite: the bridge on its own schema of DATABASE_URL's database.
    const pgResult =
      runs('postgres') && (await postgresReachable(POSTGRES_URL))
        ? await measureOwn(() => startOnPostgres(POSTGRES_URL), 'bridge, PostgreSQL (durable)')
        : undefined;
    // The same bridge with its data on tmpfs, where fsync costs nothing: not durable, only there to show
    // how much of the full path's cost is waiting for the disk.
    const tmpfsResult =
      sqlite && fs.existsSync('/dev/shm')
        ? await measureOwn(() => startBridge({ env: { LOG_LEVEL: 'warn' }, tmpRoot: '/dev/shm' }), 'bridge, SQLite on tmpfs (not durable)')
        : undefined;
    const bareAfter = await measure(bareText, token, `${bareText.name} (after)`);
    await bareText.stop();
    // A reference, not a target's baseline: the bare endpoint served as the bridge serves its apps
    // (createHttpServer, requests born with the app's prototypes), so the ratios can be read against both.
    const prototypedBare = await startBaseline('none', work, 'prototyped');
    started.push({ dispose: () => prototypedBare.stop() });
    const prototypedRps = (await measure(prototypedBare, token, `${prototypedBare.name} (reference)`)).rps;
    await prototypedBare.stop();
    const bareRps = (bareBefore.rps + bareAfter.rps) / 2;
    const bareP99 = Math.max(bareBefore.p99, bareAfter.p99);

    const where = sqlite ? await profiledShares((nodeArgs) => startBridge({ env: { LOG_LEVEL: 'warn' }, nodeArgs })) : [];
    const wherePostgres = pgResult ? await profiledShares((nodeArgs) => startOnPostgres(POSTGRES_URL, nodeArgs)) : [];

    const textRows = text.map(({ name, r }) => `| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.ok} | ${r.failed} |`);
    const targets: BenchTarget[] = [];
    const inboundTargets = (store: string, r: LoadResult) => {
      const storeRatio = r.rps / bareRps;
      targets.push(
        {
          name: `Inbound text messages, durable, ${store}: throughput at ${TEXT.connections} connections`,
          value: `${fmt(r.rps)} msg/s`,
          baseline: `bare Express + multer ${fmt(bareRps)} msg/s`,
          ratio: storeRatio,
          threshold: '≥ 40 % of bare (aim 70 %); 2,000 msg/s on a quiet machine',
          pass: storeRatio >= 0.4 && r.failed === 0,
        },
        {
          name: `Inbound text messages, durable, ${store}: p99 latency at ${TEXT.connections} connections`,
          value: `${r.p99} ms`,
          baseline: `bare ${bareP99} ms`,
          ratio: null,
          threshold: '< 50 ms',
          pass: r.p99 < 50 && r.failed === 0,
        },
      );
    };
    if (sqlite) inboundTargets('SQLite', sqlite);
    if (pgResult) inboundTargets('PostgreSQL', pgResult);

    const uploadRows: string[] = [];
    if (runs('uploads')) {
      const bareDisk = await startBaseline('disk', path.join(work, 'uploads'));
      const uploads = new Map<string, { mbPerSecond: number; growthMb: number; ok: number }>();
      try {
        for (const upload of UPLOADS) {
          const file = pngLike(upload.size);
          for (const target of [bridgeTarget, bareDisk]) {
            console.log(`${upload.label} uploads → ${target.name}`);
            const rssBefore = memory(target.pid).rssKb;
            resetPeak(target.pid);
            const r = await load(target, uploadRequest(token, file), { connections: upload.connections, amount: upload.amount });
            const peak = memory(target.pid).peakKb;
            const mbPerSecond = (r.ok * upload.size) / MB / r.seconds;
            const growthMb = Math.max(0, peak - rssBefore) / 1024;
            uploads.set(`${upload.label} ${target.name}`, { mbPerSecond, growthMb, ok: r.ok });
            uploadRows.push(
              `| ${upload.label} | ${target.name} | ${upload.connections} | ${r.ok}/${upload.amount} | ${mbPerSecond.toFixed(1)} | ${r.p50} | ${(peak / 1024).toFixed(0)} | +${growthMb.toFixed(0)} | ${(growthMb / upload.connections).toFixed(1)} |`,
            );
          }
        }
      } finally {
        await bareDisk.stop();
      }
      const big = UPLOADS.at(-1)!;
      const bridgeBig = uploads.get(`${big.label} ${bridgeTarget.name}`)!;
      const bareBig = uploads.get(`${big.label} ${bareDisk.name}`)!;
      targets.push(
        {
          name: `Attachments, ${big.label} uploads at ${big.connections} connections: throughput`,
          value: `${bridgeBig.mbPerSecond.toFixed(1)} MB/s`,
          baseline: `bare multer to disk ${bareBig.mbPerSecond.toFixed(1)} MB/s`,
          ratio: bridgeBig.mbPerSecond / bareBig.mbPerSecond,
          threshold: '≥ 50 % of bare',
          pass: bridgeBig.mbPerSecond / bareBig.mbPerSecond >= 0.5 && bridgeBig.ok === big.amount,
        },
        {
          name: `Attachments, ${big.label} uploads: peak RSS growth per concurrent upload`,
          value: `${(bridgeBig.growthMb / big.connections).toFixed(1)} MB`,
          baseline: `bare ${(bareBig.growthMb / big.connections).toFixed(1)} MB`,
          ratio: null,
          threshold: '< 40 MB',
          pass: bridgeBig.growthMb / big.connections < 40,
        },
      );
    }

    const againstPrototyped = [
      sqlite && `SQLite ${((sqlite.rps / prototypedRps) * 100).toFixed(0)} %`,
      pgResult && `PostgreSQL ${((pgResult.rps / prototypedRps) * 100).toFixed(0)} %`,
    ]
      .filter(Boolean)
      .join(', ');
    const markdown = `
### Text Message interactions: ${TEXT.connections} connections, ${TEXT.seconds} s each after a ${TEXT.warmupSeconds} s warm-up

| endpoint | requests/s | p50 ms | p99 ms | 2xx | other |
| --- | ---: | ---: | ---: | ---: | ---: |
${textRows.join('\n')}

${[
  sqlite && `**SQLite (durable) / bare baseline: ${((sqlite.rps / bareRps) * 100).toFixed(0)} %**`,
  pgResult
    ? `**PostgreSQL (durable) / bare: ${((pgResult.rps / bareRps) * 100).toFixed(0)} %**`
    : runs('postgres') && '(PostgreSQL was not reachable: not measured)',
]
  .filter(Boolean)
  .join('; ')} of the bare endpoint's messages per second (the mean of its two runs, ${fmt(bareRps)}/s)${
      againstPrototyped ? `; against the prototyped bare endpoint (${fmt(prototypedRps)}/s): ${againstPrototyped}` : ''
    }.${
      sqlite && tmpfsResult
        ? ` With its data on tmpfs (fsync free, not durable) the same bridge did ${fmt(tmpfsResult.rps)}/s, so waiting for the disk costs the durable path ${Math.max(0, (1 - sqlite.rps / tmpfsResult.rps) * 100).toFixed(0)} % of its throughput.`
        : ''
    } A single-row durable commit on this disk took ${(1000 / commitsPerSecond).toFixed(2)} ms when probed alone at the start (${fmt(commitsPerSecond)}/s).

The full path is: bearer token (cached for ${TOKEN_CACHE_MS / 1000} s), header and AuthorizationContext checks,
the multipart parse (a body of one \`json\` field already all received is read directly, any other goes
through multer as it streams in, \`src/attachments/json-only-multipart.ts\`), staged validation (a plain
text message checked by hand, anything else by the zod-based path), and the idempotency record, conversation, messaging session
and entry written in one transaction. On SQLite (WAL, synchronous=FULL) the requests that arrive while a
transaction is open share it (group commit): each runs in its own savepoint and is answered only once the
shared commit has been fsync'd. That fsync of the WAL runs on the thread pool: the group's COMMIT itself
runs with synchronous=NORMAL, which plus that fsync is what FULL does, so the event loop goes on with the
next group meanwhile (\`src/store/group-commit.ts\`). On PostgreSQL a text message into a conversation whose
session is open (after the warm-up, nearly every one here) is stored with its idempotency record and answer by
one statement that commits by itself, shared with the messages of the requests that arrive with it (a group
commit of statements, \`src/local-org/message-at-once.ts\`); any other request has its own transaction. The
statements every message runs are built and compiled once (\`src/store/prepared-query.ts\`) and, on SQLite, run
straight on the connection rather than through Kysely's executor. Each request
has its own RequestId and message id, so none is an idempotent replay; the end users are ${END_USERS} numbers
picked at random, so after the warm-up the messages land in existing conversations. The bare endpoint is Express +
\`multer().none()\` answering 202 with nothing else. Both log at \`warn\` (no per-request log line).

**The yardstick.** The bridge serves its apps with \`createHttpServer\` (\`src/http/http-server.ts\`): requests
and responses are born with the Express app's prototypes, so Express's per-request \`Object.setPrototypeOf\`
changes nothing and V8 keeps its optimized code. The same trick halves the bare endpoint's own CPU per
request, so the ratios are also given against that prototyped bare endpoint (measured once, after the
others, as a reference); the issue's targets stay against the stock bare endpoint (\`app.listen\`).
${sqlite ? whereMarkdown(where, sqlite, tmpfsResult) : ''}${pgResult ? postgresWhereMarkdown(wherePostgres) : ''}${uploadRows.length > 0 ? uploadsMarkdown(uploadRows) : ''}`;
    return { title: 'Inbound: messages and attachments', markdown, targets };
  } finally {
    for (const s of started.reverse()) await s.dispose();
    await bridge.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function whereMarkdown(where: { category: string; share: number }[], sqlite: LoadResult, tmpfsResult: LoadResult | undefined | false) {
  return `
### Where the time goes (SQLite, durable)

The bridge again for ${PROFILE_SECONDS} s at ${TEXT.connections} connections under \`node --cpu-prof\` (after start-up), its
main thread's samples by what was running:

| share | category |
| ---: | --- |
${where.map((w) => `| ${(w.share * 100).toFixed(1)} % | ${w.category} |`).join('\n')}

No single part dominates: after group commit (one COMMIT per group, its fsync off the event loop), the
caches (no token or AuthorizationContext read) and the statements compiled once and run straight on the
connection, five statements per message remain on SQLite (savepoint, idempotency record with its
sibling, the entry inserted into its conversation with the channel checked and the open session read
back, the idempotency record with its answer, release), and the rest is the cost of an Express request with the bridge's middleware (security headers,
request log, metrics, guard), the multipart parse and validation, and garbage. SQLite's checkpoints
(the WAL copied into the database file, which is then fsync'd) run on a worker thread with a connection of
its own, every 100 ms (\`src/store/wal-checkpoints.ts\`); a COMMIT on the event loop checkpoints only when
the WAL reaches its bound of 10,000 pages, with little left to copy by then. The durable path ${diskShare(sqlite, tmpfsResult)} the same bridge on tmpfs, so the disk no longer bounds it; the CPU
per message does. On PostgreSQL such messages share round trips through the pool (10 connections): the
messages of requests that arrive in one turn of the event loop, or while two such statements are running,
go out together as one statement (\`src/store/statement-batches.ts\`), whose common table expressions unnest
them into rows, insert each entry into its conversation (the channel checked, the open session and the
absence of a record of its key required) and, for each row that went in, the idempotency record with its
answer, the conversation's identifier filled in by the database. It commits by itself, so one round trip
and one WAL flush serve the lot, and each 202 stands for that durable commit. Where it stores nothing for a
message (a new conversation, no open session, a replay, a refusal) that request takes the usual
transaction of five round trips: BEGIN, the record reserved by the statement that looks for it, the entry,
the record's answer, COMMIT. Two messages with the same idempotency key or entry id never share a
statement. Each statement runs as a named prepared statement of its connection
(\`src/store/postgres-client.ts\`), parsed and planned once. PostgreSQL's own processes share the same two cores.
`;
}

function postgresWhereMarkdown(where: { category: string; share: number }[]) {
  return `
### Where the time goes (PostgreSQL, durable)

A bridge on PostgreSQL again for ${PROFILE_SECONDS} s at ${TEXT.connections} connections under \`node --cpu-prof\` (after
start-up), its main thread's samples by what was running (PostgreSQL's backends run in processes of their own,
on the same two cores):

| share | category |
| ---: | --- |
${where.map((w) => `| ${(w.share * 100).toFixed(1)} % | ${w.category} |`).join('\n')}

The messages of the requests that arrive together share one statement and its commit (above), so the
statements' share of the bridge is small, and what remains is the HTTP request itself (Express and the
bridge's middleware, the multipart parse and validation), as on SQLite. The socket writes that send each
statement to PostgreSQL count under "other": on this virtual machine a system call costs much more than
the code around it, and the kernel wakes the backend within the write. Measured side by side before and
after the statements were shared (\`bench/inbound/postgres-side-by-side.ts\`, which also counts the CPU of
the backends serving the bridge): the bridge 191–248 µs of CPU per message instead of 376–445, the backends
123–181 µs instead of 453–653; a system-wide \`perf\` profile had put most of the backends' time in the
kernel, per statement (the socket, the WAL's fdatasync, memory returned and taken back, sleeping and
waking), which one statement for many messages pays once.
`;
}

function uploadsMarkdown(uploadRows: string[]) {
  return `
### Attachment uploads: AttachmentInteraction + one file, streamed as it arrives

| file | endpoint | connections | completed | MB/s | p50 ms | peak RSS MB | peak − RSS before, MB | per concurrent upload, MB |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${uploadRows.join('\n')}

The bridge streams each file into the embedded S3-compatible server's store (s3rver, in the same
process, files under DATA_DIR) while hashing it, checks its size and type, and records the entry; the
bare endpoint is Express + multer's disk storage writing the file to a temporary directory. Peak RSS is
the process's VmHWM, reset before each run; for the bridge it includes the in-process S3 server.

The embedded server runs in the bridge's process, so the bridge sends it no request: each file goes to a
staging file of the server's in writes of 1 MiB, and once the file has been checked (so that a refused
file never becomes an object) the bridge writes the metadata files a PutObject would leave (Content-Type,
x-amz-meta-* with the SHA-256, an ETag with no MD5), fsyncs the file, those and their directories, and
renames the staging file to the object's key (\`startLocalPut\` in
\`src/attachments/embedded-s3-store.ts\`). The bare endpoint does not fsync. With S3_ENDPOINT set, each
file is a PutObject streamed as it arrives plus a metadata-only copy to record the SHA-256.
`;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** How the durable run compares with the one on tmpfs, in words. */
function diskShare(durable: LoadResult, tmpfs: LoadResult | undefined | false): string {
  if (!tmpfs) return 'was not compared with';
  const loss = (1 - durable.rps / tmpfs.rps) * 100;
  return loss < 1 ? 'is as fast as' : `is within ${loss.toFixed(0)} % of`;
}

/** A fresh bridge under `node --cpu-prof`, loaded like the measured one: category shares of its main thread. */
async function profiledShares(start: (nodeArgs: string[]) => Promise<BridgeProcess>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-bench-profile-'));
  const spawned = Date.now();
  const profiled = await start(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    const bearer = await accessToken(profiled);
    const target: Target = { name: 'profiled', port: Number(profiled.env.PORT), pid: profiled.pid(), stop: () => profiled.stop() };
    console.log('text messages → bridge under --cpu-prof');
    await load(target, textRequest(bearer), { connections: TEXT.connections, duration: TEXT.warmupSeconds });
    const skipMs = Date.now() - spawned;
    await load(target, textRequest(bearer), { connections: TEXT.connections, duration: PROFILE_SECONDS });
    await profiled.stop();
    const file = mainThreadProfile(dir);
    return file ? profileShares(file, skipMs) : [];
  } finally {
    await profiled.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function startOnPostgres(url: string, nodeArgs: string[] = []): Promise<BridgeProcess> {
  // startBridge gives the bridge a schema of its own in this database, dropped again by dispose().
  process.env.BRIDGE_TEST_POSTGRES_URL = url;
  return startBridge({ store: 'postgres', env: { LOG_LEVEL: 'warn' }, nodeArgs });
}

function multipart(json: unknown, file?: Buffer): Buffer {
  const parts: Buffer[] = [
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="json"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(json)}\r\n`,
    ),
  ];
  if (file) {
    parts.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="photo.png"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(parts);
}

const headers = (token: string) => ({
  Authorization: `Bearer ${token}`,
  OrgId: LOCAL_ORG.orgId,
  AuthorizationContext: LOCAL_ORG.authorizationContext,
  'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
});

type RequestFactory = () => { headers: Record<string, string>; body: Buffer };

export function textRequest(token: string): RequestFactory {
  return () => {
    const id = randomUUID();
    const json = {
      to: LOCAL_ORG.channel,
      from: `+1555${Math.floor(Math.random() * END_USERS)}`,
      interactions: [
        {
          timestamp: Date.now(),
          interactionType: 'EntryInteraction',
          payload: {
            id,
            entryType: 'Message',
            abstractMessage: {
              messageType: 'StaticContentMessage',
              id,
              staticContent: { formatType: 'Text', text: 'Hello from the benchmark' },
            },
          },
        },
      ],
    };
    return { headers: { ...headers(token), RequestId: randomUUID() }, body: multipart(json) };
  };
}

export function uploadRequest(token: string, file: Buffer): RequestFactory {
  return () => {
    const json = {
      to: LOCAL_ORG.channel,
      from: LOCAL_ORG.endUser,
      interactions: [
        {
          timestamp: Date.now(),
          interactionType: 'AttachmentInteraction',
          id: randomUUID(),
          attachmentIndex: 0,
          contentLength: file.length,
        },
      ],
    };
    return { headers: { ...headers(token), RequestId: randomUUID() }, body: multipart(json, file) };
  };
}

export async function load(
  target: Target,
  next: RequestFactory,
  options: { connections: number; duration?: number; amount?: number; overallRate?: number },
) {
  const started = performance.now();
  let lastResponse = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(
      {
        url: `http://127.0.0.1:${target.port}`,
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.duration! }),
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        timeout: 60,
        requests: [{ method: 'POST', path: '/api/v1/interactions', setupRequest: (req) => ({ ...req, ...next() }) }],
      },
      (err: Error | null, res) => (err ? reject(err) : resolve(res)),
    );
    run.on('response', () => {
      lastResponse = performance.now();
    });
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    // From the start to the last response, for every target alike: autocannon's own duration of a run of
    // `amount` requests ends at its next 1 s sampling tick after the last response, up to a second late,
    // which for a run of a few seconds cut MB/s by up to a quarter, more for the faster endpoint.
    seconds: (lastResponse - started) / 1000,
  };
}

export async function startBaseline(mode: 'none' | 'disk', dir: string, serving: 'stock' | 'prototyped' = 'stock'): Promise<Target> {
  fs.mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    // The same V8 setting as the bridge (package.json's "//scripts"), so that the ratio compares the code.
    ['--max-semi-space-size=32', '--import', 'tsx', path.join(import.meta.dirname, 'baseline-server.ts'), mode, dir, serving],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`baseline server exited with ${code}`)));
  });
  const { port } = JSON.parse(firstLine) as { port: number };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    name: `${mode === 'disk' ? 'bare Express + multer (disk)' : 'bare Express + multer'}${serving === 'prototyped' ? ', prototyped' : ''}`,
    port,
    pid: child.pid!,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** One-row durable commits per second on the disk under `dir` (WAL, synchronous=FULL, as the bridge). */
function durableCommitsPerSecond(dir: string): number {
  const file = path.join(dir, 'commit-probe.sqlite');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('create table probe (id integer primary key, v text)');
    const insert = db.prepare('insert into probe (v) values (?)');
    const count = 1000;
    const started = performance.now();
    for (let i = 0; i < count; i++) insert.run('x'.repeat(300));
    return count / ((performance.now() - started) / 1000);
  } finally {
    db.close();
  }
}

export function memory(pid: number) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM') };
}

/** Sets the process's peak RSS (VmHWM) back to its current RSS. */
export function resetPeak(pid: number) {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}
