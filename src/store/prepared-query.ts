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
    const adapter = db.getExecutor().adapter.constructor;
    let compiled = byDialect.get(adapter);
    if (!compiled) {
      compiled = compile(db);
      byDialect.set(adapter, compiled);
    }
    const { sql, slots, constants } = compiled;
    const parameters = slots.map((slot, i) => (slot === null ? constants[i] : args[slot]));
    return db.executeQuery<R>(CompiledQuery.raw(sql, parameters));
  };
}
