// Bridge mode's own cost: text Message interactions sent straight to an org stand-in that answers at
// once, and the same through a bridge process in bridge mode in front of it, in the same run, at the
// same fixed concurrency. The stand-in does no work, so the difference is what the bridge adds.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import { accessToken, multipartField } from '../test/helpers/api-client.ts';
import { freePort, LOCAL_ORG, startBridge, type BridgeProcess } from '../test/helpers/bridge-process.ts';
import { startOrgStandIn, startPassThroughProxy, type BenchProcess } from './bridge/start-stand-in.ts';
import { processCpuMs } from './process-cpu.ts';
import { profileArgs } from './cpu-profile.ts';
import { targetTable, type BenchTarget } from './targets.ts';

const CONNECTIONS = Number(process.env.BENCH_BRIDGE_CONNECTIONS ?? 50);
const DURATION_SECONDS = Number(process.env.BENCH_BRIDGE_SECONDS ?? 5);
const WARM_UP_SECONDS = 2;
/** Direct and through the bridge alternate this many times; each figure is the median run's. */
const ROUNDS = 3;

// From `node --cpu-prof` of the bridge process under this load (BENCH_CPU_PROF=dir writes one;
// bench/bridge/side-by-side.ts compares two versions, with PROFILE=1 their profiles).
const WHERE_THE_TIME_GOES = `**Where the time goes** (CPU profile of the bridge under this load, busy time only).
The stand-in spends some 30–40 µs of CPU per request; the bridge about 0.4–0.6 ms on a quiet machine (over a
millisecond when other work shares the cores), so on 2 cores shared with the load generator the 70 %
throughput target is out of reach for a process that checks, parses, records and forwards each request.
In a partial run on the shared machine (load 7 on 2 cores), after the changes below: Node's internals
and undici ~40 % (the socket writes to the partner and to the org, streams, events, hashing), Express
and the shared middleware ~26 % (router, security headers, request log, metrics, the guard), SQLite ~16 % (the
commit's fsync on the event loop ~10 %, the statements ~5 %, Kysely ~1.5 %), the bridge's own code ~7 %,
multer/busboy and zod ~6 %, GC ~6 %. Before them, in the same run: ~35 %, ~32 %, ~16 %, ~6 %, ~6 %, ~6 %.
These are shares: a part that got cheaper makes the others' grow.

**Changes for issue 13 in bridge mode, made after the full run of 2026-11-30 09:11** (partial runs on
the shared machine, to be confirmed by a full run on a quiet one; figures from \`bench/bridge/side-by-side.ts\`: the versions before and after against
one stand-in, taking turns, 10–12 rounds each, medians):
- On SQLite one idempotency write per forwarded request instead of two. The store is this process's
  alone, so a repeat of a request still in flight is caught in memory, and only the answer is written,
  in a commit shared with concurrent answers; PostgreSQL, shared by replicas, keeps the reservation.
  The idempotency step alone: ~90 µs of CPU per request instead of ~120.
- The call to the org goes through undici's connection pool instead of node:http's agent, with one
  timer per attempt instead of AbortControllers linked by listeners (~10 % of the call's CPU) and the
  org's base URL parsed once: ~150 µs of CPU per call instead of ~330 (node:http with the other
  changes: ~220), the three measured in turns in one process against the stand-in.
- The answer to the partner is written as JSON text instead of through Express's res.json, which hashed
  every body for an ETag and checked freshness: ~60 µs less per request (server and load generator).

Together, the whole bridge at 50 connections: 1,057 µs of CPU per request instead of 1,226 (−14 %),
467 requests/s instead of 397, p50 90 ms instead of 108 (load 6–7); in a later run, 1,052 µs instead of
1,156 (−9 %), 780 requests/s instead of 737, p99 167 ms instead of 340 (load 4–6); in a third, no
difference (1,165 µs against 1,133). At a fixed 250 requests/s: 1,307 µs instead of 1,460 (−10 %) in
one run, no difference in another (1,410 against 1,350). With the call to the org through undici too,
at 50 connections: 1,264 µs instead of 1,470 (−14 %), 678 requests/s instead of 590, p50 68 ms instead
of 80 (load 7, profiled); 1,319 µs instead of 1,442 (−9 %) in another run. The machine's other work
moves these figures by as much as the changes do; the parts measured alone (above) show them more
clearly.

**What bounds it.** Most of what is left is not the bridge-mode path: Express and its middleware, Node's
HTTP server and client (one socket write each way per request is ~10 % of the time alone), busboy and
zod, all shared with local-org mode. Writing one record instead of two saved statements, not commits:
reservations and answers queued in the same turn of the event loop already shared one commit, and a
commit per turn is what remains. Its fsync still blocks the event loop: the store's
GroupCommit can fsync on the thread pool instead, but for these one-statement writes its savepoints and
settings switches cost more CPU than the blocking saved (the idempotency step alone: ~125 µs per request
instead of ~90, and fewer per second), so bridge mode keeps plain grouped commits. Tried again without
savepoints (one transaction per group, committed with synchronous=NORMAL, the WAL fsync'd on the thread
pool before the answers): 367 against 336 µs of CPU per request, the same requests/s (bench/bridge/side-by-side.ts,
10 rounds, load 1.5); dropped. On this VM an fsync costs CPU wherever it runs, and the blocked event loop
costs little while the other cores are busy. The lookup of the
idempotency record (one indexed SELECT) stays: a replay must be known before the call.

On a quiet machine (load 0.8, 2026-12-01) the bridge spent 430–490 µs of CPU per request at 2,100–2,500
requests/s; its busy time: Node's internals 32 %, the COMMITs on the event loop 26 % (their fsync; some
130 commits a second, each writing ~70 WAL pages for ~18 answers, as separate pwrite calls), SQL statements
16 %, HTTP, Express and middleware 13 %, own code 6 %, GC 4 %, multipart and zod 3 %, Kysely 1 %.

**What would lift it further.** More bridge processes (replicas on PostgreSQL); a leaner HTTP stack
than Express and its middleware for /api/v1; and forwarding the partner's multipart bytes as
they came instead of parsing and rebuilding them, which needs the upload step (shared with local-org
mode) to keep them.`;

interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU µs per answered request of each process on the path, in path order. */
  cpuPerRequest: number[];
}

/** `rate`: requests per second in all, for a load below saturation (default: as fast as answered). */
export async function load(
  baseUrl: string,
  token: string,
  seconds: number,
  pids: number[],
  rate?: number,
  connections = CONNECTIONS,
): Promise<Figures> {
  const cpuBefore = pids.map(processCpuMs);
  const result = await autocannon({
    url: `${baseUrl.replace('localhost', '127.0.0.1')}/api/v1/interactions`,
    connections,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const id = randomUUID();
          const json = JSON.stringify({
            to: LOCAL_ORG.channel,
            from: `bench-${id.slice(0, 4)}`,
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
                    staticContent: { formatType: 'Text', text: 'benchmark message' },
                  },
                },
              },
            ],
          });
          const part = multipartField('json', json, 'application/json');
          return {
            ...req,
            headers: {
              authorization: `Bearer ${token}`,
              orgid: LOCAL_ORG.orgId,
              authorizationcontext: LOCAL_ORG.authorizationContext,
              requestid: randomUUID(),
              'content-type': `multipart/form-data; boundary=${part.boundary}`,
            },
            body: part.body,
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuPerRequest: pids.map((pid, i) => ((processCpuMs(pid) - cpuBefore[i]!) * 1000) / Math.max(1, result['2xx'])),
  };
}

const runsOf = (runs: Figures[]) => runs.map((f) => f.requestsPerSecond.toFixed(0)).join(', ');
const percentOf = (part: number, whole: number) => `${((part / whole) * 100).toFixed(0)} %`;

/** Each figure's median over the runs (the errors summed). */
function medianOf(runs: Figures[]): Figures {
  const median = (pick: (f: Figures) => number) => runs.map(pick).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return {
    requestsPerSecond: median((f) => f.requestsPerSecond),
    p50: median((f) => f.p50),
    p99: median((f) => f.p99),
    non2xx: runs.reduce((n, f) => n + f.non2xx, 0),
    errors: runs.reduce((n, f) => n + f.errors, 0),
    cpuPerRequest: runs[0]!.cpuPerRequest.map((_, i) => median((f) => f.cpuPerRequest[i]!)),
  };
}

