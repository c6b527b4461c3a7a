import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureDevCertificate } from '../../src/auth/dev-certificate.ts';
import { freePort, startBridge, type BridgeProcess } from './bridge-process.ts';

/** An S3-compatible server in a process of its own: the "external S3" of the scale-out tests. */
export async function startS3Process() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-external-s3-'));
  const port = await freePort();
  const script = `import S3rver from 's3rver';
const server = new S3rver({ address: '127.0.0.1', port: ${port}, directory: ${JSON.stringify(directory)}, silent: true });
await server.run();
console.log('listening');
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * `count` compiled bridges started at the same moment on one fresh PostgreSQL schema (so their migrations
 * and seeding race, as replicas started together do) and one external S3, with one admin key and one
 * certificate as a deployment would give them through its secrets.
 */
export async function startReplicas(count: number, s3Endpoint: string, env: Record<string, string> = {}) {
  const schema = `byoc_replicas_${randomBytes(6).toString('hex')}`;
  const base = process.env.BRIDGE_TEST_POSTGRES_URL!;
  await withPg(base, (c) => c.query(`create schema ${schema}`));
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const certsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-replica-certs-'));
  await ensureDevCertificate(certsDir);
  const shared = {
    DATABASE_URL: url.toString(),
    CERTS_DIR: certsDir,
    ADMIN_KEY: randomBytes(24).toString('base64url'),
    S3_ENDPOINT: s3Endpoint,
    S3_BUCKET: 'replica-uploads',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    OUTBOUND_LOCK_POLL_MS: '200',
    LOG_LEVEL: 'info',
    ...env,
  };
  const replicas: BridgeProcess[] = await Promise.all(Array.from({ length: count }, () => startBridge({ compiled: true, env: shared })));
  return {
    replicas,
    schema,
    query: <T extends pg.QueryResultRow>(text: string) => withPg(url.toString(), (c) => c.query<T>(text)).then((r) => r.rows),
    dispose: async () => {
      await Promise.all(replicas.map((r) => r.dispose()));
      await withPg(base, (c) => c.query(`drop schema ${schema} cascade`));
      fs.rmSync(certsDir, { recursive: true, force: true });
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
