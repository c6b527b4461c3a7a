import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { afterEach } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { compiledMain } from './compiled-build.ts';

export type StoreKind = 'sqlite' | 'postgres';

const READY_WITHIN_MS = 90_000;

/** The store variants the suites run on: SQLite always, PostgreSQL when scripts/run-tests.mjs found it. */
export function storeKinds(): StoreKind[] {
  return process.env.BRIDGE_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export const LOCAL_ORG = {
  orgId: '00D5g000004ByocEAC',
  userId: '0055g00000Byoc1AAB',
  username: 'integration.user@byoc.local',
  consumerKey: '3MVG9BYOC.LocalOrg.ConnectedApp.Key',
  channel: '7a1f3c52-6d0e-4b8a-9f21-5c3e8d4b2a10',
  authorizationContext: 'Local_BYOC_Channel',
  endUser: '+15555550100',
};

export interface BridgeProcess {
  baseUrl: string;
  managementUrl: string;
  adminKey: string;
  dataDir: string;
  certsDir: string;
  env: Record<string, string>;
  /** The server process's id (changes on restart). */
  pid(): number;
  privateKeyPem(): string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  pubSubPort: number;
  /** Kills the process with SIGKILL (no shutdown at all) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts again after stop() or kill(), on the same ports, data and database. */
  start(): Promise<void>;
  /** Stops and starts again on the same ports, data and database. */
  restart(): Promise<void>;
  /** Stops and removes the temporary directories and database schema. */
  dispose(): Promise<void>;
  management(pathname: string): Promise<any>;
}

/**
 * A port nothing listens on, chosen below the kernel's ephemeral range (32768 and up here), where the
 * outgoing connections of every process on the machine take their local ports: a port from that range
 * can be taken by some client between this check and the server's bind.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/**
 * Starts `src/main.ts` as its own process, as `npm start` does, with its own ports, data and certs;
 * `compiled`: runs `dist/main.js` with plain node instead, as `npm run start:prod` does (built when stale).
 */
export async function startBridge(
  options: {
    store?: StoreKind;
    env?: Record<string, string>;
    tmpRoot?: string;
    compiled?: boolean;
    /** Extra node flags, e.g. `--cpu-prof` for a benchmark's profile (not allowed in NODE_OPTIONS). */
    nodeArgs?: string[];
  } = {},
): Promise<BridgeProcess> {
  const entry = [
    ...(options.nodeArgs ?? []),
    // The V8 setting `npm start` and `npm run start:prod` give the server (package.json's "//scripts").
    '--max-semi-space-size=32',
    ...(options.compiled ? [await compiledMain()] : ['--import', 'tsx', 'src/main.ts']),
  ];
  const root = fs.mkdtempSync(path.join(options.tmpRoot ?? os.tmpdir(), 'byoc-test-'));
  const dataDir = path.join(root, 'data');
  const certsDir = path.join(root, 'certs');
  const [port, managementPort, s3Port, pubSubPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  let schema: string | undefined;
  const env: Record<string, string> = {
    PORT: String(port),
    MANAGEMENT_PORT: String(managementPort),
    S3_PORT: String(s3Port),
    PUBSUB_PORT: String(pubSubPort),
    DATA_DIR: dataDir,
    CERTS_DIR: certsDir,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    // No load balancer watches these processes: a stop need not wait for one to notice the drain.
    SHUTDOWN_DELAY_SECONDS: '0',
    ...options.env,
  };
  if (options.store === 'postgres') {
    schema = `byoc_test_${randomBytes(6).toString('hex')}`;
    const base = process.env.BRIDGE_TEST_POSTGRES_URL!;
    await withPg(base, (c) => c.query(`create schema ${schema}`));
    const url = new URL(base);
    url.searchParams.set('options', `-c search_path=${schema}`);
    env.DATABASE_URL = url.toString();
  }

  let child: ChildProcess | undefined;
  let log = '';
  const launch = async () => {
    const proc = spawn(process.execPath, entry, {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
    // Generous: on a machine shared with other test runs a start has taken over 20 s.
    const deadline = Date.now() + READY_WITHIN_MS;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`bridge exited with ${proc.exitCode} before it was ready:\n${log}`);
      try {
        // Bounded: a probe that never gets an answer must not hold the start (and the suite) forever.
        const res = await fetch(`http://127.0.0.1:${env.MANAGEMENT_PORT}/api/ready`, { signal: AbortSignal.timeout(5000) });
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
    throw new Error(`bridge not ready within ${READY_WITHIN_MS / 1000} s:\n${log}`);
  };
  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  // Another process may still take a port between the check and the bind: then start again on new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3 || !/already in use/.test(String(err))) throw err;
      for (const name of ['PORT', 'MANAGEMENT_PORT', 'S3_PORT', 'PUBSUB_PORT'] as const) {
        if (!options.env?.[name]) env[name] = String(await freePort());
      }
      log = '';
    }
  }
  const adminKey = env.ADMIN_KEY ?? fs.readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
  const managementUrl = `http://127.0.0.1:${env.MANAGEMENT_PORT}`;
  return {
    baseUrl: `http://localhost:${env.PORT}`,
    managementUrl,
    adminKey,
    dataDir,
    certsDir,
    env,
    pid: () => child!.pid!,
    privateKeyPem: () => fs.readFileSync(path.join(env.CERTS_DIR ?? certsDir, 'server.key'), 'utf8'),
    output: () => log,
    // Read from env, not the first pick: a start retried after a port collision runs on new ports.
    get pubSubPort() {
      return Number(env.PUBSUB_PORT);
    },
    stop,
    kill: async () => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
    },
    start: launch,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      if (schema) await withPg(process.env.BRIDGE_TEST_POSTGRES_URL!, (c) => c.query(`drop schema ${schema} cascade`));
      fs.rmSync(root, { recursive: true, force: true });
    },
    management: async (pathname: string) => {
      const res = await fetch(`${managementUrl}${pathname}`, { headers: { authorization: `Bearer ${adminKey}` } });
      if (!res.ok) throw new Error(`management ${pathname}: ${res.status} ${await res.text()}`);
      return res.json();
    },
  };
}

