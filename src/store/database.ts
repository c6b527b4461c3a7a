import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, type LogEvent, Migrator, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { GroupCommit } from './group-commit.ts';
import { OwnSchemaPostgresDialect } from './own-schema-introspection.ts';
import { PreparingClient } from './postgres-client.ts';
import { runPreparedQueriesDirectly } from './prepared-query.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Tables } from './tables.ts';
import { inTransaction, type TransactionRunner } from './transactions.ts';
import { walCheckpoints } from './wal-checkpoints.ts';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Tables>;

export interface Store {
  db: Db;
  dialect: Dialect;
  /** Where the data lives, for the banner (a file path or a redacted URL). */
  location: string;
  /**
   * How a request's transaction is run: on SQLite a GroupCommit (concurrent requests share one commit and
   * its fsync, each answered only once it has committed); on PostgreSQL one transaction each, whose
   * commits wait off the event loop and which PostgreSQL flushes together itself.
   */
  runTransaction: TransactionRunner;
  close(): Promise<void>;
}

// int8 columns hold epoch milliseconds, well inside Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * Opens the store (PostgreSQL when a URL is given, otherwise SQLite under dataDir) and applies
 * pending migrations. SQLite runs in WAL mode with synchronous=FULL, so a committed transaction
 * has been fsync'd before the call that committed it returns; PostgreSQL commits are durable by default.
 */
export async function openStore(options: { databaseUrl?: string; dataDir: string; onQueryError?: () => void }): Promise<Store> {
  const log = queryErrorLog(options.onQueryError);
  const store = options.databaseUrl ? openPostgres(options.databaseUrl, log) : openSqlite(options.dataDir, log, options.onQueryError);
  try {
    // Kysely looks for its migration tables in every schema unless told which one: pin it to the
    // connection's own, or a second bridge (or test) in another schema of the database breaks this one.
    const migrationTableSchema =
      store.dialect === 'postgres'
        ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0]?.schema
        : undefined;
    const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect), migrationTableSchema });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      throw new Error(
        `database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

type QueryLog = ((event: LogEvent) => void) | undefined;

/** Kysely reports each failed query to its `log`; only failures are wanted, so the hook ignores the rest. */
function queryErrorLog(onQueryError?: () => void): QueryLog {
  return onQueryError ? (event) => event.level === 'error' && onQueryError() : undefined;
}

function openSqlite(dataDir: string, log: QueryLog, onQueryError?: () => void): Store {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'bridge.sqlite');
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const statements = withStatementCache(database);
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: statements }), log });
  runPreparedQueriesDirectly(db, statements, onQueryError);
  const wal = walSync(`${file}-wal`);
  const checkpoints = walCheckpoints(database, file, (message) => {
    onQueryError?.();
    process.emitWarning(`SQLite checkpoint on the worker thread failed: ${message}`);
  });
  return {
    db,
    dialect: 'sqlite',
    location: file,
    runTransaction: new GroupCommit(db, wal.sync).run,
    close: async () => {
      await checkpoints.close();
      await db.destroy();
      await wal.close();
    },
  };
}

/**
 * fsync of the WAL file on the thread pool: what synchronous=FULL does after each commit, without
 * holding up the event loop (GroupCommit answers its members after it). The file exists from the first
 * write on and keeps its inode while the database is open.
 */
function walSync(walFile: string) {
  let handle: Promise<fs.promises.FileHandle> | undefined;
  return {
    sync: async () => {
      handle ??= fs.promises.open(walFile, 'r');
      try {
        await (await handle).sync();
      } catch (err) {
        handle = undefined;
        throw err;
      }
    },
    close: async () => {
      const open = handle;
      handle = undefined;
      await (await open?.catch(() => undefined))?.close();
    },
  };
}

/**
 * Kysely asks better-sqlite3 to prepare every query it runs, which costs more than running most of ours;
 * our statements are few and repeat, so keep them prepared (bounded, oldest dropped first).
 */
function withStatementCache(database: SqliteDatabase.Database, max = 500) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (statements.size >= max) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

function openPostgres(databaseUrl: string, log: QueryLog): Store {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, Client: PreparingClient });
  const db = new Kysely<Tables>({ dialect: new OwnSchemaPostgresDialect({ pool }), log });
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return {
    db,
    dialect: 'postgres',
    location: url.toString(),
    runTransaction: (work) => inTransaction(db, work),
    close: () => db.destroy(),
  };
}
