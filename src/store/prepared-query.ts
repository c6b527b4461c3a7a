import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Tables } from './tables.ts';

type Handle = Kysely<Tables>;

interface Compiled {
  sql: string;
  /** For each parameter of the compiled query: the index of the argument it takes, or null for a constant. */
  slots: (number | null)[];
  constants: readonly unknown[];
}

/**
 * A query built and compiled by Kysely once per dialect, then run with new arguments: for the statements
 * every inbound message runs, where building and compiling the query each time cost more than running it.
 * `build` receives placeholders in place of the arguments; each must be used as a value exactly as given
 * (compared, inserted or set; not transformed), since it is found again among the compiled parameters.
 * The same SQL text each time also lets the store keep the statement prepared.
 */
export function preparedQuery<A extends unknown[], R>(
  build: (db: Handle, ...args: A) => Compilable<R>,
): (db: Handle, ...args: A) => Promise<QueryResult<R>> {
  // The declared parameters after the handle (build must not use defaults or a rest parameter).
  const arity = build.length - 1;
  const byDialect = new Map<unknown, Compiled>();
  const compile = (db: Handle): Compiled => {
    const placeholders = Array.from({ length: arity }, (_, i) => `\u0000prepared-query-argument-${i}\u0000`);
    const query = build(db, ...(placeholders as A)).compile();
    const slots = query.parameters.map((p) => {
      const i = placeholders.indexOf(p as string);
      return i >= 0 ? i : null;
    });
    const missing = placeholders.findIndex((_, i) => !slots.includes(i));
    if (missing >= 0) throw new Error(`prepared query: argument ${missing} is not a parameter of ${query.sql}`);
    return { sql: query.sql, slots, constants: query.parameters };
  };
  return (db, ...args) => {
    const adapter = db.getExecutor().adapter;
    let compiled = byDialect.get(adapter.constructor);
    if (!compiled) {
      compiled = compile(db);
      byDialect.set(adapter.constructor, compiled);
    }
    const { sql, slots, constants } = compiled;
    const parameters = slots.map((slot, i) => (slot === null ? constants[i] : args[slot]));
    const direct = db.isTransaction ? sqliteStores.get(adapter) : undefined;
    if (direct) return direct.runOnConnection<R>(sql, parameters);
    return db.executeQuery<R>(CompiledQuery.raw(sql, parameters));
  };
}

/** The SQLite store's own connection, as its statement cache (database.ts). */
export interface SqliteStatements {
  prepare(sql: string): { reader: boolean; all(parameters: readonly unknown[]): unknown[]; run(parameters: readonly unknown[]): SqliteRun };
}
interface SqliteRun {
  changes: number;
  lastInsertRowid: number | bigint;
}

/** Runs one statement on a SQLite store's connection (see runPreparedQueriesDirectly). */
export interface SqliteConnection {
  runOnConnection<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>>;
}

/** SQLite stores, by their Kysely handle's adapter, which every transaction of the handle shares. */
const sqliteStores = new WeakMap<object, SqliteConnection>();

/** The store's connection when `db` is a handle of a SQLite store set up by runPreparedQueriesDirectly. */
export function sqliteConnectionOf(db: Handle): SqliteConnection | undefined {
  return sqliteStores.get(db.getExecutor().adapter);
}

/**
 * On this SQLite store, a prepared query given a transaction runs its statement on the connection itself,
 * as Kysely's SQLite driver would, without Kysely's executor around it (connection provider, mutex,
 * query log: more than the statement costs). Only in a transaction: it holds the store's one connection,
 * so nothing else can run on it meanwhile; through the base handle Kysely still takes its turn for the
 * connection. `onError` stands for Kysely's query log, which reports failed queries (store error metric).
 */
export function runPreparedQueriesDirectly(db: Handle, statements: SqliteStatements, onError?: () => void): void {
  sqliteStores.set(db.getExecutor().adapter, {
    // Named for bench/cpu-profile.ts, which counts the time spent in it as SQL statements.
    runOnConnection<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
      try {
        const statement = statements.prepare(sql);
        if (statement.reader) return Promise.resolve({ rows: statement.all(parameters) as R[] });
        const { changes, lastInsertRowid } = statement.run(parameters);
        return Promise.resolve({ numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] });
      } catch (err) {
        onError?.();
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  });
}