async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs the server with the given environment until it exits on its own (for start-up failures). */
export async function runUntilExit(
  env: Record<string, string>,
  timeoutMs = READY_WITHIN_MS,
): Promise<{ code: number | null; output: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-fail-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(await freePort()),
      MANAGEMENT_PORT: String(await freePort()),
      S3_PORT: String(await freePort()),
      PUBSUB_PORT: String(await freePort()),
      DATA_DIR: path.join(root, 'data'),
      CERTS_DIR: path.join(root, 'certs'),
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  fs.rmSync(root, { recursive: true, force: true });
  return { code, output };
}

/** The SF_* settings that point a bridge at an org process, as a user would write them in .env. */
export function bridgeModeEnv(org: BridgeProcess, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SF_SCRT_INSTANCE_URL: org.baseUrl,
    SF_INSTANCE_URL: org.baseUrl,
    SF_ORG_ID: LOCAL_ORG.orgId,
    SF_CONSUMER_KEY: LOCAL_ORG.consumerKey,
    SF_PRIVATE_KEY: org.privateKeyPem().replace(/\n/g, '\\n'),
    SF_SUBJECT: LOCAL_ORG.username,
    SF_AUDIENCE: org.baseUrl,
    SF_AUTH_ENDPOINT: `${org.baseUrl}/services/oauth2/token`,
    SF_AUTHORIZATION_CONTEXT: LOCAL_ORG.authorizationContext,
    SF_PUB_SUB_ENDPOINT: `localhost:${org.env.PUBSUB_PORT}`,
    // The org process serves the Pub/Sub API with its self-signed dev certificate.
    SF_PUB_SUB_REJECT_UNAUTHORIZED: 'false',
    ...overrides,
  };
}

/**
 * Prints the tail of the bridge's own log after each failed test of the enclosing suite: a failure seen
 * only in CI must say what the server was doing, not just what the client saw.
 */
export function printLogOnFailure(bridge: () => BridgeProcess | undefined, lines = 80, skip?: RegExp): void {
  afterEach((t) => {
    const b = bridge();
    // `passed` is on Node 20's TestContext, though @types/node does not declare it yet.
    if ((t as { passed?: boolean }).passed !== false || !b) return;
    const kept = b
      .output()
      .trimEnd()
      .split('\n')
      .filter((line) => !skip?.test(line));
    const tail = kept.slice(-lines).join('\n');
    console.error(`--- last ${lines} lines of the bridge log after "${t.name}" failed ---\n${tail}\n--- end of bridge log ---`);
  });
}