/** Bridge mode pointed at the stand-in; its Pub/Sub subscriber has no server to reach and backs off quietly. */
export async function bridgeModeEnvFor(standInUrl: string): Promise<Record<string, string>> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    SF_SCRT_INSTANCE_URL: standInUrl,
    SF_INSTANCE_URL: standInUrl,
    SF_ORG_ID: LOCAL_ORG.orgId,
    SF_CONSUMER_KEY: LOCAL_ORG.consumerKey,
    SF_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n'),
    SF_SUBJECT: LOCAL_ORG.username,
    SF_AUDIENCE: standInUrl,
    SF_AUTH_ENDPOINT: `${standInUrl}/services/oauth2/token`,
    SF_AUTHORIZATION_CONTEXT: LOCAL_ORG.authorizationContext,
    SF_PUB_SUB_ENDPOINT: `127.0.0.1:${await freePort()}`,
    LOG_LEVEL: 'error',
  };
}

export default async function bridgeBenchmark() {
  const standIn = await startOrgStandIn();
  let proxy: BenchProcess | undefined;
  let bridge: BridgeProcess | undefined;
  try {
    proxy = await startPassThroughProxy(standIn.url);
    bridge = await startBridge({ env: await bridgeModeEnvFor(standIn.url), nodeArgs: profileArgs() });
    const token = await accessToken(bridge);
    const standInOnly = [standIn.pid];
    const viaProxy = [proxy.pid, standIn.pid];
    const both = [bridge.pid(), standIn.pid];
    await load(standIn.url, 'stand-in', WARM_UP_SECONDS, standInOnly);
    await load(proxy.url, 'stand-in', WARM_UP_SECONDS, viaProxy);
    await load(bridge.baseUrl, token, WARM_UP_SECONDS, both);
    // The machine is shared: alternating runs, each figure the median, keep a burst of other work from
    // landing on one side only.
    const directRuns: Figures[] = [];
    const proxyRuns: Figures[] = [];
    const bridgeRuns: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      directRuns.push(await load(standIn.url, 'stand-in', DURATION_SECONDS, standInOnly));
      proxyRuns.push(await load(proxy.url, 'stand-in', DURATION_SECONDS, viaProxy));
      bridgeRuns.push(await load(bridge.baseUrl, token, DURATION_SECONDS, both));
    }
    const direct = medianOf(directRuns);
    const bareHop = medianOf(proxyRuns);
    const viaBridge = medianOf(bridgeRuns);
    // Not a target: one request at a time, where latency is the path's own and not a queue's.
    const oneDirect = await load(standIn.url, 'stand-in', DURATION_SECONDS, standInOnly, undefined, 1);
    const oneBridge = await load(bridge.baseUrl, token, DURATION_SECONDS, both, undefined, 1);

    const addedP50 = viaBridge.p50 - direct.p50;
    const addedP99 = viaBridge.p99 - direct.p99;
    const throughput = viaBridge.requestsPerSecond / direct.requestsPerSecond;
    const clean = viaBridge.non2xx + viaBridge.errors === 0;
    const rps = (n: number) => `${Math.round(n).toLocaleString('en-US')} requests/s`;
    const targets: BenchTarget[] = [
      {
        name: `Bridge overhead: added p50 at ${CONNECTIONS} connections`,
        value: `+${addedP50.toFixed(1)} ms`,
        baseline: `${direct.p50} ms stand-in direct`,
        ratio: null,
        threshold: '< 2 ms',
        pass: addedP50 < 2 && clean,
      },
      {
        name: `Bridge overhead: added p99 at ${CONNECTIONS} connections`,
        value: `+${addedP99.toFixed(1)} ms`,
        baseline: `${direct.p99} ms stand-in direct`,
        ratio: null,
        threshold: '< 5 ms',
        pass: addedP99 < 5 && clean,
      },
      {
        name: 'Bridge overhead: throughput',
        value: rps(viaBridge.requestsPerSecond),
        baseline: `${rps(direct.requestsPerSecond)} stand-in direct`,
        ratio: throughput,
        threshold: '>= 70 %',
        pass: throughput >= 0.7 && clean,
      },
    ];
    const row = (name: string, f: Figures) =>
      `| ${name} | ${f.requestsPerSecond.toFixed(0)} | ${f.p50} | ${f.p99} | ${f.non2xx + f.errors} | ${f.cpuPerRequest.map((c) => c.toFixed(0)).join(' + ')} |`;
    const markdown = [
      `Text Message interactions (multipart), ${CONNECTIONS} connections, ${ROUNDS} alternating runs of ${DURATION_SECONDS} s per path after ${WARM_UP_SECONDS} s of warm-up; each figure is the median run's. ` +
        'The org is a stand-in process that reads each request and answers 202 at once, so the difference is the bridge’s own cost: token check, ' +
        'multipart parse and validation, the idempotency record (SQLite, WAL, synchronous=FULL), the call to the org and the answer. ' +
        `Load generator, stand-in and bridge share this machine’s ${os.cpus().length} cores with other work (load average at the end: ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(', ')}); the ratios compare figures from this one run.`,
      '',
      targetTable(targets),
      '',
      '| path | requests/s | p50 ms | p99 ms | non-2xx + errors | CPU µs per request (middle + stand-in) |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      row('partner → org stand-in directly (baseline)', direct),
      row('partner → bare pass-through proxy → org stand-in (reference: one Node HTTP hop, nothing else)', bareHop),
      row('partner → bridge → org stand-in', viaBridge),
      row('one connection, one request at a time: partner → org stand-in directly', oneDirect),
      row('one connection, one request at a time: partner → bridge → org stand-in', oneBridge),
      '',
      `**One request at a time.** With one connection (one run each, after the rounds above) nothing waits in a queue, and ` +
        `the bridge adds ${(oneBridge.p50 - oneDirect.p50).toFixed(1)} ms at p50 and ${(oneBridge.p99 - oneDirect.p99).toFixed(1)} ms at p99 ` +
        `(autocannon reports whole milliseconds). At ${CONNECTIONS} connections sent as fast as answered (the targets), every path ` +
        `runs saturated, and its latency is mostly the queue of ${CONNECTIONS} requests in flight, about ${CONNECTIONS} divided by ` +
        `the requests per second; a rate paced below saturation gives no cleaner figure: autocannon's rate lets ` +
        `each connection send its share of a second's requests as fast as answered at the start of each second, so a paced run ` +
        `is one burst per second (at 1,000 requests/s the bridge's p99 was 134 ms, the stand-in's 8 ms).`,
      '',
      `Each run, requests/s: directly ${runsOf(directRuns)}; through the bare proxy ${runsOf(proxyRuns)}; through the bridge ${runsOf(bridgeRuns)}.`,
      '',
      `**The floor of any process in the middle.** The bare proxy (bench/bridge/pass-through-proxy.ts: node:http in, undici out, ` +
        `no check, no parse, no record) reaches ${percentOf(bareHop.requestsPerSecond, direct.requestsPerSecond)} of the direct figure ` +
        `and adds ${(bareHop.p50 - direct.p50).toFixed(1)} ms at p50 and ${(bareHop.p99 - direct.p99).toFixed(1)} ms at p99; the bridge reaches ` +
        `${percentOf(viaBridge.requestsPerSecond, bareHop.requestsPerSecond)} of the bare proxy. ` +
        (bareHop.requestsPerSecond / direct.requestsPerSecond < 0.7
          ? `Load generator, stand-in and the middle share ${os.cpus().length} cores, and one more Node HTTP hop alone falls short of the ` +
            `70 % target here: no process that does more than forward bytes can meet it on this machine; the target describes a bridge ` +
            `with cores of its own.`
          : `One more Node HTTP hop alone meets the 70 % target here, so the gap is the bridge's own work.`),
      '',
      WHERE_THE_TIME_GOES,
    ].join('\n');
    return { title: 'Bridge mode: added latency and throughput', markdown, targets };
  } finally {
    await bridge?.dispose();
    await proxy?.stop();
    await standIn.stop();
  }
}
