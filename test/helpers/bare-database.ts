import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import pg from 'pg';
import { OwnSchemaPostgresDialect } from '../../src/store/own-schema-introspection.ts';
import type { StoreKind } from './bridge-process.ts';

/** An empty database of the kind, with no migration run: SQLite in a temporary file, or a PostgreSQL schema of its own. */
export async function bareDatabase(kind: StoreKind): Promise<{ db: Kysely<any>; schema?: string; dispose(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-migrate-'));
    const database = new Database(path.join(dir, 'bridge.db'));
    database.pragma('foreign_keys = ON');
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
    return {
      db,
      async dispose() {
        await db.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const base = process.env.BRIDGE_TEST_POSTGRES_URL!;
  const schema = `byoc_migrate_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  // The store's dialect: Kysely's own introspection reads every schema, and fails when another test drops one meanwhile.
  const db = new Kysely<any>({
    dialect: new OwnSchemaPostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 2 }) }),
  });
  return {
    db,
    schema,
    async dispose() {
      await db.destroy();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}
