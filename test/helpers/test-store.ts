import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/database.ts';
import type { StoreKind } from './bridge-process.ts';

/** A migrated store opened in this process (SQLite in a temporary directory, or a PostgreSQL schema of its own). */
export async function openTestStore(kind: StoreKind): Promise<{ store: Store; databaseUrl?: string; dispose(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-store-'));
  let schema: string | undefined;
  let databaseUrl: string | undefined;
  if (kind === 'postgres') {
    schema = `byoc_test_${randomBytes(6).toString('hex')}`;
    const base = process.env.BRIDGE_TEST_POSTGRES_URL!;
    await adminQuery(base, `create schema ${schema}`);
    const url = new URL(base);
    url.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = url.toString();
  }
  const store = await openStore({ databaseUrl, dataDir });
  return {
    store,
    databaseUrl,
    async dispose() {
      await store.close();
      if (schema) await adminQuery(process.env.BRIDGE_TEST_POSTGRES_URL!, `drop schema ${schema} cascade`);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
