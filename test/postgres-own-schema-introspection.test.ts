import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Kysely, PostgresIntrospector, sql } from 'kysely';
import pg from 'pg';
import { openStore } from '../src/store/database.ts';
import { openTestStore } from './helpers/test-store.ts';

const base = process.env.BRIDGE_TEST_POSTGRES_URL;

// The store's introspection (asked by Kysely's Migrator) sees its own schema only (src/store/own-schema-introspection.ts).
describe('PostgreSQL introspection of the store’s own schema', { skip: !base && 'PostgreSQL not reachable' }, () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  let admin: pg.Client;
  const other = `byoc_other_${process.pid}`;
  before(async () => {
    store = await openTestStore('postgres');
    admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create schema ${other}; create table ${other}.idempotency_keys (id serial primary key, x text)`);
  });
  after(async () => {
    await admin.query(`drop schema if exists ${other} cascade`);
    await admin.end();
    await store.dispose();
  });

  test('lists the tables of its own schema, columns as Kysely’s own introspector describes them, and no other schema’s', async () => {
    const db = store.store.db as unknown as Kysely<unknown>;
    const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]!.schema;
    const own = await db.introspection.getTables();
    const stock = (await new PostgresIntrospector(db).getTables()).filter((t) => t.schema === schema);
    assert.ok(own.some((t) => t.name === 'idempotency_keys'));
    assert.ok(own.every((t) => t.schema === schema));
    const byName = (tables: typeof own) => [...tables].sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(byName(own), byName(stock));
    assert.ok(!own.some((t) => t.name === 'kysely_migration'));
    const internal = await db.introspection.getTables({ withInternalKyselyTables: true });
    assert.deepEqual(
      internal
        .map((t) => t.name)
        .filter((n) => n.startsWith('kysely_'))
        .sort(),
      ['kysely_migration', 'kysely_migration_lock'],
    );
  });

  test('a store migrates while another connection creates and drops schemas with serial columns', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-introspection-'));
    const churning = { on: true };
    let churned = 0;
    const churn = (async () => {
      while (churning.on) {
        const name = `${other}_${churned++}`;
        await admin.query(`create schema ${name}; create table ${name}.t (id serial primary key, a text)`);
        await admin.query(`drop schema ${name} cascade`);
      }
    })();
    const failures: string[] = [];
    try {
      // With Kysely's own introspector, about half of these starts failed ("schema … does not exist").
      for (let i = 0; i < 15; i++) {
        const schema = `${other}_migrating_${i}`;
        await admin.query(`create schema ${schema}`);
        const url = new URL(base!);
        url.searchParams.set('options', `-c search_path=${schema}`);
        try {
          const opened = await openStore({ databaseUrl: url.toString(), dataDir });
          await opened.close();
        } catch (err) {
          failures.push(String(err));
        } finally {
          await admin.query(`drop schema ${schema} cascade`);
        }
      }
    } finally {
      churning.on = false;
      await churn;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    assert.ok(churned > 15, `the other connection churned ${churned} schemas`);
    assert.deepEqual(failures, []);
  });
});
